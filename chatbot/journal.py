"""The fallback journal: an urgent report the database could not take is never dropped.

When the database is read-only, full or damaged, an urgent safeguarding report is
appended (one JSON line, flushed to disk) to a file beside the database. As soon
as the database can be written again, `replay` moves every line into the queue as
an urgent concern and empties the file.

The journal shares the database's disk, so it keeps room of its own there
(`disk_reserve`): when the disk fills, an urgent report still reaches the file and
survives a crash. Should even that room run out, the report is held in memory
until the database takes it. Logs name the file, never a report's text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from chatbot.concerns import ConcernQueue
from chatbot.disk_reserve import reserve
from chatbot.errors import StorageError
from chatbot.store import clean_text, iso, utcnow

log = logging.getLogger(__name__)

SAFEGUARDING = "concern_safeguarding"
RESERVED_BYTES = 1 << 20  # room kept for the journal: a thousand or so urgent reports, written once the disk is full


@dataclass(frozen=True, kw_only=True)
class UrgentReport:
    """What an urgent concern needs, kept until the queue can take it."""

    id: str
    at: str
    school_id: str
    channel: str
    user_id: str
    chat_id: str
    audience: str
    summary: str


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".urgent-journal")


class FallbackJournal:
    """Append-only JSON lines beside the database; one writer process at a time is enough here."""

    def __init__(self, *, path: Path, reserved_bytes: int = RESERVED_BYTES) -> None:
        self.path = path
        self.reserved_bytes = reserved_bytes
        self._lock = asyncio.Lock()
        self._held: list[UrgentReport] = []  # reports the journal itself refused (its room used up): kept until stored

    @property
    def waiting(self) -> bool:
        """Reports wait to be moved into the queue: in the journal file, or held in memory."""
        return bool(self._held) or self._size() > 0

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    async def keep_room(self) -> bool:
        """Set aside the journal's room on disk now, while there is space; False (and a warning) when it can't be."""
        try:
            kept = await asyncio.to_thread(reserve, self.path, self.reserved_bytes)
        except OSError as exc:
            log.warning("could not set aside room for urgent reports in %s (%s)", self.path, exc.strerror)
            return False
        if not kept:
            log.warning("this file system cannot set room aside for %s; a full disk could refuse it", self.path)
        return kept

    async def append(self, *, school_id: str, channel: str, user_id: str, chat_id: str, audience: str, summary: str) -> bool:
        """Keep one report; False when even the journal could not be written (the advice is still given)."""
        report = UrgentReport(id=uuid.uuid4().hex, at=iso(utcnow()), school_id=school_id, channel=channel,
                              user_id=user_id, chat_id=chat_id, audience=audience, summary=clean_text(summary))  # fmt: skip
        line = json.dumps(asdict(report), ensure_ascii=False) + "\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, line)
            except OSError as exc:
                self._held.append(report)  # the disk is full too: hold it, and keep trying to store it
                log.critical("URGENT report could NOT be stored nor journalled (%s); %s; held in memory until the "
                             "database takes writes", exc.strerror, self.path)  # fmt: skip
                return False
        log.critical("URGENT report could not be stored; kept in the fallback journal %s until the database recovers", self.path)
        return True

    def _write(self, line: str) -> None:
        with open(self.path, "a+b") as handle:
            if handle.tell() and not self._ends_a_line(handle):
                line = "\n" + line  # a crash tore the last line: start afresh so this one stays readable
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    @staticmethod
    def _ends_a_line(handle: BinaryIO) -> bool:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"

    def _read(self) -> list[UrgentReport]:
        if not self._size():
            return []
        reports = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                reports.append(UrgentReport(**json.loads(line)))
            except (ValueError, TypeError):  # a line torn by a crash mid-write
                log.error("fallback journal %s line %d unreadable; left out", self.path, number)
        return reports

    async def pending(self) -> int:
        return len(self._held) + len(await asyncio.to_thread(self._read))

    async def replay(self, queue: ConcernQueue) -> int:
        """Move every journalled report into the queue (urgent); keep any that still can't be stored."""
        async with self._lock:
            held, self._held = self._held, []
            self._held = await self._open_all(queue, held)
            reports = await asyncio.to_thread(self._read)
            left = await self._open_all(queue, reports)
            if len(left) < len(reports):
                await asyncio.to_thread(self._rewrite, left)
            if not left and not self._held:
                await self.keep_room()  # a rewrite gives the room back: take it again while the disk has space
        moved = len(held) - len(self._held) + len(reports) - len(left)
        if moved:
            log.critical("moved %d urgent report(s) from the fallback journal into the queue", moved)
        return moved

    @staticmethod
    async def _open_all(queue: ConcernQueue, reports: list[UrgentReport]) -> list[UrgentReport]:
        """Open each report as an urgent concern; those the database still refuses are returned."""
        left: list[UrgentReport] = []
        for report in reports:
            try:
                await queue.open(school_id=report.school_id, channel=report.channel, user_id=report.user_id,
                                 chat_id=report.chat_id, audience=report.audience, category=SAFEGUARDING,
                                 summary=report.summary, urgent=True, consent=True, contact_method="chat")  # fmt: skip
            except StorageError:
                left.append(report)
        return left

    def _rewrite(self, left: list[UrgentReport]) -> None:
        if not left:
            with open(self.path, "w", encoding="utf-8") as handle:  # emptied; the file stays, to hold the room
                os.fsync(handle.fileno())
            return
        spare = self.path.with_suffix(".tmp")
        spare.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in left), encoding="utf-8")
        os.replace(spare, self.path)
