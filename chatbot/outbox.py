"""The outbox: what must reach someone later, stored in the same transaction as its cause.

A change and its outbox item commit together, so a crash never keeps one without
the other. One DeliveryLoop per destination drains the items at least once: an item is
leased while it is being delivered (a crashed process's lease simply runs out),
retried with capped exponential backoff while the channel is down, and only marked
dead when it can never arrive (the user blocked the bot), and then the office is told.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterator

from sqlite_utils import Database

from chatbot.destinations import Destination
from chatbot.errors import DeliveryError, RetryLater, Undeliverable
from chatbot.messages import OutboxItem
from chatbot.sending_turn import SLOW_SEND_SECONDS, SendingTurn
from chatbot.store import Store, dumps, iso, parse_iso, utcnow

log = logging.getLogger(__name__)


def office_for(school_id: str | None) -> Destination:
    """The destination of one school's office items: only that school's office drains it."""
    return Destination.office(school_id)


def is_office(channel: str | Destination) -> bool:
    """Whether a destination (or an item's stored channel, or any channel name) is an office."""
    destination = _parsed(channel)
    return destination is not None and destination.is_office


def school_of(channel: str | Destination) -> str | None:
    """The school an office destination belongs to (None for any other destination)."""
    destination = _parsed(channel)
    return destination.school if destination is not None and destination.is_office else None


def _parsed(channel: str | Destination) -> Destination | None:
    if isinstance(channel, Destination):
        return channel
    try:
        return Destination.parse(channel)
    except ValueError:  # not a destination at all (e.g. a test's own channel name)
        return None


PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
MAX_ERROR_CHARS = 200


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """BEGIN IMMEDIATE: take the write lock first, so read-then-write is safe across processes.

    A deferred transaction that reads and then writes can fail with "database is
    locked" when another process wrote in between; taking the lock up front makes
    the busy timeout apply instead. Nested use becomes a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def enqueue(
    db: Database,
    *,
    channel: Destination,
    kind: str,
    key: str,
    payload: dict[str, Any],
    concern_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Add an item for `channel` inside the caller's transaction; False if `key` was enqueued before.

    `concern_id` links the item to a concern so purging or forgetting it removes
    the item too.
    """
    if not (isinstance(channel, Destination) and kind and key):
        raise ValueError("an outbox item needs a destination, a kind and a key")
    stamp = iso(now or utcnow())
    cur = db.execute(
        "INSERT INTO outbox (channel, kind, key, payload, status, attempts, next_attempt_at, created_at, concern_id)"
        " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
        [str(channel), kind, key, dumps(payload), PENDING, stamp, stamp, concern_id],
    )
    return cur.rowcount == 1


@dataclass(frozen=True, kw_only=True)
class OutboxRecord:
    """An outbox row with its bookkeeping, for tests and the CLI (adapters get OutboxItem)."""

    id: int
    channel: str
    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    concern_id: int | None


def _optional_time(value: Any) -> datetime | None:
    return parse_iso(value) if value else None


def _record(row: dict[str, Any]) -> OutboxRecord:
    return OutboxRecord(
        id=row["id"],
        channel=row["channel"],
        kind=row["kind"],
        key=row["key"],
        payload=json.loads(row["payload"]),
        status=row["status"],
        attempts=row["attempts"] or 0,
        next_attempt_at=parse_iso(row["next_attempt_at"]),
        created_at=parse_iso(row["created_at"]),
        delivered_at=_optional_time(row["delivered_at"]),
        lease_until=_optional_time(row["lease_until"]),
        last_error=row["last_error"],
        concern_id=row["concern_id"],
    )


class Outbox:
    """Leases, retries and bookkeeping for outbox items; every call goes through the Store."""

    def __init__(self, *, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def claim_due(self, destination: Destination, *, limit: int, lease_seconds: float) -> list[OutboxItem]:
        """Lease up to `limit` items that are due (or whose lease ran out), oldest first."""
        now = self.clock()
        stamp, lease = iso(now), iso(now + timedelta(seconds=lease_seconds))

        def claim(db: Database) -> list[OutboxItem]:
            with write_transaction(db):
                rows = list(
                    db.query(
                        "SELECT id, channel, kind, key, payload, attempts, status FROM outbox WHERE channel = ?"
                        " AND ((status = ? AND next_attempt_at <= ?) OR (status = ? AND COALESCE(lease_until, '') <= ?))"
                        " ORDER BY id LIMIT ?",
                        [str(destination), PENDING, stamp, SENDING, stamp, limit],
                    )
                )
                for row in rows:
                    db.execute(
                        "UPDATE outbox SET status = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                        [SENDING, lease, row["id"]],
                    )
            if reclaimed := [row["id"] for row in rows if row["status"] == SENDING]:
                # A lease ran out: the process delivering it died, perhaps after sending. Counted, as a possible double send.
                log.warning("outbox %s: %d item(s) re-claimed after a lease ran out (possible double send)", destination, len(reclaimed))
            return [
                OutboxItem(
                    id=row["id"],
                    channel=row["channel"],
                    kind=row["kind"],
                    key=row["key"],
                    payload=json.loads(row["payload"]),
                    attempts=(row["attempts"] or 0) + 1,
                )
                for row in rows
            ]

        return await self.store.run(claim)

    async def mark_delivered(self, item_id: int) -> None:
        stamp = iso(self.clock())
        await self.store.run(
            lambda db: db.execute(
                "UPDATE outbox SET status = ?, delivered_at = ?, lease_until = NULL, last_error = NULL WHERE id = ?",
                [DELIVERED, stamp, item_id],
            )
        )

    async def mark_retry(self, item_id: int, *, error: str, after_seconds: float) -> None:
        """Release the lease and try again later; an item delivered meanwhile stays delivered."""
        when = iso(self.clock() + timedelta(seconds=max(0.0, after_seconds)))
        await self.store.run(
            lambda db: db.execute(
                "UPDATE outbox SET status = ?, next_attempt_at = ?, lease_until = NULL, last_error = ?"
                " WHERE id = ? AND status = ?",
                [PENDING, when, error[:MAX_ERROR_CHARS], item_id, SENDING],
            )
        )

    async def mark_dead(self, item_id: int, *, error: str) -> None:
        """Give up on an item; unless it was for the office itself, tell the office (same transaction)."""
        now = self.clock()

        def kill(db: Database) -> None:
            with write_transaction(db):
                db.execute(
                    "UPDATE outbox SET status = ?, lease_until = NULL, last_error = ? WHERE id = ?",
                    [DEAD, error[:MAX_ERROR_CHARS], item_id],
                )
                row = next(iter(db.query("SELECT * FROM outbox WHERE id = ?", [item_id])), None)
                if row is None or is_office(row["channel"]):
                    return
                payload = json.loads(row["payload"])
                school = db.execute("SELECT school_id FROM concerns WHERE id = ?", [row["concern_id"]]).fetchone()
                enqueue(
                    db,
                    channel=office_for(school[0] if school else None),
                    kind="undeliverable",
                    key=f"undeliverable:{row['key']}",
                    payload={"ref": payload.get("ref"), "channel": row["channel"], "kind": row["kind"]},
                    concern_id=row["concern_id"],
                    now=now,
                )

        await self.store.run(kill)

    async def pending_count(self, destination: Destination | None = None) -> int:
        """Items not yet delivered or given up on (waiting or being delivered)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE status IN (?, ?)"
        params: list[Any] = [PENDING, SENDING]
        if destination is not None:
            sql += " AND channel = ?"
            params.append(str(destination))
        return int(await self.store.run(lambda db: db.execute(sql, params).fetchone()[0]))

    async def waiting(self) -> dict[Destination, int]:
        """How many items wait for each destination (pending or being delivered)."""
        rows = await self.store.run(
            lambda db: db.execute(
                "SELECT channel, COUNT(*) FROM outbox WHERE status IN (?, ?) GROUP BY channel ORDER BY channel",
                [PENDING, SENDING],
            ).fetchall()
        )
        waiting: dict[Destination, int] = {}
        for channel, count in rows:
            try:
                waiting[Destination.parse(str(channel))] = int(count)
            except ValueError:  # only a hand-edited database holds one
                log.warning("outbox: %d item(s) for an unknown destination are ignored", count)
        return waiting

    async def items(self, channel: Destination | str | None = None, status: str | None = None) -> list[OutboxRecord]:
        """Items with their bookkeeping, oldest first; `channel` may be given in its stored form."""
        clauses, params = [], []
        if channel is not None:
            clauses.append("channel = ?")
            params.append(str(channel))
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self.store.run(lambda db: list(db.query(f"SELECT * FROM outbox{where} ORDER BY id", params)))
        return [_record(row) for row in rows]


def safe_reason(exc: BaseException, item: OutboxItem) -> str:
    """The exception's class, plus an adapter's own short reason with any payload text cut out.

    Only DeliveryError reasons are kept: adapters write them on purpose. Other
    exceptions' messages may quote the request (message text, phone numbers).
    """
    name = type(exc).__name__
    if not isinstance(exc, DeliveryError):
        return name
    reason = str(exc)
    for value in item.payload.values():
        if isinstance(value, str) and len(value) >= 3:
            reason = reason.replace(value, "[redacted]")
    reason = " ".join(reason.split())[:100]
    return f"{name}: {reason}" if reason else name


class DeliveryLoop:
    """Drains one destination's items through `deliver`, at least once per item."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        destination: Destination,
        deliver: Callable[[OutboxItem], Awaitable[None]],
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        batch: int = 1,
        idle_sleep: float = 0.5,
        lease_seconds: float = 15.0,
        guard: asyncio.Lock | None = None,
        slow_send: float = SLOW_SEND_SECONDS,
    ) -> None:
        """`guard` is held around each send and its bookkeeping; an adapter shares one with its direct replies,
        so at most one message to a platform is ever sent but not yet recorded (what a crash can double).
        A send still running after `slow_send` seconds gives it back (a hung connection holds up no one)."""
        self.outbox = outbox
        self.guard = guard or asyncio.Lock()
        self.destination = destination
        self.deliver = deliver
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self.idle_sleep = idle_sleep
        self.lease_seconds = lease_seconds
        self.slow_send = slow_send

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: doubling, capped at max_delay."""
        return float(min(self.max_delay, self.base_delay * 2 ** min(max(attempts - 1, 0), 32)))

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many were delivered.

        Keeps taking batches while the channel is healthy; after a batch with a
        failure it stops, so a channel that is down is not hammered.
        """
        delivered = 0
        while True:
            items = await self.outbox.claim_due(self.destination, limit=self.batch, lease_seconds=self.lease_seconds)
            failed = False
            for item in items:
                if await self._deliver_one(item):
                    delivered += 1
                else:
                    failed = True
            if failed or len(items) < self.batch:
                return delivered

    async def _deliver_one(self, item: OutboxItem) -> bool:
        async with SendingTurn(lock=self.guard, slow_after=self.slow_send) as turn:
            return await self._send_and_record(item, turn)

    async def _send_and_record(self, item: OutboxItem, turn: SendingTurn) -> bool:
        ref = item.payload.get("ref")
        try:
            await turn.send(self.deliver(item))
        except RetryLater as exc:
            delay = exc.after if exc.after is not None else self.backoff(item.attempts)
            log.info("outbox %s item %s ref=%s: channel asked to retry in %.1fs", self.destination, item.id, ref, delay)
            await self.outbox.mark_retry(item.id, error=safe_reason(exc, item), after_seconds=delay)
            return False
        except Undeliverable as exc:
            log.warning("outbox %s item %s ref=%s is undeliverable; the office will be told", self.destination, item.id, ref)
            await self.outbox.mark_dead(item.id, error=safe_reason(exc, item))
            return False
        except Exception as exc:  # a failing channel must never stop the loop
            delay = self.backoff(item.attempts)
            log.warning(
                "outbox %s item %s ref=%s failed (%s, attempt %d); retry in %.1fs",
                self.destination, item.id, ref, type(exc).__name__, item.attempts, delay,
            )  # fmt: skip
            await self.outbox.mark_retry(item.id, error=safe_reason(exc, item), after_seconds=delay)
            return False
        await self.outbox.mark_delivered(item.id)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, sleeping `idle_sleep` when there is nothing due."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # e.g. the database is busy: try again after a pause
                log.error("outbox %s delivery loop error: %s", self.destination, type(exc).__name__)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.idle_sleep)
