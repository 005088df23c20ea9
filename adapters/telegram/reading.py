"""What a Telegram message amounts to: text, a command, media, or nothing for us."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, MessageEntity
from telegram.constants import ChatType

from chatbot.messages import InputKind

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
# Checked in this order: an animation also carries a document, a venue a location.
MEDIA = (
    ("photo", "photo"), ("sticker", "sticker"), ("voice", "voice"), ("video", "video"),
    ("video_note", "video"), ("animation", "animation"), ("audio", "audio"), ("document", "document"),
    ("venue", "location"), ("location", "location"), ("contact", "contact"), ("poll", "poll"),
    ("dice", "dice"), ("story", "story"),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Heard:
    """A message as the engine will see it."""

    kind: InputKind
    text: str = ""
    command: str | None = None
    media: str | None = None


def _mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}\b", re.IGNORECASE)


def command_of(message: Message) -> tuple[str, str, str] | None:
    """(name, @target, arguments) when the text starts with a bot command."""
    entities = message.entities
    if not message.text or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    token = message.parse_entity(first)
    name, _, target = token[1:].partition("@")
    return name.lower(), target, message.text[len(token) :].strip()


def media_kind(message: Message) -> str | None:
    for attribute, media in MEDIA:
        if getattr(message, attribute, None):
            return media
    return None


def addressed(message: Message, *, bot_id: int, bot_username: str) -> bool:
    """In a group the bot speaks only when spoken to: a mention, a reply to it, a command."""
    if message.chat.type not in GROUP_CHATS:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    if _mention(bot_username).search(message.text or message.caption or ""):
        return True
    return command_of(message) is not None


def hear(message: Message, *, edited: bool, bot_username: str) -> Heard | str | None:
    """Something for the engine, a notice the adapter gives itself (str), or nothing (service messages)."""
    if edited or message.forward_origin is not None:
        # Not answered as a question, but still read by the safeguarding screen in the engine.
        return Heard(
            kind=InputKind.UNSUPPORTED, media="edited" if edited else "forwarded", text=message.text or message.caption or ""
        )
    if message.text is not None:
        command = command_of(message)
        if command is None:
            return Heard(kind=InputKind.TEXT, text=_mention(bot_username).sub("", message.text).strip())
        name, target, args = command
        if target and target.lower() != bot_username.lower():
            return None  # a command for another bot in the group
        return Heard(kind=InputKind.COMMAND, command=name, text=args)
    if message.caption:
        return Heard(kind=InputKind.TEXT, text=_mention(bot_username).sub("", message.caption).strip())
    media = media_kind(message)
    return Heard(kind=InputKind.UNSUPPORTED, media=media) if media else None
