"""The concern queue: the policy's open door, kept.

A parent brings a concern here instead of to social media; the office claims it,
replies, resolves it. Each action writes an audit event, and everything that must
reach someone (the office's Slack post, the parent's reply) goes into the outbox
in the same transaction as the change, so nothing is promised and then lost.
"""

from __future__ import annotations

import builtins
import logging
from datetime import datetime
from typing import Any, Callable

from sqlite_utils import Database

from chatbot import account_replies
from chatbot.calendar import WorkingCalendar
from chatbot.concerns.model import (
    ACTIVE, AWAITING, CLOSED, REMIND_EVERY, STATUSES, Concern, ConcernEvent, Status, can_move, format_ref, parse_ref,
)
from chatbot.concerns.rows import actor, add_event, next_id, required, row_of, tell_office, tell_parent
from chatbot.errors import ConcernConflict, ConcernNotFound, NotAllowed, UserError
from chatbot.outbox import enqueue, is_office, office_for, write_transaction
from chatbot.store import Store, iso, parse_iso, utcnow

log = logging.getLogger(__name__)

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
        if is_office(channel):
            raise ValueError(f"{channel!r} is an office destination, not a channel a concern can come from")
        now = self.clock()
        due = self.calendars(school_id).due_time(now, urgent=urgent)

        def insert(db: Database) -> dict[str, Any]:
            with write_transaction(db):
                concern_id = next_id(db)
                ref = format_ref(concern_id)
                db.execute(
                    "INSERT INTO concerns (id, ref, school_id, channel, user_id, chat_id, audience, category, urgent,"
                    " status, summary, contact_method, phone, consent, created_at, due_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)",
                    [concern_id, ref, school_id, channel, user_id, chat_id, audience, category, int(urgent),
                     summary, contact_method, phone, int(consent), iso(now), iso(due)],
                )  # fmt: skip
                detail = f"category={category}; urgent={'yes' if urgent else 'no'}; contact={contact_method}"
                add_event(db, concern_id, actor=f"{channel}:{user_id}", action="opened", detail=detail, now=now)
                enqueue(db, channel=office_for(school_id), kind="concern_opened", key=f"concern_opened:{ref}",
                        payload={"ref": ref}, concern_id=concern_id, now=now)  # fmt: skip
                row = row_of(db, concern_id)
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
        return await self.store.run(lambda db: row_of(db, concern_id))

    async def get(self, ref: str, *, school: str | None = None) -> Concern:
        """A concern; with `school`, only if it is that school's (another school's is "not found")."""
        row = await self._fetch(self._id(ref))
        if row is None or (school is not None and row["school_id"] != school):
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
            raise NotAllowed(account_replies.NOT_YOURS.format(ref=shown))
        return Concern.from_row(row)

    async def events(self, ref: str) -> list[ConcernEvent]:
        """The audit trail, oldest first."""
        concern_id = self._id(ref)

        def read(db: Database) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            row = row_of(db, concern_id)
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

    # -- changes -------------------------------------------------------------------------------

    async def _change(
        self, ref: str, change: Callable[[Database, dict[str, Any], datetime], None], *, school: str | None = None
    ) -> Concern:
        """Run `change(db, row, now)` in one write transaction and return the concern afterwards.

        An office acting for `school` can only change that school's concerns: any
        other ref is "not found", checked inside the same transaction.
        """
        concern_id = self._id(ref)
        now = self.clock()

        def apply(db: Database) -> dict[str, Any]:
            with write_transaction(db):
                row = row_of(db, concern_id)
                if row is None or (school is not None and row["school_id"] != school):
                    raise ConcernNotFound(ref.strip())
                change(db, row, now)
                after = row_of(db, concern_id)
            assert after is not None
            return after

        return Concern.from_row(await self.store.run(apply))

    async def claim(self, ref: str, *, by: str, school: str | None = None) -> Concern:
        """Take a concern; if someone else has it, ConcernConflict names them.

        The conditional UPDATE is what decides the race, so it holds between processes.
        """
        by = actor(by)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            cur = db.execute(
                "UPDATE concerns SET claimed_by = ?, claimed_at = ?,"
                " status = CASE WHEN status = 'open' THEN 'claimed' ELSE status END"
                " WHERE id = ? AND claimed_by IS NULL AND status IN (?, ?, ?)",
                [by, iso(now), row["id"], *ACTIVE],
            )
            if cur.rowcount == 1:
                event_id = add_event(db, row["id"], actor=by, action="claimed", detail="", now=now)
                tell_office(db, row, event_id, now)
                return
            current = row_of(db, row["id"]) or row
            if current["status"] in CLOSED:
                raise ConcernConflict(f"{row['ref']} is {current['status']}; reopen it before claiming it.")
            if current["claimed_by"] != by:
                raise ConcernConflict(f"{row['ref']} is already claimed by {current['claimed_by']}.")

        return await self._change(ref, change, school=school)

    async def reply(self, ref: str, *, by: str, text: str, school: str | None = None) -> Concern:
        """Send the parent an answer on the channel they used; it counts as the office's reply."""
        by, text = actor(by), required(text, "reply")

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if not can_move(row["status"], Status.REPLIED):
                if row["status"] == Status.WITHDRAWN:
                    raise ConcernConflict(f"{row['ref']} was withdrawn by the parent, so the reply was not sent.")
                raise ConcernConflict(
                    f"{row['ref']} is resolved, so the reply was not sent. Reopen it first if you need to write to them."
                )
            db.execute(
                "UPDATE concerns SET status = 'replied', claimed_by = COALESCE(claimed_by, ?),"
                " claimed_at = COALESCE(claimed_at, ?) WHERE id = ?",
                [by, iso(now), row["id"]],
            )
            event_id = add_event(db, row["id"], actor=by, action="replied", detail=text, now=now)
            tell_parent(db, row, key=f"reply:{row['ref']}:{event_id}", text=account_replies.office_replied(row["ref"], text), now=now)
            tell_office(db, row, event_id, now)

        return await self._change(ref, change, school=school)

    async def note(self, ref: str, *, by: str, text: str, school: str | None = None) -> Concern:
        """An internal note for the office's record; never sent to anyone."""
        by, text = actor(by), required(text, "note")

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            add_event(db, row["id"], actor=by, action="note", detail=text, now=now)

        return await self._change(ref, change, school=school)

    async def resolve(self, ref: str, *, by: str, school: str | None = None) -> Concern:
        """Close a concern and let the parent know the door is still open."""
        by = actor(by)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if not can_move(row["status"], Status.RESOLVED):
                raise ConcernConflict(f"{row['ref']} is already {row['status']}.")
            db.execute("UPDATE concerns SET status = 'resolved', resolved_at = ? WHERE id = ?", [iso(now), row["id"]])
            event_id = add_event(db, row["id"], actor=by, action="resolved", detail="", now=now)
            tell_parent(db, row, key=f"resolved:{row['ref']}:{event_id}", text=account_replies.resolved(row["ref"]), now=now)
            tell_office(db, row, event_id, now)

        return await self._change(ref, change, school=school)

    async def reopen(self, ref: str, *, by: str, school: str | None = None) -> Concern:
        """Open a closed concern again; the promise starts again from now."""
        by = actor(by)
        concern = await self.get(ref, school=school)  # school and urgency never change, so the due time can be worked out here
        due = self.calendars(concern.school_id).due_time(self.clock(), urgent=concern.urgent)

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if not can_move(row["status"], Status.OPEN):
                raise ConcernConflict(f"{row['ref']} is {row['status']}, not closed, so there is nothing to reopen.")
            db.execute(
                "UPDATE concerns SET status = 'open', claimed_by = NULL, claimed_at = NULL, resolved_at = NULL,"
                " reminded_at = NULL, due_at = ? WHERE id = ?",
                [iso(due), row["id"]],
            )
            event_id = add_event(db, row["id"], actor=by, action="reopened", detail=f"was {row['status']}", now=now)
            tell_office(db, row, event_id, now)

        return await self._change(ref, change, school=school)

    async def withdraw(self, ref: str, *, channel: str, user_id: str) -> Concern:
        """The parent takes their concern back; the office is told. Safeguarding records stay open."""
        mine = await self.get_for_user(ref, channel=channel, user_id=user_id)
        if mine.safeguarding:
            raise NotAllowed(account_replies.KEPT_SAFEGUARDING.format(ref=mine.ref))

        def change(db: Database, row: dict[str, Any], now: datetime) -> None:
            if row["channel"] != channel or row["user_id"] != user_id:  # forgotten and reused meanwhile
                raise NotAllowed(account_replies.NOT_YOURS.format(ref=row["ref"]))
            if Concern.from_row(row).safeguarding:
                raise NotAllowed(account_replies.KEPT_SAFEGUARDING.format(ref=row["ref"]))
            if not can_move(row["status"], Status.WITHDRAWN):
                raise ConcernConflict(f"{row['ref']} is already {row['status']}.")
            db.execute("UPDATE concerns SET status = 'withdrawn', resolved_at = ? WHERE id = ?", [iso(now), row["id"]])
            event_id = add_event(db, row["id"], actor=f"{channel}:{user_id}", action="withdrawn", detail="", now=now)
            tell_office(db, row, event_id, now)

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
                    add_event(db, row["id"], actor="system", action="reminded", detail="overdue", now=now)
                    count += enqueue(
                        db, channel=office_for(row["school_id"]), kind="concern_overdue", key=f"concern_overdue:{row['ref']}:{now.date()}",
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
