"""The durable inbox: every platform update is stored before the platform is told.

Telegram forgets an update once the bot confirms it (the next getUpdates offset,
or a 200 to a webhook); Slack stops retrying once it is acked. So an adapter first
`put`s the raw update here, then confirms, then handles it, and marks it `done`
only afterwards. A crash in between leaves the update pending, and `pending()`
hands it back at start-up. The unique (channel, key) drops redeliveries.

Privacy: the payload (which may hold message text) is blanked when the update is
done; only the key stays, for a week, so a late redelivery is still recognised.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from sqlite_utils import Database

from chatbot.store import Store, dumps, iso, parse_iso, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # an update that crashed the handler this often is set aside, not replayed for ever


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; kept for the operator


@dataclass(frozen=True, kw_only=True)
class InboxEntry:
    """One stored update: the platform's own key and raw payload."""

    channel: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    received_at: datetime


class Inbox:
    """Put, list pending, start, finish: every call goes through the Store."""

    def __init__(self, *, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def put(self, channel: str, key: str, payload: dict[str, Any]) -> bool:
        """Store one update; False when this key was stored before (a redelivery)."""
        return (await self.put_many(channel, [(key, payload)]))[0]

    async def put_many(self, channel: str, updates: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        """Store a batch in one transaction; for each, whether it is new."""
        stamp = iso(self.clock())
        rows = [(key, dumps(payload)) for key, payload in updates]

        def insert(db: Database) -> list[bool]:
            fresh = []
            with db.atomic():
                for key, payload in rows:
                    cur = db.execute(
                        "INSERT INTO inbox (channel, key, payload, status, attempts, received_at)"
                        " VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT(channel, key) DO NOTHING",
                        [channel, key, payload, InboxStatus.PENDING.value, stamp],
                    )
                    fresh.append(cur.rowcount == 1)
            return fresh

        return await self.store.run(insert)

    async def pending(self, channel: str, *, limit: int = 10_000) -> list[InboxEntry]:
        """Updates stored but not yet handled, oldest first (what a crash left behind)."""

        def read(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    "SELECT channel, key, payload, attempts, received_at FROM inbox"
                    " WHERE status = ? AND channel = ? ORDER BY id LIMIT ?",
                    [InboxStatus.PENDING.value, channel, limit],
                )
            )

        rows = await self.store.run(read)
        return [
            InboxEntry(channel=row["channel"], key=row["key"], payload=json.loads(row["payload"] or "{}"),
                       attempts=row["attempts"] or 0, received_at=parse_iso(row["received_at"]))  # fmt: skip
            for row in rows
        ]

    async def begin(self, channel: str, key: str) -> bool:
        """Count an attempt at handling; False (and set aside) when it has failed too often already."""
        return (await self.begin_many(channel, [key])).get(key, False)

    async def begin_many(self, channel: str, keys: list[str]) -> dict[str, bool]:
        """Count an attempt at each; an update that already failed MAX_ATTEMPTS times is set aside."""
        if not keys:
            return {}
        pending, failed, stamp = InboxStatus.PENDING.value, InboxStatus.FAILED.value, iso(self.clock())

        def start(db: Database) -> dict[str, bool]:
            allowed: dict[str, bool] = {}
            with db.atomic():
                for key in keys:
                    db.execute(
                        "UPDATE inbox SET attempts = attempts + 1 WHERE channel = ? AND key = ? AND status = ?",
                        [channel, key, pending],
                    )
                    row = db.execute("SELECT attempts, status FROM inbox WHERE channel = ? AND key = ?", [channel, key]).fetchone()
                    allowed[key] = row is not None and row[1] == pending and row[0] <= MAX_ATTEMPTS
                    if row is not None and row[1] == pending and not allowed[key]:
                        db.execute(
                            "UPDATE inbox SET status = ?, payload = NULL, done_at = ? WHERE channel = ? AND key = ?",
                            [failed, stamp, channel, key],
                        )
            return allowed

        allowed = await self.store.run(start)
        if refused := [key for key, ok in allowed.items() if not ok]:
            log.error("inbox %s: %d update(s) set aside after failing %d times", channel, len(refused), MAX_ATTEMPTS)
        return allowed

    async def done(self, channel: str, key: str) -> None:
        """Handled: forget the payload, keep the key so a redelivery is recognised."""
        await self.store.run(
            lambda db: db.execute(
                "UPDATE inbox SET status = ?, payload = NULL, done_at = ? WHERE channel = ? AND key = ?",
                [InboxStatus.DONE.value, iso(self.clock()), channel, key],
            )
        )

    async def seen_before(self, channel: str, key: str) -> bool:
        """For adapters whose platform handles the update itself: record it done now; False if new."""
        stamp = iso(self.clock())
        inserted = await self.store.run(
            lambda db: db.execute(
                "INSERT INTO inbox (channel, key, status, attempts, received_at, done_at)"
                " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(channel, key) DO NOTHING",
                [channel, key, InboxStatus.DONE.value, stamp, stamp],
            ).rowcount
        )
        return not inserted

    async def counts(self, channel: str | None = None) -> dict[InboxStatus, int]:
        where, params = ("WHERE channel = ?", [channel]) if channel else ("", [])
        rows = await self.store.run(
            lambda db: db.execute(f"SELECT status, COUNT(*) FROM inbox {where} GROUP BY status", params).fetchall()
        )
        found = {InboxStatus(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in InboxStatus}

    async def trim(self, *, older_than: datetime) -> int:
        """Forget handled keys older than any redelivery could be (the table would grow for ever)."""
        cutoff = iso(older_than)
        return int(
            await self.store.run(
                lambda db: db.execute(
                    "DELETE FROM inbox WHERE status != ? AND COALESCE(done_at, received_at) < ?",
                    [InboxStatus.PENDING.value, cutoff],
                ).rowcount
            )
        )
