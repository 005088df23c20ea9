"""The adapter contract: start, stop, and deliver an outbox item addressed to one of its destinations."""

from __future__ import annotations

from typing import Protocol

from chatbot.destinations import Destination
from chatbot.messages import OutboxItem


class Adapter(Protocol):
    """What `chatbot serve` runs. `deliver` raises chatbot.errors.RetryLater or Undeliverable."""

    @property
    def name(self) -> str: ...

    @property
    def destinations(self) -> tuple[Destination, ...]:
        """The outbox destinations this adapter drains."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, item: OutboxItem) -> None: ...
