"""The adapter contract: start, stop, the destinations it drains, and deliver an item addressed to one of them.

`chatbot serve` runs one DeliveryLoop per declared destination (adapters/serve.py),
paced by the adapter's `timing`; an adapter never runs its own loops.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from chatbot.destinations import Destination
from chatbot.messages import OutboxItem


@dataclass(frozen=True, kw_only=True)
class DeliveryTiming:
    """How an adapter's delivery loops pace themselves; tests shorten these."""

    base_delay: float = 1.0  # first wait after a failed try, doubled each time
    max_delay: float = 300.0
    idle_sleep: float = 0.5  # how long a loop with nothing due waits before looking again


class Adapter(Protocol):
    """What `chatbot serve` runs. `deliver` raises chatbot.errors.RetryLater or Undeliverable."""

    @property
    def name(self) -> str: ...

    @property
    def destinations(self) -> tuple[Destination, ...]:
        """The outbox destinations this adapter drains."""
        ...

    @property
    def timing(self) -> DeliveryTiming: ...

    @property
    def sending(self) -> asyncio.Lock:
        """Held around each send to the platform and its record (inbox done, outbox delivered), by the
        adapter's direct replies and serve's delivery loops alike: a crash can then double at most one."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, item: OutboxItem) -> None: ...
