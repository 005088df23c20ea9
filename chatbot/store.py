"""SQLite storage via sqlite-utils: one file, WAL, foreign keys, migrations.

A file database refuses use from another thread, and the bot is async, so every
database call runs on one dedicated worker thread (`Store.run`, see storeworker.py),
which commits queued writes together. Writes across processes (the CLI beside a
running bot) are serialised by SQLite itself; a busy timeout makes them wait.
Migrations run under SQLite's exclusive lock, so several processes may open a
brand-new file at once. A file that can't be used raises StorageError: one line.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from chatbot.sqlite_faults import storage_error
from chatbot.storeworker import Checkpointer, StoreWorker

T = TypeVar("T")
log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 30_000

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


@migrations()
def m003_inbox(db: Database) -> None:
    """The durable inbox (chatbot/inbox.py): every platform update stored before it is confirmed.

    Its unique (channel, key) also drops redeliveries, so it replaces processed_updates.
    """
    db.table("inbox").create(
        {
            "id": int,
            "channel": str,
            "key": str,
            "payload": str,
            "status": str,
            "attempts": int,
            "received_at": str,
            "done_at": str,
        },
        pk="id",
        not_null={"channel", "key", "status", "received_at"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("inbox").create_index(["channel", "key"], unique=True)
    db.table("inbox").create_index(["status", "channel", "id"])
    db.execute(
        "INSERT INTO inbox (channel, key, status, attempts, received_at, done_at)"
        " SELECT channel, update_id, 'done', 1, at, at FROM processed_updates"
    )
    db.table("processed_updates").drop()


@migrations()
def m004_office_per_school(db: Database) -> None:
    """Office items name their school ("office:orchard"), so one school's office never drains another's."""
    db.execute(
        "UPDATE outbox SET channel = 'office:' || (SELECT school_id FROM concerns WHERE concerns.id = outbox.concern_id)"
        " WHERE channel = 'office' AND concern_id IN (SELECT id FROM concerns)"
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 strings, which sort correctly as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def clean_text(text: str) -> str:
    """Text that can always be stored and sent: lone surrogates become U+FFFD, NULs go.

    Terminals, argv and some clients hand over undecodable bytes as lone surrogates,
    which SQLite, JSON and HTTP refuse to encode; they are replaced at the edge.
    """
    if text.isascii():
        return text.replace("\x00", "")
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "")


def _clean(data: Any) -> Any:
    if isinstance(data, str):
        return clean_text(data)
    if isinstance(data, dict):
        return {clean_text(str(k)): _clean(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_clean(v) for v in data]
    return data


def dumps(data: Any) -> str:
    return json.dumps(_clean(data), ensure_ascii=False, sort_keys=True)


def _busy(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorname", "") or "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (
        "locked" in str(exc)
    )


def _retry_busy(action: Callable[[], T], *, for_seconds: float) -> T:
    """Run `action`, retrying while another process holds the lock (some pragmas skip the busy handler)."""
    deadline = time.monotonic() + for_seconds
    pause = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the project's settings: WAL, foreign keys, no automatic checkpoint."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = _retry_busy(lambda: conn.execute("PRAGMA journal_mode = wal").fetchone()[0], for_seconds=30.0)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError("attempt to write a readonly database (WAL mode refused)")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer does it, off the request path
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(db: Database) -> None:
    """Apply pending migrations holding SQLite's exclusive lock, so racing processes apply them once."""
    _retry_busy(lambda: db.conn.execute("BEGIN EXCLUSIVE"), for_seconds=30.0)
    try:
        migrations.apply(db)
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


class Store:
    """The database, reachable only through `await store.run(fn)` on its own thread.

    Calls queued together are committed together (one transaction, each call in its
    own savepoint); the WAL is checkpointed by a background thread, never on a request.
    """

    def __init__(self, *, path: Path | str, batch_limit: int = 64, checkpoint_every: float = 0.5) -> None:
        self.path = Path(path)
        self._db: Database | None = None
        self._checkpointer = Checkpointer(path=self.path, every=checkpoint_every, connect=connect)
        self._worker = StoreWorker(opener=self._open, batch_limit=batch_limit, translate=self._translate,
                                   after_commit=self._checkpointer.poke)  # fmt: skip

    def _translate(self, exc: BaseException) -> BaseException:
        return storage_error(self.path, exc) or exc

    def _open(self) -> Database:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(self.path)
            db = Database(conn)
            try:
                migrate(db)
            except BaseException:
                conn.close()
                raise
            self._db = db
            self._checkpointer.start()
        return self._db

    async def open(self) -> None:
        """Open (and migrate) now, so a bad file is reported at start-up rather than on a message."""
        await self.run(lambda db: None)

    async def run(self, fn: Callable[[Database], T]) -> T:
        """Run `fn(db)` on the database thread and return its result (StorageError if the file fails)."""
        return await self._worker.submit(fn)

    async def close(self) -> None:
        await self._worker.stop()
        self._checkpointer.stop()
        if self._db is not None:
            self._checkpointer.final(self._db.conn)
            self._db.conn.close()
            self._db = None

