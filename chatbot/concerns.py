"""The concern queue: the policy's open door, kept.

A parent brings a concern here instead of to social media; the office claims it,
replies, resolves it. Each action writes an audit event, and everything that must
reach someone (the office's Slack post, the parent's reply) goes into the outbox
in the same transaction as the change, so nothing is promised and then lost.
"""

from __future__ import annotations

import builtins
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlite_utils import Database

from chatbot.calendar import WorkingCalendar
from chatbot.errors import ConcernConflict, ConcernNotFound, NotAllowed, UserError
from chatbot.outbox import OFFICE, enqueue, write_transaction
from chatbot.store import Store, iso, parse_iso, utcnow

log = logging.getLogger(__name__)

ACTIVE = ("open", "claimed", "replied")
CLOSED = ("resolved", "withdrawn")
STATUSES = ACTIVE + CLOSED
AWAITING = ("open", "claimed")  # still owed an answer: these can be overdue
REMIND_EVERY = timedelta(hours=24)
SAFEGUARDING_CATEGORY = "concern_safeguarding"
# A safeguarding record: escalated as urgent, or confirmed at the safeguarding check (also urgent).
SAFEGUARDING_SQL = f"(urgent = 1 OR category = '{SAFEGUARDING_CATEGORY}')"

_STATUS_WORDS = {
    "open": "open, waiting for the office",
    "claimed": "being looked at by the office",
    "replied": "answered by the office",
    "resolved": "resolved",
    "withdrawn": "withdrawn",
}
_REF = re.compile(r"\s*(?:C\s*-?\s*)?0*(\d{1,12})\s*", re.IGNORECASE)
_KEPT = (
    "{ref} is a report about a child's safety, so it can't be withdrawn: the school has a legal duty to keep "
    "child-protection records. If something has changed, just tell me and I'll pass it to the school."
)
_NOT_YOURS = "I can't find a concern {ref} raised by you. Ask me for your concerns to see their references."


class EmptyText(UserError):
    """A reply or note with nothing in it."""


def format_ref(concern_id: int) -> str:
    return f"C-{concern_id:04d}"


def parse_ref(text: str) -> int | None:
    """The row id behind a ref, forgiving case, padding and a missing "C-" ("c-42", "42")."""
    match = _REF.fullmatch(text)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _time(value: Any) -> datetime | None:
    return parse_iso(value) if value else None


@dataclass(frozen=True, kw_only=True)
class Concern:
    """One concern, as stored; times are aware UTC datetimes."""

    id: int
    ref: str
    school_id: str
    channel: str
    user_id: str
    chat_id: str
    audience: str
    category: str
    urgent: bool
    status: str
    summary: str
    contact_method: str
    phone: str | None
    consent: bool
    created_at: datetime
    due_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None  # when it was closed: resolved or withdrawn
    office_post_ref: str | None
    reminded_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Concern:
        return cls(
            id=row["id"],
            ref=row["ref"],
            school_id=row["school_id"],
            channel=row["channel"],
            user_id=row["user_id"],
            chat_id=row["chat_id"],
            audience=row["audience"] or "parent",
            category=row["category"],
            urgent=bool(row["urgent"]),
            status=row["status"],
            summary=row["summary"] or "",
            contact_method=row["contact_method"] or "chat",
            phone=row["phone"],
            consent=bool(row["consent"]),
            created_at=parse_iso(row["created_at"]),
            due_at=parse_iso(row["due_at"]),
            claimed_by=row["claimed_by"],
            claimed_at=_time(row["claimed_at"]),
            resolved_at=_time(row["resolved_at"]),
            office_post_ref=row["office_post_ref"],
            reminded_at=_time(row["reminded_at"]),
        )

    @property
    def safeguarding(self) -> bool:
        """A child-protection record: the school must keep it, so its reporter can't withdraw or delete it."""
        return self.urgent or self.category == SAFEGUARDING_CATEGORY

    def is_overdue(self, now: datetime) -> bool:
        """Still waiting for an answer after the promised time."""
        return self.status in AWAITING and now >= self.due_at

    def status_words(self) -> str:
        """Plain words for a parent; never names the member of staff."""
        return _STATUS_WORDS.get(self.status, self.status)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            data[name] = iso(value) if isinstance(value, datetime) else value
        return data


@dataclass(frozen=True, kw_only=True)
class ConcernEvent:
    """One line of a concern's audit trail: who did what, when."""

    id: int
    ref: str
    at: datetime
    actor: str
    action: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ref": self.ref, "at": iso(self.at), "actor": self.actor,
                "action": self.action, "detail": self.detail}  # fmt: skip


def _row(db: Database, concern_id: int) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM concerns WHERE id = ?", [concern_id])), None)


