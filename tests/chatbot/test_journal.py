"""Emergency advice never depends on storage; an urgent report the database refuses is journalled, then queued."""

from __future__ import annotations

import errno
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot import replies
from chatbot.journal import FallbackJournal
from chatbot.messages import Audience, Incoming
from chatbot.runtime import Runtime

URGENT = "a man online keeps asking my daughter to send him photos of herself"


# A disk-full file fails the same way through the same StorageError (tests/chatbot/test_store.py checks both).
BROKEN = {
    "read-only": (lambda db: db.execute("PRAGMA query_only = 1"), lambda db: db.execute("PRAGMA query_only = 0")),
}


def say(text: str, user: str = "mum") -> Incoming:
    return Incoming(channel="telegram", user_id=user, chat_id=user, school_id="orchard", audience=Audience.PARENT, text=text)


@pytest.mark.parametrize("fault", sorted(BROKEN))
async def test_an_urgent_report_the_database_refuses_still_gets_the_advice_and_reaches_the_queue_later(
    runtime: Runtime, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    await runtime.engine.handle(say("hello"))  # the conversation exists, so 'full' has pages to refuse
    breaks, mends = BROKEN[fault]
    await runtime.store.run(breaks)
    with caplog.at_level(logging.INFO):
        reply = await runtime.engine.handle(say(URGENT))
    assert reply.urgent and reply.concern_ref is None
    assert "999" in reply.text and "NSPCC" in reply.text and "couldn't pass your message to the school yet" in reply.text
    journal = runtime.engine.journal
    assert journal is not None and await journal.pending() == 1
    assert any(r.levelno == logging.CRITICAL and str(journal.path) in r.getMessage() for r in caplog.records)
    assert not any("daughter" in r.getMessage() for r in caplog.records)  # no message text in logs
    assert await runtime.concerns.list() == []

    await runtime.store.run(mends)
    assert await journal.replay(runtime.concerns) == 1
    (concern,) = await runtime.concerns.list()
    assert concern.urgent and concern.school_id == "orchard" and concern.summary == URGENT
    assert not journal.waiting and await journal.pending() == 0


async def test_an_ordinary_question_while_the_database_is_down_gets_an_honest_apology(runtime: Runtime) -> None:
    await runtime.store.run(lambda db: db.execute("PRAGMA query_only = 1"))
    reply = await runtime.engine.handle(say("can I post a photo from sports day?", user="dad"))
    if reply.text != replies.STORAGE_DOWN:  # answering without a write is fine too; a wrong apology is not
        assert not reply.urgent and "problem on my side" not in reply.text
    assert runtime.engine.journal is not None and await runtime.engine.journal.pending() == 0


async def test_an_urgent_report_the_journal_refuses_too_is_held_and_reaches_the_queue_later(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A full disk refuses the database and the journal beside it: the report is held, never dropped."""
    await runtime.engine.handle(say("hello"))
    journal = runtime.engine.journal
    assert journal is not None
    journal.path = tmp_path / "no-such-dir" / "urgent-journal"  # every write there fails, as on a full disk
    breaks, mends = BROKEN["read-only"]
    await runtime.store.run(breaks)
    reply = await runtime.engine.handle(say(URGENT))
    assert reply.urgent and "999" in reply.text and "NSPCC" in reply.text
    assert journal.waiting and await journal.pending() == 1
    assert await journal.replay(runtime.concerns) == 0  # the database still refuses: still held
    assert journal.waiting

    await runtime.store.run(mends)
    assert await journal.replay(runtime.concerns) == 1
    (concern,) = await runtime.concerns.list()
    assert concern.urgent and concern.school_id == "orchard" and concern.summary == URGENT
    assert not journal.waiting


def report(user: str) -> dict[str, str]:
    return dict(school_id="orchard", channel="telegram", user_id=user, chat_id=user, audience="parent", summary=URGENT)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs) to fill up; needs the right to mount, as the fault benchmark does."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(where: Path) -> None:
    """Write until the file system refuses another byte; prove it is full."""
    with open(where / "filler", "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while handle.write(b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    with pytest.raises(OSError) as refused:
        (where / "one-more").write_bytes(b"x" * 4096)
    assert refused.value.errno == errno.ENOSPC


async def test_the_journal_keeps_room_so_a_full_disk_still_takes_an_urgent_report_and_a_restart_finds_it(
    small_disk: Path,
) -> None:
    journal = FallbackJournal(path=small_disk / "bot.db.urgent-journal", reserved_bytes=64 * 1024)
    assert await journal.keep_room()
    fill(small_disk)
    for n in range(20):
        assert await journal.append(**report(f"parent-{n}"))  # on disk, not merely held in memory

    after_a_crash = FallbackJournal(path=journal.path)  # a new process: nothing of the old one's memory
    assert after_a_crash.waiting and await after_a_crash.pending() == 20


async def test_a_report_written_after_a_torn_line_stays_readable(tmp_path: Path) -> None:
    journal = FallbackJournal(path=tmp_path / "bot.db.urgent-journal")
    journal.path.write_text('{"id": "half-writ')  # a crash mid-append
    assert await journal.append(**report("mum"))
    assert await FallbackJournal(path=journal.path).pending() == 1
