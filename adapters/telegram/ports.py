"""The narrow ports the Telegram adapter is given instead of the whole runtime.

`chatbot serve` (adapters/serve.py) fills them from the Runtime; tests and
benchmarks may pass stand-ins. Each names only the calls the adapter makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from chatbot.inbox import InboxEntry
from chatbot.messages import Incoming, Reply


class Handles(Protocol):
    """The conversation: one message in, one reply out (the engine)."""

    async def handle(self, incoming: Incoming) -> Reply: ...


class UpdateInbox(Protocol):
    """Where updates are stored before Telegram is told, and marked done once answered (chatbot.inbox.Inbox)."""

    async def put_many(self, channel: str, updates: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]: ...

    async def begin_many(self, channel: str, keys: list[str]) -> dict[str, bool]: ...

    async def pending(self, channel: str, *, limit: int = ...) -> list[InboxEntry]: ...

    async def done(self, channel: str, key: str) -> None: ...
