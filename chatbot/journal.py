"""The fallback journal: an urgent report the database could not take is never dropped.

When the database is read-only, full or damaged, an urgent safeguarding report is
appended (one JSON line, flushed to disk) to a file beside the database. As soon
as the database can be written again, `replay` moves every line into the queue as
an urgent concern and empties the file. Logs name the file and count the reports,
never their text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from chatbot.concerns import ConcernQueue
from chatbot.errors import StorageError
from chatbot.store import clean_text, iso, utcnow

log = logging.getLogger(__name__)

SAFEGUARDING = "concern_safeguarding"


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

    def __init__(self, *, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._held: list[UrgentReport] = []  # reports the journal itself refused (a full disk): kept until stored

    @property
    def waiting(self) -> bool:
        """Reports wait to be moved into the queue: in the journal file, or held in memory."""
        return bool(self._held) or self.path.exists()

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
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _read(self) -> list[UrgentReport]:
        if not self.path.exists():
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
            if reports:
                await asyncio.to_thread(self._rewrite, left)
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
            self.path.unlink(missing_ok=True)
            return
        spare = self.path.with_suffix(".tmp")
        spare.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in left), encoding="utf-8")
        os.replace(spare, self.path)
