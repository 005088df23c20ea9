"""Slack's Web API failures in the delivery loop's vocabulary: wait, give up, or back off."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

import aiohttp
from slack_sdk.errors import SlackApiError

from chatbot.errors import DeliveryError, RetryLater, Undeliverable

# A chat we can never post to again; a card that is gone (post a new one); Slack having a bad moment.
DEAD_CHAT_ERRORS = frozenset({"channel_not_found", "not_in_channel", "account_inactive", "is_archived", "user_not_found"})
LOST_CARD_ERRORS = frozenset({"message_not_found", "cant_update_message"})
# Slack will never take this card as it is: retrying changes nothing, a plain card must stand in for it.
REFUSED_CARD_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})
SERVER_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def retry_after(err: SlackApiError) -> float | None:
    headers = getattr(err.response, "headers", None) or {}
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            with suppress(ValueError):
                return float(value)
    return None


def error_code(err: SlackApiError) -> str:
    data = getattr(err.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def delivery_error(err: SlackApiError, dead: frozenset[str]) -> DeliveryError:
    """Slack's answer as the delivery loop's vocabulary: wait, give up, or back off."""
    status, code = int(getattr(err.response, "status_code", 0) or 0), error_code(err)
    if status == 429 or code == "ratelimited":
        return RetryLater("slack ratelimited", after=retry_after(err))
    if status >= 500 or code in SERVER_ERRORS:
        return RetryLater(f"slack unavailable (HTTP {status} {code})".strip())
    if code in dead:
        return Undeliverable(f"slack: {code}")
    return DeliveryError(f"slack error: {code or status}")


@asynccontextmanager
async def slack_errors(dead: frozenset[str] = frozenset()) -> AsyncIterator[None]:
    """Map Web API and connection failures raised inside the block to DeliveryError subclasses."""
    try:
        yield
    except SlackApiError as err:
        raise delivery_error(err, dead) from err
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
        raise RetryLater(f"slack unreachable ({type(err).__name__})") from err


def error_code_of(err: DeliveryError) -> str:
    """The Slack error code behind a mapped DeliveryError, if it came from the Web API."""
    cause = err.__cause__
    return error_code(cause) if isinstance(cause, SlackApiError) else ""
