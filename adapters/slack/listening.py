"""Slack listeners that the app can wait for on stop, and whose failures are logged without their text."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, ParamSpec, Protocol

from chatbot.boundary import where

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Tracker(Protocol):
    """What a room wraps each of its listeners in when it registers them."""

    def __call__(self, fn: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]: ...


class Listeners:
    """Tracks running listeners: `track(fn)` is a Tracker; `drain()` waits for those still running."""

    def __init__(self) -> None:
        self._inflight: set[asyncio.Task[Any]] = set()

    def track(self, fn: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await fn(*args, **kwargs)
            except Exception as exc:
                log.error("slack listener %s failed: %s at %s", fn.__name__, type(exc).__name__, where(exc))
            finally:
                if task is not None:
                    self._inflight.discard(task)

        return run

    async def drain(self, timeout: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)
