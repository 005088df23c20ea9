"""The database thread: group commit, and checkpoints kept off the request path.

SQLite pays for durability once per commit, so calls that queue up while the
thread is busy are run together in one transaction, each inside its own savepoint:
a call that fails rolls back only its own work, and every caller hears back only
after the shared COMMIT succeeded. A single queued call runs as before, in its own
(autocommit or explicit) transaction.

The WAL's automatic checkpoint would land on whichever request happened to cross
the threshold; a Checkpointer thread with its own connection does it instead.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from sqlite_utils import Database

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class _Job(Generic[T]):
    fn: Callable[[Database], T]
    future: Future[T] = field(default_factory=Future)


class StoreWorker:
    """One thread owns the connection; `submit` queues a call and awaits its result."""

    def __init__(
        self,
        *,
        opener: Callable[[], Database],
        batch_limit: int,
        translate: Callable[[BaseException], BaseException],
        after_commit: Callable[[], None],
    ) -> None:
        self._opener = opener
        self._batch_limit = max(1, batch_limit)
        self._translate = translate
        self._after_commit = after_commit
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, fn: Callable[[Database], T]) -> T:
        job: _Job[T] = _Job(fn)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="chatbot-db", daemon=True)
                self._thread.start()
            self._jobs.put(job)
        return await asyncio.wrap_future(job.future)

    async def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._jobs.put(None)
        await asyncio.to_thread(thread.join)

    def _serve(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch: list[_Job[Any]] = [first]
            stopping = False
            while len(batch) < self._batch_limit:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._run(batch)
            if stopping:
                return

    def _run(self, batch: list[_Job[Any]]) -> None:
        try:
            db = self._opener()
        except BaseException as exc:  # the file can't be opened: every caller hears why
            for job in batch:
                self._fail(job, exc)
            return
        if len(batch) == 1 or not self._run_together(db, batch):
            for job in batch:
                self._run_alone(db, job)

    def _fail(self, job: _Job[Any], exc: BaseException) -> None:
        if not job.future.done():
            job.future.set_exception(self._translate(exc))

    def _run_alone(self, db: Database, job: _Job[Any]) -> None:
        try:
            result = job.fn(db)
        except BaseException as exc:
            if db.conn.in_transaction:  # never leave a half-finished transaction for the next call
                db.conn.execute("ROLLBACK")
            self._fail(job, exc)
            return
        job.future.set_result(result)
        self._after_commit()

    def _run_together(self, db: Database, batch: list[_Job[Any]]) -> bool:
        """One transaction, a savepoint per call; False (nothing done) when it can't begin."""
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return False  # e.g. a read-only file: run each call alone, so reads still work
        outcomes: list[tuple[bool, Any]] = []
        try:
            for index, job in enumerate(batch):
                conn.execute(f"SAVEPOINT job{index}")
                try:
                    outcomes.append((True, job.fn(db)))
                except BaseException as exc:
                    outcomes.append((False, exc))
                    if not conn.in_transaction:  # the error destroyed the whole transaction
                        self._retry_alone(db, batch, outcomes)
                        return True
                    conn.execute(f"ROLLBACK TO job{index}")
                conn.execute(f"RELEASE job{index}")
        except sqlite3.Error:  # the savepoint bookkeeping itself failed: start again, one call at a time
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return False
        try:
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in batch:
                self._fail(job, exc)
            return True
        for job, (ok, value) in zip(batch, outcomes):
            if ok:
                job.future.set_result(value)
            else:
                self._fail(job, value)
        self._after_commit()
        return True

    def _retry_alone(self, db: Database, batch: list[_Job[Any]], outcomes: list[tuple[bool, Any]]) -> None:
        """The failing call took the shared transaction down: it keeps its error, the others run again alone."""
        failed = len(outcomes) - 1
        self._fail(batch[failed], outcomes[failed][1])
        for index, job in enumerate(batch):
            if index != failed:
                self._run_alone(db, job)


class Checkpointer:
    """Copies the WAL back into the database from its own thread and connection, after commits."""

    def __init__(self, *, path: Path, every: float, connect: Callable[[Path], sqlite3.Connection]) -> None:
        self._path = path
        self._every = every
        self._connect = connect
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self._every > 0:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="chatbot-checkpoint", daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """Called after a commit: there is WAL to copy back."""
        self._dirty.set()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._dirty.set()
            self._thread.join()
            self._thread = None

    def final(self, conn: sqlite3.Connection) -> None:
        """On close: fold the WAL back so the file stands alone (best effort; others may be reading)."""
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.debug("final checkpoint skipped: %s", type(exc).__name__)

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.is_set():
                self._dirty.wait()
                if self._stopping.is_set():
                    return
                self._stopping.wait(self._every)  # let a burst finish before copying
                self._dirty.clear()
                try:
                    conn = conn or self._connect(self._path)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy, read-only, full: the next commit tries again
                    log.debug("checkpoint skipped: %s", type(exc).__name__)
        finally:
            if conn is not None:
                conn.close()
