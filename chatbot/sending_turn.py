"""One send's turn at the platform's sending lock (a direct answer, or an outbox item).

The lock keeps at most one answer sent but not yet recorded, which is all a crash
can double. A turn is taken to send and given back for anything that isn't a
healthy send: a wait before trying again (a 429, a back-off), and a send that has
run longer than a healthy one does (a hung connection), so one parent's trouble
never holds up every other parent's answer for the length of a client timeout.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

SLOW_SEND_SECONDS = 1.0  # a healthy send (a Telegram message, a Slack card) answers well within this; past it, the turn is given back


class SendingTurn:
    """Holds the sending lock only while a send is healthy; `async with` gives it back at the end."""

    def __init__(self, *, lock: asyncio.Lock, sleep: Sleep = asyncio.sleep, slow_after: float = SLOW_SEND_SECONDS) -> None:
        self._lock = lock
        self._sleep = sleep
        self._slow_after = slow_after
        self.held = False

    async def __aenter__(self) -> SendingTurn:
        await self.take()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.give_back()

    async def take(self) -> None:
        if not self.held:
            await self._lock.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self._lock.release()
            self.held = False

    async def wait(self, seconds: float) -> None:
        """Wait before trying again, without the lock; take it again to try."""
        self.give_back()
        await self._sleep(seconds)
        await self.take()

    async def send(self, attempt: Awaitable[T]) -> T:
        """Run one send under the turn; if it is still running after `slow_after`, give the turn back and go on waiting."""
        await self.take()
        task = asyncio.ensure_future(attempt)
        try:
            done, _ = await asyncio.wait({task}, timeout=self._slow_after)
            if not done:
                self.give_back()  # a hung send: others go ahead while it finishes or times out
            return await task
        finally:
            task.cancel()  # only matters when this caller was cancelled mid-send
