"""SQLite storage via sqlite-utils: one file, WAL, foreign keys, migrations.

A file database refuses use from another thread, and the bot is async, so every
database call runs on one dedicated worker thread (`Store.run`). Writes across
processes (the CLI beside a running bot) are serialised by SQLite itself; a busy
timeout makes them wait instead of failing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

T = TypeVar("T")

migrations = Migrations("chatbot")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("conversations").create(
        {
            "channel": str,
            "user_id": str,
            "school_id": str,
            "audience": str,
            "flow": str,
            "step": str,
            "data": str,
            "updated_at": str,
        },
        pk=("channel", "user_id"),
    )
    db.table("concerns").create(
        {
            "id": int,
            "ref": str,
            "school_id": str,
            "channel": str,
            "user_id": str,
            "chat_id": str,
            "audience": str,
            "category": str,
            "urgent": int,
            "status": str,
            "summary": str,
            "contact_method": str,
            "phone": str,
            "consent": int,
            "created_at": str,
            "due_at": str,
            "claimed_by": str,
            "claimed_at": str,
            "resolved_at": str,
            "office_post_ref": str,
            "reminded_at": str,
        },
        pk="id",
        not_null={"ref", "school_id", "channel", "user_id", "chat_id", "category", "status", "created_at", "due_at"},
        defaults={"urgent": 0, "consent": 0, "status": "open"},
    )
    db.table("concerns").create_index(["ref"], unique=True)
    db.table("concerns").create_index(["channel", "user_id"])
    db.table("concerns").create_index(["status", "due_at"])
    db.table("events").create(
        {"id": int, "concern_id": int, "at": str, "actor": str, "action": str, "detail": str},
        pk="id",
        foreign_keys=[("concern_id", "concerns", "id")],
    )
    db.table("events").create_index(["concern_id"])
    db.table("outbox").create(
        {
            "id": int,
            "channel": str,
            "kind": str,
            "key": str,
            "payload": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "created_at": str,
            "delivered_at": str,
            "last_error": str,
        },
        pk="id",
        not_null={"channel", "kind", "key", "payload", "status", "created_at", "next_attempt_at"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["key"], unique=True)
    db.table("outbox").create_index(["channel", "status", "next_attempt_at"])
    db.table("processed_updates").create({"channel": str, "update_id": str, "at": str}, pk=("channel", "update_id"))


@migrations()
def m002_concern_queue(db: Database) -> None:
    """Outbox leases and concern links, and a counter so a purged concern's ref is never reused."""
    db.table("outbox").add_column("lease_until", str)
    db.table("outbox").add_column("concern_id", int)
    db.table("outbox").create_index(["concern_id"])
    db.table("counters").create({"name": str, "value": int}, pk="name", not_null={"value"})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 strings, which sort correctly as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


class Store:
    """The database, reachable only through `await store.run(fn, ...)` on its own thread."""

    def __init__(self, *, path: Path | str) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatbot-db")
        self._db: Database | None = None

    def _open(self) -> Database:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 30000")
            db = Database(conn)
            db.enable_wal()
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                migrations.apply(db)
            except sqlite3.OperationalError:
                # Another process created the schema at the same moment: its record
                # of the applied migrations is now there, so applying again is a no-op.
                migrations.apply(db)
            self._db = db
        return self._db

    async def open(self) -> None:
        await self.run(lambda db: None)

    async def run(self, fn: Callable[[Database], T]) -> T:
        """Run `fn(db)` on the database thread and return its result."""

        def call() -> T:
            return fn(self._open())

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.conn.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)

    # -- idempotent update handling (adapters) --------------------------------

    async def first_time_seen(self, channel: str, update_id: str) -> bool:
        """Record a platform update id; False when it was handled before (a redelivery)."""

        def mark(db: Database) -> bool:
            cur = db.execute(
                "INSERT OR IGNORE INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)",
                [channel, update_id, iso(utcnow())],
            )
            return bool(cur.rowcount)

        return await self.run(mark)

    async def trim_processed_updates(self, *, older_than: datetime) -> int:
        """Forget update ids older than any redelivery could be (the table would grow for ever)."""
        cutoff = iso(older_than)
        return await self.run(lambda db: db.execute("DELETE FROM processed_updates WHERE at < ?", [cutoff]).rowcount)
