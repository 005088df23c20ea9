"""The Store: one file, WAL, migrations under a lock, group commit, clear storage errors."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from chatbot.errors import ChatbotError, StorageError
from chatbot.inbox import Inbox
from chatbot.store import Store, clean_text, dumps

REPO = Path(__file__).resolve().parents[2]


async def test_the_database_is_wal_with_foreign_keys_and_survives_reopening(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "s.db")
    await store.open()
    mode = await store.run(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
    keys = await store.run(lambda db: db.execute("PRAGMA foreign_keys").fetchone()[0])
    auto = await store.run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    assert (mode, keys, auto) == ("wal", 1, 0)  # checkpoints are the background thread's job
    assert not await Inbox(store=store).seen_before("telegram", "42")
    await store.close()
    again = Store(path=tmp_path / "s.db")
    await again.open()
    assert await Inbox(store=again).seen_before("telegram", "42")
    assert not await Inbox(store=again).seen_before("slack", "42")  # keys are per channel
    await again.close()


OPENER = """
import asyncio, sys
from chatbot.store import Store
from chatbot.inbox import Inbox

async def main():
    store = Store(path=sys.argv[1])
    await store.open()
    await Inbox(store=store).put("telegram", sys.argv[2], {"n": sys.argv[2]})
    await store.close()

asyncio.run(main())
"""


def test_several_processes_can_create_a_brand_new_database_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", OPENER, str(path), str(n)], env=env, stderr=subprocess.PIPE, text=True)
        for n in range(8)
    ]
    results = [(proc.wait(timeout=120), proc.stderr.read() if proc.stderr else "") for proc in procs]
    assert [code for code, _ in results] == [0] * 8, [err for _, err in results if err]
    db = Database(path)
    applied = [row["name"] for row in db.query("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert len(applied) == len(set(applied))  # every migration applied exactly once
    assert db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 8
    db.close()


async def test_a_file_that_is_not_a_database_is_one_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    store = Store(path=path)
    with pytest.raises(StorageError) as caught:
        await store.open()
    await store.close()
    message = str(caught.value)
    assert str(path) in message and "not a SQLite database" in message and "\n" not in message
    assert isinstance(caught.value, ChatbotError)


async def test_a_damaged_database_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    store = Store(path=path)
    await store.open()
    await Inbox(store=store).put_many("telegram", [(str(n), {"text": "x" * 500}) for n in range(200)])
    await store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page : len(data)] = b"\xff" * (len(data) - 2 * page)  # scribble over every page after the schema
    path.write_bytes(bytes(data))
    broken = Store(path=path)
    with pytest.raises(StorageError) as caught:
        await broken.open()
        await broken.run(lambda db: db.execute("SELECT COUNT(*), MAX(payload) FROM inbox").fetchone())
    await broken.close()
    assert str(path) in str(caught.value) and "damaged" in str(caught.value)


async def test_a_full_or_read_only_database_fails_writes_clearly_and_still_reads(store: Store) -> None:
    inbox = Inbox(store=store)
    await inbox.put("telegram", "1", {"text": "hello"})
    await store.run(lambda db: db.execute("PRAGMA query_only = 1"))  # as a read-only file behaves
    with pytest.raises(StorageError, match="read-only"):
        await inbox.put("telegram", "2", {"text": "again"})
    assert [e.key for e in await inbox.pending("telegram")] == ["1"]
    await store.run(lambda db: db.execute("PRAGMA query_only = 0"))
    pages = await store.run(lambda db: db.execute("PRAGMA page_count").fetchone()[0])
    await store.run(lambda db: db.execute(f"PRAGMA max_page_count = {pages}"))  # as a full disk behaves
    with pytest.raises(StorageError, match="disk is full"):
        await inbox.put_many("telegram", [(str(n), {"text": "y" * 2000}) for n in range(3, 200)])
    assert len(await inbox.pending("telegram")) == 1


async def test_queued_calls_commit_together_and_a_failing_one_undoes_only_itself(store: Store) -> None:
    await store.run(lambda db: db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    gate = threading.Event()
    blocker = asyncio.ensure_future(store.run(lambda db: gate.wait(10)))  # hold the thread so calls queue up

    def insert(n: int) -> object:
        def write(db: Database) -> int:
            db.execute("INSERT INTO t (n) VALUES (?)", [n])
            if n == 7:
                raise ValueError("this call fails after writing")
            return n

        return write

    calls = [asyncio.ensure_future(store.run(insert(n))) for n in range(20)]  # type: ignore[arg-type]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    await blocker
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i != 7] == [n for n in range(20) if n != 7]
    stored = await store.run(lambda db: [row[0] for row in db.execute("SELECT n FROM t ORDER BY n")])
    assert stored == [n for n in range(20) if n != 7]


async def test_the_checkpointer_folds_the_wal_back_without_being_asked(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "c.db", checkpoint_every=0.01)
    await store.open()
    before = (tmp_path / "c.db").stat().st_size
    await Inbox(store=store).put_many("telegram", [(str(n), {"text": "z" * 1000}) for n in range(300)])
    deadline = time.monotonic() + 10
    while (tmp_path / "c.db").stat().st_size <= before and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    grown = (tmp_path / "c.db").stat().st_size
    await store.close()
    assert grown > before  # the pages reached the main file while the store was open


async def test_lone_surrogates_and_nuls_are_replaced_not_raised(store: Store) -> None:
    bad = "photo \ud83d of \udcff my son\x00"
    assert clean_text(bad) == "photo \ufffd of \ufffd my son"
    assert clean_text("😀 fine") == "😀 fine"
    inbox = Inbox(store=store)
    await inbox.put("telegram", "9", {"text": bad})
    (entry,) = await inbox.pending("telegram")
    assert entry.payload == {"text": "photo \ufffd of \ufffd my son"}
    assert "\\ud83d" not in dumps({"t": bad})


def test_sqlite_errors_that_are_bugs_stay_bugs(tmp_path: Path) -> None:
    from chatbot.sqlite_faults import storage_error

    assert storage_error(tmp_path, sqlite3.OperationalError("no such table: nope")) is None


async def test_legacy_office_items_are_routed_to_their_schools_office(tmp_path: Path) -> None:
    """m004: items queued for the one shared "office" now name their school; unlinked ones stay unrouted."""
    import sqlite3

    from sqlite_utils import Database

    from chatbot.store import migrations

    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(str(path)))
    migrations.apply(old, stop_before="m004_office_per_school")
    old["concerns"].insert({"id": 7, "ref": "C-0007", "school_id": "roose", "channel": "telegram", "user_id": "u",
                            "chat_id": "c", "category": "concern_bullying", "status": "open", "created_at": "x",
                            "due_at": "x"})  # fmt: skip
    for key, concern_id in (("card", 7), ("notice", None)):
        old["outbox"].insert({"channel": "office", "kind": "k", "key": key, "payload": "{}", "status": "pending",
                              "created_at": "x", "next_attempt_at": "x", "concern_id": concern_id})  # fmt: skip
    old.conn.commit()
    old.conn.close()

    store = Store(path=path)
    channels = await store.run(lambda db: db.execute("SELECT key, channel FROM outbox ORDER BY key").fetchall())
    await store.close()
    assert channels == [("card", "office:roose"), ("notice", "office")]