def _event(db: Database, concern_id: int, *, actor: str, action: str, detail: str, now: datetime) -> int:
    cur = db.execute(
        "INSERT INTO events (concern_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
        [concern_id, iso(now), actor, action, detail],
    )
    return int(cur.lastrowid or 0)


def _tell_office(db: Database, row: dict[str, Any], event_id: int, now: datetime) -> None:
    enqueue(db, channel=OFFICE, kind="concern_updated", key=f"concern_updated:{row['ref']}:{event_id}",
            payload={"ref": row["ref"]}, concern_id=row["id"], now=now)  # fmt: skip


def _tell_parent(db: Database, row: dict[str, Any], *, key: str, text: str, now: datetime) -> None:
    enqueue(db, channel=row["channel"], kind="message", key=key,
            payload={"chat_id": row["chat_id"], "text": text, "ref": row["ref"]}, concern_id=row["id"], now=now)  # fmt: skip


def _next_id(db: Database) -> int:
    """Ids only grow, even after the newest concern is purged, so a ref never names two concerns."""
    counter = db.execute("SELECT value FROM counters WHERE name = 'concerns'").fetchone()
    highest = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM concerns").fetchone()[0])
    next_id = max(int(counter[0]) if counter else 0, highest) + 1
    db.execute(
        "INSERT INTO counters (name, value) VALUES ('concerns', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [next_id],
    )
    return next_id


