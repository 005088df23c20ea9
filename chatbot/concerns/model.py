"""What a concern is: its status (with the moves allowed between statuses), its reference, its audit events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chatbot import account_replies
from chatbot.errors import UserError
from chatbot.messages import Audience
from chatbot.store import iso, parse_iso


class Status(StrEnum):
    """Where a concern is. A StrEnum, so it is stored and compared as its plain value."""

    OPEN = "open"
    CLAIMED = "claimed"
    REPLIED = "replied"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


# The moves the queue allows; anything else is a ConcernConflict. Replying again is a move too.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.CLAIMED, Status.REPLIED, Status.RESOLVED, Status.WITHDRAWN}),
    Status.CLAIMED: frozenset({Status.REPLIED, Status.RESOLVED, Status.WITHDRAWN}),
    Status.REPLIED: frozenset({Status.REPLIED, Status.RESOLVED, Status.WITHDRAWN}),
    Status.RESOLVED: frozenset({Status.OPEN}),
    Status.WITHDRAWN: frozenset({Status.OPEN}),
}


def can_move(current: str, to: Status) -> bool:
    return to in TRANSITIONS.get(Status(current), frozenset())


ACTIVE = (Status.OPEN, Status.CLAIMED, Status.REPLIED)
CLOSED = (Status.RESOLVED, Status.WITHDRAWN)
STATUSES = ACTIVE + CLOSED
AWAITING = (Status.OPEN, Status.CLAIMED)  # still owed an answer: these can be overdue
REMIND_EVERY = timedelta(hours=24)
SAFEGUARDING_CATEGORY = "concern_safeguarding"
# A safeguarding record: escalated as urgent, or confirmed at the safeguarding check (also urgent).
SAFEGUARDING_SQL = f"(urgent = 1 OR category = '{SAFEGUARDING_CATEGORY}')"

_REF = re.compile(r"\s*(?:C\s*-?\s*)?0*(\d{1,12})\s*", re.IGNORECASE)
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
    audience: Audience
    category: str
    urgent: bool
    status: Status
    summary: str
    contact_method: str
    phone: str | None
    consent: bool
    created_at: datetime
    due_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None  # when it was closed: resolved or withdrawn
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
            audience=Audience(row["audience"] or "parent"),
            category=row["category"],
            urgent=bool(row["urgent"]),
            status=Status(row["status"]),
            summary=row["summary"] or "",
            contact_method=row["contact_method"] or "chat",
            phone=row["phone"],
            consent=bool(row["consent"]),
            created_at=parse_iso(row["created_at"]),
            due_at=parse_iso(row["due_at"]),
            claimed_by=row["claimed_by"],
            claimed_at=_time(row["claimed_at"]),
            resolved_at=_time(row["resolved_at"]),
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
        return account_replies.STATUS_WORDS[self.status]

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
