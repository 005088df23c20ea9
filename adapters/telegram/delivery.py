"""Sending to Telegram: a rendered reply now, or an outbox item (an office reply) later.

Outbox delivery answers in the DeliveryLoop's vocabulary: RetryLater (with
Telegram's own wait on a 429) or Undeliverable (blocked, moved, refused).
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram.rendering import split_text
from chatbot.errors import RetryLater, Undeliverable
from chatbot.messages import OutboxItem
from chatbot.sending_turn import SendingTurn

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 30.0  # longest we hold a conversation to honour a 429 on a direct reply
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
DIRECT_ATTEMPTS = 4  # a direct reply is tried this many times before the error handler apologises
BACKOFF_SECONDS = 0.25  # first wait after a 5xx or a timeout; doubled each time


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def deliver(bot: Bot, item: OutboxItem) -> None:
    """Send an office reply to a parent; tells the DeliveryLoop whether to retry or give up."""
    chat_id, text = item.payload.get("chat_id"), item.payload.get("text")
    if item.kind != "message":
        raise Undeliverable(f"Telegram cannot deliver a {item.kind!r} item")
    if not chat_id or not isinstance(text, str) or not text.strip():
        raise Undeliverable("the item has no chat or no text")
    try:
        for chunk in split_text(text):
            await bot.send_message(chat_id=chat_id, text=chunk, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
    except RetryAfter as exc:
        raise RetryLater("Telegram asked us to slow down", after=retry_seconds(exc)) from exc
    except Forbidden as exc:
        raise Undeliverable("the user has blocked the bot") from exc
    except ChatMigrated as exc:
        raise Undeliverable("the chat has moved") from exc
    except BadRequest as exc:
        raise Undeliverable("Telegram refused the message (chat not found?)") from exc
    except NetworkError as exc:  # TimedOut included
        raise RetryLater("network trouble reaching Telegram") from exc
    except TelegramError as exc:
        raise RetryLater(f"Telegram error {type(exc).__name__}") from exc


async def send(
    bot: Bot, chat_id: int, chunks: list[str], *, turn: SendingTurn, markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> None:
    """Send a rendered reply, each try in the sender's `turn`; its buttons go with the last part."""
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        sent = await _send_one(
            bot, chat_id, chunk, markup=markup if last else None, reply_to=reply_to if index == 0 else None, turn=turn
        )
        if not sent:
            return


async def _send_one(
    bot: Bot, chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None, reply_to: int | None, turn: SendingTurn
) -> bool:
    """One message, through a bounded retry; False when the person has blocked the bot.

    A 429 is waited out (up to MAX_INLINE_WAIT); a 5xx, a timeout or a dropped connection is tried again
    after a short back-off, DIRECT_ATTEMPTS times in all, so a passing fault never leaves a parent unanswered.
    A request Telegram refuses as bad (BadRequest) is not retried: it would fail the same way.
    The waits, and a send that hangs, give the turn back so other parents' answers go ahead.
    """
    quote = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    for attempt in range(1, DIRECT_ATTEMPTS + 1):
        try:
            await turn.send(bot.send_message(
                chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
                link_preview_options=NO_PREVIEW, reply_parameters=quote,
            ))  # fmt: skip
            return True
        except RetryAfter as exc:
            if attempt == DIRECT_ATTEMPTS:
                raise
            await turn.wait(min(retry_seconds(exc), MAX_INLINE_WAIT))
        except Forbidden:
            log.info("telegram chat=%s has blocked the bot; reply dropped", chat_id)
            return False
        except BadRequest:
            raise
        except NetworkError as exc:  # 5xx, TimedOut, connection trouble
            if attempt == DIRECT_ATTEMPTS:
                raise
            log.info("telegram chat=%s: reply attempt %d failed (%s); trying again", chat_id, attempt, type(exc).__name__)
            await turn.wait(BACKOFF_SECONDS * 2 ** (attempt - 1))
    return False
