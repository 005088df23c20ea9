"""The durable inbox: stored before confirming, done after handling, replayed after a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from chatbot.inbox import MAX_ATTEMPTS, Inbox, InboxStatus
from chatbot.store import Store, utcnow


async def test_an_update_left_pending_by_a_crash_comes_back_after_reopening(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "i.db")
    inbox = Inbox(store=store)
    assert await inbox.put_many("telegram", [("1", {"text": "a"}), ("2", {"text": "b"})]) == [True, True]
    assert await inbox.begin("telegram", "1")
    await inbox.done("telegram", "1")
    await store.close()  # as if the process died with update 2 stored but unhandled

    again = Store(path=tmp_path / "i.db")
    inbox = Inbox(store=again)
    (left,) = await inbox.pending("telegram")
    assert (left.key, left.payload) == ("2", {"text": "b"})
    assert await inbox.put("telegram", "2", {"text": "b"}) is False  # a redelivery is recognised
    assert await inbox.put("telegram", "1", {"text": "a"}) is False  # so is one already handled
    await again.close()


async def test_done_forgets_the_text_but_keeps_the_key(store: Store) -> None:
    inbox = Inbox(store=store)
    await inbox.put("slack", "Ev1", {"event": {"text": "my phone is 07700 900123"}})
    await inbox.done("slack", "Ev1")
    payloads = await store.run(lambda db: [row[0] for row in db.execute("SELECT payload FROM inbox")])
    assert payloads == [None]
    assert await inbox.seen_before("slack", "Ev1")
    assert await inbox.counts("slack") == {InboxStatus.PENDING: 0, InboxStatus.DONE: 1, InboxStatus.FAILED: 0}


async def test_an_update_that_keeps_crashing_the_handler_is_set_aside(store: Store) -> None:
    inbox = Inbox(store=store)
    await inbox.put("telegram", "poison", {"text": "?"})
    assert [await inbox.begin("telegram", "poison") for _ in range(MAX_ATTEMPTS + 1)] == [True] * MAX_ATTEMPTS + [False]
    assert await inbox.pending("telegram") == []
    assert (await inbox.counts())[InboxStatus.FAILED] == 1


async def test_trim_forgets_old_handled_keys_only(store: Store) -> None:
    inbox = Inbox(store=store)
    await inbox.put("telegram", "old", {})
    await inbox.done("telegram", "old")
    await inbox.put("telegram", "waiting", {})
    assert await inbox.trim(older_than=utcnow() - timedelta(days=1)) == 0
    assert await inbox.trim(older_than=utcnow() + timedelta(seconds=1)) == 1
    assert [e.key for e in await inbox.pending("telegram")] == ["waiting"]
    assert not await inbox.seen_before("telegram", "old2")
