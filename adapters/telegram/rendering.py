"""The core's Reply as Telegram HTML: escaped text, cited clauses, an inline keyboard."""

from __future__ import annotations

import html
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chatbot.messages import Button, Reply

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # Telegram's cap, in UTF-16 code units after entity parsing
QUOTE_CHARS = 700  # a cited clause longer than this is shortened
CALLBACK_DATA_BYTES = 64
PRIVATE_BUTTON_LABEL = "Message me privately"


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _hard_cut(token: str, limit: int) -> list[str]:
    """Cut one overlong word into escaped pieces that each fit."""
    pieces, current = [], ""
    for ch in token:
        if _units(escape(current + ch)) > limit:
            pieces.append(escape(current))
            current = ""
        current += ch
    return pieces + [escape(current)] if current else pieces


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Escape plain text and cut it at word ends so every piece fits one message."""
    pieces: list[str] = []
    current, size = "", 0
    for token in re.findall(r"\S+\s*|\s+", text):
        cost = _units(escape(token))
        if size + cost <= limit:
            current, size = current + escape(token), size + cost
            continue
        if current.strip():
            pieces.append(current.rstrip())
        if cost <= limit:
            current, size = escape(token), cost
        else:
            *whole, current = _hard_cut(token, limit)
            pieces.extend(whole)
            size = _units(current)
    if current.strip():
        pieces.append(current.rstrip())
    return pieces or [escape(text.strip()) or "…"]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + " …"


def citation_html(title: str, quote: str) -> str:
    """A cited section: its title on a 📖 line, the clause quoted beneath it."""
    return f"📖 <b>{escape(title)}</b>\n<blockquote>{escape(_shorten(quote, QUOTE_CHARS))}</blockquote>"


def render(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as one or more HTML messages, each within Telegram's length limit."""
    blocks = split_text(reply.text, limit) + [citation_html(c.title, c.text) for c in reply.citations]
    messages: list[str] = []
    for block in blocks:
        if messages and _units(messages[-1]) + 2 + _units(block) <= limit:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button a row (labels can be long); a payload over Telegram's 64 bytes is left out."""
    rows = []
    for button in buttons:
        if len(button.payload.encode()) > CALLBACK_DATA_BYTES:
            log.warning("telegram: button action over %d bytes left out (%s)", CALLBACK_DATA_BYTES, button.payload[:20])
            continue
        rows.append([InlineKeyboardButton(button.label, callback_data=button.payload)])
    return InlineKeyboardMarkup(rows) if rows else None


def link_keyboard(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(PRIVATE_BUTTON_LABEL, url=url)]])
