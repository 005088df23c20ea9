"""Slack staff chat: staff ask about the code of conduct, and hear back from the office.

Staff reach the engine three ways (a direct message, an @mention answered in a
thread, and `/policy` answered ephemerally); each becomes one `Incoming` with
audience STAFF, and the answer goes straight back through DirectAnswers (retried
on a 429, a 5xx or a timeout). This room also drains the "slack" outbox: office
replies to a member of staff who raised a concern here.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as kit
from adapters.slack.answers import DirectAnswers
from adapters.slack.listening import Tracker
from adapters.slack.web_api import DEAD_CHAT_ERRORS, slack_errors
from chatbot import boundary
from chatbot.errors import Undeliverable
from chatbot.messages import Audience, Incoming, InputKind, OutboxItem, Reply, Visibility

log = logging.getLogger(__name__)

CHANNEL = "slack"
COMMAND = "/policy"
COMMAND_WORDS = frozenset({"help", "start", "school", "privacy", "concerns", "forget", "cancel"})

class Handles(Protocol):
    """The one thing staff chat needs from the engine."""

    async def handle(self, incoming: Incoming) -> Reply: ...


def is_dm(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


def private_chat(channel_id: str | None, user_id: str) -> str:
    """Where later replies go: the DM if we are in one, else the person's DM (never a shared channel)."""
    return str(channel_id) if is_dm(channel_id) else user_id


def message_content(event: dict[str, Any]) -> tuple[InputKind, str, str | None]:
    """(kind, text, media) for a message event; a file with no words is something we can't read."""
    text = kit.plain_text(str(event.get("text") or ""))
    if not text and event.get("files"):
        return InputKind.UNSUPPORTED, "", "document"
    return InputKind.TEXT, text, None


def command_content(text: str) -> tuple[InputKind, str, str | None]:
    """`/policy help` is the help command; `/policy` alone too; anything else is a question."""
    words = kit.plain_text(text)
    if not words:
        return InputKind.COMMAND, "", "help"
    if words.lower() in COMMAND_WORDS:
        return InputKind.COMMAND, "", words.lower()
    return InputKind.TEXT, words, None


class StaffChat:
    """Questions in, answers out, for staff; concern replies are kept out of shared channels."""

    def __init__(
        self, *, client: AsyncWebClient, answers: DirectAnswers, engine: Handles, school_id: str
    ) -> None:  # fmt: skip
        self.client = client  # the outbox's: its loop retries
        self.answers = answers
        self.engine = engine
        self.school_id = school_id

    def register(self, app: AsyncApp, tracked: Tracker) -> None:
        app.event("message")(tracked(self._on_message))
        app.event("app_mention")(tracked(self._on_mention))
        app.command(COMMAND)(tracked(self._on_command))
        app.action(re.compile(f"^{kit.CHOICE_PREFIX}\\d+$"))(tracked(self._on_choice))

    def _incoming(
        self, *, user_id: str, chat_id: str, content: tuple[InputKind, str, str | None], is_group: bool
    ) -> Incoming:
        kind, text, extra = content
        return Incoming(
            channel=CHANNEL, user_id=user_id, chat_id=chat_id, school_id=self.school_id, audience=Audience.STAFF,
            kind=kind, text=text, is_group=is_group,
            command=extra if kind is InputKind.COMMAND else None,
            media=extra if kind is InputKind.UNSUPPORTED else None,
        )  # fmt: skip

    async def _answer(self, incoming: Incoming) -> Reply:
        return await boundary.answer(self.engine.handle, incoming)

    async def _post(self, *, channel: str, user: str, thread_ts: str | None, reply: Reply) -> None:
        """In a DM, post; in a shared channel, post in the thread, or only to the asker if the engine says so."""
        text, blocks = kit.reply_text(reply), kit.reply_blocks(reply)
        client = self.answers.client
        if is_dm(channel) or reply.visibility is Visibility.PUBLIC:
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts)
        else:
            await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts)

    async def _on_message(self, event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") not in (None, "file_share"):
            return
        user, channel = str(event["user"]), str(event["channel"])
        incoming = self._incoming(user_id=user, chat_id=channel, content=message_content(event), is_group=False)
        reply = await self._answer(incoming)
        await self._post(channel=channel, user=user, thread_ts=event.get("thread_ts"), reply=reply)

    async def _on_mention(self, event: dict[str, Any]) -> None:
        if event.get("bot_id") or not event.get("user") or is_dm(event.get("channel")):
            return
        user, channel = str(event["user"]), str(event["channel"])
        incoming = self._incoming(
            user_id=user, chat_id=private_chat(channel, user), content=message_content(event), is_group=True
        )
        reply = await self._answer(incoming)
        await self._post(channel=channel, user=user, thread_ts=event.get("thread_ts") or event.get("ts"), reply=reply)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user, channel = str(body["user_id"]), body.get("channel_id")
        incoming = self._incoming(
            user_id=user, chat_id=private_chat(channel, user), content=command_content(str(body.get("text") or "")),
            is_group=not is_dm(channel),
        )  # fmt: skip
        reply = await self._answer(incoming)
        await self.answers.respond(
            str(body["response_url"]), text=kit.reply_text(reply), blocks=kit.reply_blocks(reply), response_type="ephemeral"
        )

    async def _on_choice(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A button on one of our answers: back to the engine as an ACTION, answered where it was pressed."""
        await ack()
        user = str(body["user"]["id"])
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        incoming = Incoming(
            channel=CHANNEL, user_id=user, chat_id=private_chat(channel, user), school_id=self.school_id,
            audience=Audience.STAFF, kind=InputKind.ACTION, action=str(action.get("value") or ""),
            is_group=not is_dm(channel),
        )  # fmt: skip
        reply = await self._answer(incoming)
        if container.get("is_ephemeral") or not channel or "message" not in body:
            await self.answers.respond(
                str(body["response_url"]), text=kit.reply_text(reply), blocks=kit.reply_blocks(reply),
                response_type="ephemeral", replace_original=False,
            )  # fmt: skip
            return
        await self._post(channel=str(channel), user=user, thread_ts=body["message"].get("thread_ts"), reply=reply)

    async def deliver(self, item: OutboxItem) -> None:
        """An office reply to a member of staff who raised a concern on Slack."""
        chat_id, text = item.payload.get("chat_id"), item.payload.get("text")
        if item.kind != "message" or not chat_id or not isinstance(text, str):
            raise Undeliverable(f"cannot deliver a {item.kind!r} item without a chat and text")
        async with slack_errors(DEAD_CHAT_ERRORS):
            await self.client.chat_postMessage(channel=str(chat_id), text=kit.escape(text), unfurl_links=False)