def _required(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise EmptyText(f"The {what} is empty: write what you want to say.")
    return text


def _actor(by: str) -> str:
    by = by.strip()
    if not by:
        raise UserError("Say who is doing this (for example --as 'Mrs Patel').")
    return by


class ConcernQueue:
    """Concerns, their audit trail and their outbox items, all through one Store."""

    def __init__(
        self,
        *,
        store: Store,
        calendars: Callable[[str], WorkingCalendar],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.calendars = calendars
        self.clock = clock

    # -- raising and reading ----------------------------------------------------------------

    async def open(
        self,
        *,
        school_id: str,
        channel: str,
        user_id: str,
        chat_id: str,
        audience: str,
        category: str,
        summary: str,
        urgent: bool,
        consent: bool = True,
        contact_method: str = "chat",
        phone: str | None = None,
    ) -> Concern:
        """Store a new concern, due by the school's promise, and tell the office."""
        if channel == OFFICE:
            raise ValueError("'office' is the staff channel, not a channel a concern can come from")
        now = self.clock()
        due = self.calendars(school_id).due_time(now, urgent=urgent)

        def insert(db: Database) -> dict[str, Any]:
            with write_transaction(db):
                concern_id = _next_id(db)
                ref = format_ref(concern_id)
                db.execute(
                    "INSERT INTO concerns (id, ref, school_id, channel, user_id, chat_id, audience, category, urgent,"
                    " status, summary, contact_method, phone, consent, created_at, due_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)",
                    [concern_id, ref, school_id, channel, user_id, chat_id, audience, category, int(urgent),
                     summary, contact_method, phone, int(consent), iso(now), iso(due)],
                )  # fmt: skip
                detail = f"category={category}; urgent={'yes' if urgent else 'no'}; contact={contact_method}"
                _event(db, concern_id, actor=f"{channel}:{user_id}", action="opened", detail=detail, now=now)
                enqueue(db, channel=OFFICE, kind="concern_opened", key=f"concern_opened:{ref}",
                        payload={"ref": ref}, concern_id=concern_id, now=now)  # fmt: skip
                row = _row(db, concern_id)
            assert row is not None
            return row

        concern = Concern.from_row(await self.store.run(insert))
        log.info("concern %s opened school=%s urgent=%s", concern.ref, school_id, urgent)
        return concern

    def _id(self, ref: str) -> int:
        concern_id = parse_ref(ref)
        if concern_id is None:
            raise ConcernNotFound(ref.strip())
        return concern_id

    async def _fetch(self, concern_id: int) -> dict[str, Any] | None:
        return await self.store.run(lambda db: _row(db, concern_id))

    async def get(self, ref: str) -> Concern:
        row = await self._fetch(self._id(ref))
        if row is None:
            raise ConcernNotFound(ref.strip())
        return Concern.from_row(row)

    async def for_user(self, channel: str, user_id: str) -> list[Concern]:
        """One person's own concerns, newest first."""
        rows = await self.store.run(
            lambda db: list(
                db.query("SELECT * FROM concerns WHERE channel = ? AND user_id = ? ORDER BY id DESC", [channel, user_id])
            )
        )
        return [Concern.from_row(row) for row in rows]

    async def get_for_user(self, ref: str, *, channel: str, user_id: str) -> Concern:
        """A concern, only if this person raised it; otherwise the same refusal whether it exists or not."""
        concern_id = parse_ref(ref)
        row = await self._fetch(concern_id) if concern_id is not None else None
        if row is None or row["channel"] != channel or row["user_id"] != user_id:
            shown = format_ref(concern_id) if concern_id is not None else "with that reference"
            raise NotAllowed(_NOT_YOURS.format(ref=shown))
        return Concern.from_row(row)

    async def events(self, ref: str) -> list[ConcernEvent]:
        """The audit trail, oldest first."""
        concern_id = self._id(ref)

        def read(db: Database) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            row = _row(db, concern_id)
            events = list(db.query("SELECT * FROM events WHERE concern_id = ? ORDER BY id", [concern_id]))
            return row, events

        row, events = await self.store.run(read)
        if row is None:
            raise ConcernNotFound(ref.strip())
        return [
            ConcernEvent(id=e["id"], ref=row["ref"], at=parse_iso(e["at"]), actor=e["actor"], action=e["action"],
                         detail=e["detail"] or "")  # fmt: skip
            for e in events
        ]

    async def set_office_post_ref(self, ref: str, value: str | None) -> None:
        """Where the office channel shows this concern (e.g. a Slack message ts)."""
        concern_id = self._id(ref)
        cur = await self.store.run(
            lambda db: db.execute("UPDATE concerns SET office_post_ref = ? WHERE id = ?", [value, concern_id])
        )
        if cur.rowcount == 0:
            raise ConcernNotFound(ref.strip())

    # -- changes -------------------------------------------------------------------------------

    async def _change(self, ref: str, change: Callable[[Database, dict[str, Any], datetime], None]) -> Concern:
        """Run `change(db, row, now)` in one write transaction and return the concern afterwards."""
        concern_id = self._id(ref)
        now = self.clock()

        def apply(db: Database) -> dict[str, Any]:
            with write_transaction(db):
                row = _row(db, concern_id)
                if row is None:
                    raise ConcernNotFound(ref.strip())
                change(db, row, now)
                after = _row(db, concern_id)
            assert after is not None
            return after

        return Concern.from_row(await self.store.run(apply))

    async def claim(self, ref: str, *, by: str) -> Concern:
        """Take a concern; if someone else has it, ConcernConflict names them.

        The conditional UPDATE is what decides the race, so it holds between processes.
        """
        by = _actor(by)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            cur = db.execute(
                "UPDATE concerns SET claimed_by = ?, claimed_at = ?,"
                " status = CASE WHEN status = 'open' THEN 'claimed' ELSE status END"
                " WHERE id = ? AND claimed_by IS NULL AND status IN (?, ?, ?)",
                [by, iso(now), row["id"], *ACTIVE],
            )
            if cur.rowcount == 1:
                event_id = _event(db, row["id"], actor=by, action="claimed", detail="", now=now)
                _tell_office(db, row, event_id, now)
                return
            current = _row(db, row["id"]) or row
            if current["status"] in CLOSED:
                raise ConcernConflict(f"{row['ref']} is {current['status']}; reopen it before claiming it.")
            if current["claimed_by"] != by:
                raise ConcernConflict(f"{row['ref']} is already claimed by {current['claimed_by']}.")

        return await self._change(ref, change)

    async def reply(self, ref: str, *, by: str, text: str) -> Concern:
        """Send the parent an answer on the channel they used; it counts as the office's reply."""
        by, text = _actor(by), _required(text, "reply")

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if row["status"] == "withdrawn":
                raise ConcernConflict(f"{row['ref']} was withdrawn by the parent, so the reply was not sent.")
            if row["status"] == "resolved":
                raise ConcernConflict(
                    f"{row['ref']} is resolved, so the reply was not sent. Reopen it first if you need to write to them."
                )
            db.execute(
                "UPDATE concerns SET status = 'replied', claimed_by = COALESCE(claimed_by, ?),"
                " claimed_at = COALESCE(claimed_at, ?) WHERE id = ?",
                [by, iso(now), row["id"]],
            )
            event_id = _event(db, row["id"], actor=by, action="replied", detail=text, now=now)
            message = f"The school has replied about your concern {row['ref']}:\n\n{text}"
            _tell_parent(db, row, key=f"reply:{row['ref']}:{event_id}", text=message, now=now)
            _tell_office(db, row, event_id, now)

        return await self._change(ref, change)

    async def note(self, ref: str, *, by: str, text: str) -> Concern:
        """An internal note for the office's record; never sent to anyone."""
        by, text = _actor(by), _required(text, "note")

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            _event(db, row["id"], actor=by, action="note", detail=text, now=now)

        return await self._change(ref, change)

    async def resolve(self, ref: str, *, by: str) -> Concern:
        """Close a concern and let the parent know the door is still open."""
        by = _actor(by)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if row["status"] in CLOSED:
                raise ConcernConflict(f"{row['ref']} is already {row['status']}.")
            db.execute("UPDATE concerns SET status = 'resolved', resolved_at = ? WHERE id = ?", [iso(now), row["id"]])
            event_id = _event(db, row["id"], actor=by, action="resolved", detail="", now=now)
            message = (
                f"The school has marked your concern {row['ref']} as resolved. "
                "If there's anything more, just reply here or raise it again: the door is always open."
            )
            _tell_parent(db, row, key=f"resolved:{row['ref']}:{event_id}", text=message, now=now)
            _tell_office(db, row, event_id, now)

        return await self._change(ref, change)

    async def reopen(self, ref: str, *, by: str) -> Concern:
        """Open a closed concern again; the promise starts again from now."""
        by = _actor(by)
        concern = await self.get(ref)  # school and urgency never change, so the due time can be worked out here
        due = self.calendars(concern.school_id).due_time(self.clock(), urgent=concern.urgent)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if row["status"] not in CLOSED:
                raise ConcernConflict(f"{row['ref']} is {row['status']}, not closed, so there is nothing to reopen.")
            db.execute(
                "UPDATE concerns SET status = 'open', claimed_by = NULL, claimed_at = NULL, resolved_at = NULL,"
                " reminded_at = NULL, due_at = ? WHERE id = ?",
                [iso(due), row["id"]],
            )
            event_id = _event(db, row["id"], actor=by, action="reopened", detail=f"was {row['status']}", now=now)
            _tell_office(db, row, event_id, now)

        return await self._change(ref, change)

    async def withdraw(self, ref: str, *, channel: str, user_id: str) -> Concern:
        """The parent takes their concern back; the office is told. Safeguarding records stay open."""
        mine = await self.get_for_user(ref, channel=channel, user_id=user_id)
        if mine.safeguarding:
            raise NotAllowed(_KEPT.format(ref=mine.ref))

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if row["channel"] != channel or row["user_id"] != user_id:  # forgotten and reused meanwhile
                raise NotAllowed(_NOT_YOURS.format(ref=row["ref"]))
            if Concern.from_row(row).safeguarding:
                raise NotAllowed(_KEPT.format(ref=row["ref"]))
            if row["status"] in CLOSED:
                raise ConcernConflict(f"{row['ref']} is already {row['status']}.")
            db.execute("UPDATE concerns SET status = 'withdrawn', resolved_at = ? WHERE id = ?", [iso(now), row["id"]])
            event_id = _event(db, row["id"], actor=f"{channel}:{user_id}", action="withdrawn", detail="", now=now)
            _tell_office(db, row, event_id, now)

        return await self._change(mine.ref, change)

    # -- housekeeping ----------------------------------------------------------------------------

    async def remind_overdue(self) -> int:
        """Remind the office of each overdue concern, at most once a day each; returns how many."""
        now = self.clock()
        stamp, since = iso(now), iso(now - REMIND_EVERY)
        due_clause = "status IN ('open', 'claimed') AND due_at <= ? AND (reminded_at IS NULL OR reminded_at <= ?)"

        def remind(db: Database) -> int:
            count = 0
            with write_transaction(db):
                rows = list(db.query(f"SELECT * FROM concerns WHERE {due_clause} ORDER BY id", [stamp, since]))
                for row in rows:  # the write lock is held, so no other process can remind in between
                    db.execute("UPDATE concerns SET reminded_at = ? WHERE id = ?", [stamp, row["id"]])
                    _event(db, row["id"], actor="system", action="reminded", detail="overdue", now=now)
                    count += enqueue(
                        db, channel=OFFICE, kind="concern_overdue", key=f"concern_overdue:{row['ref']}:{now.date()}",
                        payload={"ref": row["ref"]}, concern_id=row["id"], now=now,
                    )  # fmt: skip
            return count

        count = await self.store.run(remind)
        if count:
            log.info("overdue reminders enqueued: %d", count)
        return count

    # -- the office's view (kept last: after this def, `list` in the class means the method) -----

    async def list(
        self, *, status: builtins.list[str] | None = None, overdue: bool = False, school_id: str | None = None
    ) -> builtins.list[Concern]:
        """Concerns for the office: urgent first, then by due time."""
        clauses, params = [], []
        if status:
            unknown = sorted(set(status) - set(STATUSES))
            if unknown:
                raise UserError(f"Unknown status {', '.join(unknown)}: use {', '.join(STATUSES)}.")
            clauses.append(f"status IN ({', '.join('?' for _ in status)})")
            params.extend(status)
        if overdue:
            clauses.append(f"status IN ({', '.join('?' for _ in AWAITING)}) AND due_at <= ?")
            params.extend([*AWAITING, iso(self.clock())])
        if school_id is not None:
            clauses.append("school_id = ?")
            params.append(school_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM concerns{where} ORDER BY urgent DESC, due_at, id"
        rows = await self.store.run(lambda db: list(db.query(sql, params)))
        return [Concern.from_row(row) for row in rows]
