"""The one message model that every adapter translates to and from.

Adapters turn a platform update into an `Incoming`, hand it to the engine, and
render the `Reply` they get back. Nothing here knows about Telegram or Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chatbot.actions import Action, encode


class Audience(StrEnum):
    """Who is asking: parents get the parents' policy, staff the code of conduct."""

    PARENT = "parent"
    STAFF = "staff"


class Visibility(StrEnum):
    """Who may see a reply: everyone in the chat, or only the person who asked.

    The engine decides; adapters translate (Slack: an ephemeral message in a
    shared channel; Telegram: a quoted reply with a link to the private chat,
    the engine having left out anything private).
    """

    PUBLIC = "public"
    ASKER = "asker"


class InputKind(StrEnum):
    """What the user sent: words, a button press, a command, or something we can't read."""

    TEXT = "text"
    ACTION = "action"
    COMMAND = "command"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """One thing a user sent, in platform-neutral form.

    `user_id` is the platform's opaque id for the person; `chat_id` is where a
    later reply (from the office) should go. `action` carries a button's payload,
    `command` a slash command's name with its argument in `text`, `media` the kind
    of unsupported content (photo, sticker, voice...).
    """

    channel: str
    user_id: str
    chat_id: str
    school_id: str
    audience: Audience
    kind: InputKind = InputKind.TEXT
    text: str = ""
    action: str | None = None
    command: str | None = None
    media: str | None = None
    is_group: bool = False


@dataclass(frozen=True, kw_only=True)
class Button:
    """A choice offered to the user; its `payload` is the action's short wire form (Telegram allows 64 bytes)."""

    label: str
    action: Action

    @property
    def payload(self) -> str:
        return encode(self.action)


@dataclass(frozen=True, kw_only=True)
class Citation:
    """A policy section an answer relies on, quoted so the user can check it."""

    school_id: str
    section_id: str
    title: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {
            "school": self.school_id,
            "section_id": self.section_id,
            "title": self.title,
            "text": self.text,
        }


@dataclass(frozen=True, kw_only=True)
class Reply:
    """What the bot says back: text, optional buttons, the clauses it cites.

    `intent` and `confidence` say how the engine understood the message; `urgent`
    marks safeguarding; `concern_ref` names a concern the turn opened;
    `visibility` says whether others in a shared chat may see it.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    citations: tuple[Citation, ...] = ()
    intent: str | None = None
    confidence: float = 0.0
    urgent: bool = False
    concern_ref: str | None = None
    visibility: Visibility = Visibility.PUBLIC

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "text": self.text,
            "buttons": [{"label": b.label, "action": b.payload} for b in self.buttons],
            "citations": [c.as_dict() for c in self.citations],
            "urgent": self.urgent,
            "concern_ref": self.concern_ref,
            "visibility": self.visibility.value,
        }


@dataclass(frozen=True, kw_only=True)
class OutboxItem:
    """Something that must reach someone later, drained by one channel's delivery loop.

    `channel` is the destination (e.g. "telegram" for a parent, "office:orchard"
    for Orchard's office queue); `key` is the idempotency key, unique per item.
    """

    id: int
    channel: str
    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
