"""Slack listeners that the app can wait for on stop, that mark their request done, and whose failures are
logged without their text.

Each listener is wrapped: once it returns (a handled failure included) its request
is marked done in the inbox; an exception that escapes leaves it pending, so it is
tried again at the next start and set aside after chatbot.inbox.MAX_ATTEMPTS.
Bolt passes a listener only the arguments its signature names, so the wrapper's
signature is the listener's own plus Bolt's `context` (where the inbox key is).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping
from typing import Any, Awaitable, Callable, ParamSpec, Protocol, cast

from chatbot.boundary import where

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Finishes(Protocol):
    """Marks a request done once it is handled (adapters/slack/intake.py)."""

    async def done(self, context: Mapping[str, Any]) -> None: ...


class Tracker(Protocol):
    """What a room wraps each of its listeners in when it registers them."""

    def __call__(self, fn: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]: ...


class Listeners:
    """Tracks running listeners: `track(fn)` is a Tracker; `later()` runs work after an ack; `drain()` waits."""

    def __init__(self, *, finishes: Finishes) -> None:
        self.finishes = finishes
        self._inflight: set[asyncio.Task[Any]] = set()

    def track(self, fn: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        signature = inspect.signature(fn)
        wants_context = "context" in signature.parameters
        listener = cast(Callable[..., Awaitable[None]], fn)

        async def run(**kwargs: Any) -> None:
            context = kwargs["context"] if wants_context else kwargs.pop("context", None)
            await self._run(fn.__name__, lambda: listener(**kwargs), context or {})

        run.__name__, run.__qualname__, run.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        if not wants_context:
            extra = inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)
            signature = signature.replace(parameters=[*signature.parameters.values(), extra])
        setattr(run, "__signature__", signature)  # what Bolt reads to choose the arguments it passes
        return cast(Callable[P, Awaitable[None]], run)

    def later(self, context: Mapping[str, Any], name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` after the ack (a middleware can't wait), tracked and marked done like a listener."""
        task = asyncio.create_task(self._run(name, work, context), name=f"slack-{name}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def finished(self, context: Mapping[str, Any]) -> None:
        """A request handled without a listener (a middleware refused it in its ack): mark it done."""
        await self.finishes.done(context)

    async def _run(self, name: str, work: Callable[[], Awaitable[None]], context: Mapping[str, Any]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work()
        except Exception as exc:  # left pending in the inbox: tried again at the next start
            log.error("slack listener %s failed: %s at %s", name, type(exc).__name__, where(exc))
        else:
            await self.finishes.done(context)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def drain(self, timeout: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)
