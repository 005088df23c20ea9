"""Answers sent straight back to a person, not through the outbox: retried a few times.

A staff question is answered at once (chat.postMessage, chat.postEphemeral, or the
request's response_url). If Slack answers 429, a 5xx, or not in time, slack_sdk's
own retry handlers send the same call again, a bounded number of times: after
Retry-After for a 429, after a short doubling pause otherwise. If every try fails
the listener fails (the inbox keeps the request for the next start); nothing
apologises, so an answer that did arrive is never followed by a wrong apology.
The pause goes through `Pacing.sleep`, so tests need not wait for real.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientOSError, ServerConnectionError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from chatbot.errors import DeliveryError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Pacing:
    """How hard a direct answer tries: retries after the first attempt, seconds per attempt, pauses."""

    retries: int = 3
    timeout: int = 10
    backoff: float = 0.5  # first pause after a 5xx or a timeout; doubles each time
    longest_wait: float = 30.0  # a Retry-After longer than this is not waited for
    sleep: Sleep = asyncio.sleep


def retry_after(response: HttpResponse | None) -> float:
    """Slack's Retry-After in seconds (1 if it gave none)."""
    for name, values in (response.headers if response is not None else {}).items():
        if name.lower() == "retry-after":
            with suppress(ValueError, IndexError):
                return max(0.0, float(values[0] if isinstance(values, list) else values))
    return 1.0


class _Paced(AsyncRetryHandler):
    """A retry handler whose tries and pauses come from Pacing, so one place sleeps (on the injected clock)."""

    def __init__(self, pacing: Pacing, **options: Any) -> None:
        super().__init__(max_retry_count=pacing.retries, **options)
        self.pacing = pacing

    def pause(self, state: RetryState, response: HttpResponse | None) -> float:
        """Seconds to wait before the next try: a short doubling pause unless a handler says otherwise."""
        return self.pacing.backoff * 2.0**state.current_attempt

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:  # fmt: skip
        state.next_attempt_requested = True
        await self.pacing.sleep(self.pause(state, response))
        state.increment_current_attempt()


class RateLimitRetry(_Paced, AsyncRateLimitErrorRetryHandler):
    """Slack's 429: wait as long as Retry-After asks (unless that is too long), then try again."""

    def pause(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after(response)

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # fmt: skip
        limited = await super()._can_retry_async(state=state, request=request, response=response, error=error)
        return limited and retry_after(response) <= self.pacing.longest_wait


class ServerErrorRetry(_Paced, AsyncServerErrorRetryHandler):
    """Any 5xx (slack_sdk's own handler takes only 500 and 503), after a short doubling pause."""

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # fmt: skip
        return response is not None and response.status_code >= 500


class TimeoutRetry(_Paced, AsyncConnectionErrorRetryHandler):
    """No answer in time, or the connection dropped: try again after a short doubling pause."""

    def __init__(self, pacing: Pacing) -> None:
        errors: list[type[Exception]] = [ServerConnectionError, ClientOSError, asyncio.TimeoutError]
        super().__init__(pacing, error_types=errors)


def retry_handlers(pacing: Pacing) -> list[AsyncRetryHandler]:
    return [RateLimitRetry(pacing), ServerErrorRetry(pacing), TimeoutRetry(pacing)]


class DirectAnswers:
    """The Web API client and response_url sender for answers given at once (never for the outbox)."""

    def __init__(self, *, token: str | None, api_url: str, pacing: Pacing = Pacing()) -> None:
        self.pacing = pacing
        self.client = AsyncWebClient(
            token=token, base_url=api_url, timeout=pacing.timeout, retry_handlers=retry_handlers(pacing)
        )

    async def respond(self, response_url: str, **message: Any) -> None:
        """Post to the request's response_url; raises DeliveryError once every try has failed."""
        hook = AsyncWebhookClient(url=response_url, timeout=self.pacing.timeout, retry_handlers=retry_handlers(self.pacing))
        answer = await hook.send(**message)
        if answer.status_code != 200:
            raise DeliveryError(f"slack response_url answered HTTP {answer.status_code}")
