"""The Store: one file, WAL, migrations, idempotent update ids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from chatbot.store import Store, utcnow


async def test_the_database_is_wal_with_foreign_keys_and_survives_reopening(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "s.db")
    await store.open()
    mode = await store.run(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
    keys = await store.run(lambda db: db.execute("PRAGMA foreign_keys").fetchone()[0])
    assert (mode, keys) == ("wal", 1)
    assert await store.first_time_seen("telegram", "42")
    await store.close()
    again = Store(path=tmp_path / "s.db")
    await again.open()
    assert not await again.first_time_seen("telegram", "42")
    assert await again.first_time_seen("slack", "42")  # ids are per channel
    await again.close()


async def test_old_update_ids_are_trimmed(store: Store) -> None:
    await store.first_time_seen("telegram", "1")
    assert await store.trim_processed_updates(older_than=utcnow() - timedelta(days=1)) == 0
    assert await store.trim_processed_updates(older_than=utcnow() + timedelta(seconds=1)) == 1
    assert await store.first_time_seen("telegram", "1")
