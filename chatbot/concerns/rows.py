"""The concern queue's SQL steps, each run inside the caller's write transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from chatbot.concerns.model import EmptyText
from chatbot.destinations import Destination
from chatbot.errors import UserError
from chatbot.outbox import enqueue, office_for
from chatbot.store import iso


def row_of(db: Database, concern_id: int) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM concerns WHERE id = ?", [concern_id])), None)


def add_event(db: Database, concern_id: int, *, actor: str, action: str, detail: str, now: datetime) -> int:
    cur = db.execute(
        "INSERT INTO events (concern_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
        [concern_id, iso(now), actor, action, detail],
    )
    return int(cur.lastrowid or 0)


def tell_office(db: Database, row: dict[str, Any], event_id: int, now: datetime) -> None:
    enqueue(db, channel=office_for(row["school_id"]), kind="concern_updated", key=f"concern_updated:{row['ref']}:{event_id}",
            payload={"ref": row["ref"]}, concern_id=row["id"], now=now)  # fmt: skip


def tell_parent(db: Database, row: dict[str, Any], *, key: str, text: str, now: datetime) -> None:
    enqueue(db, channel=Destination.parse(row["channel"]), kind="message", key=key,
            payload={"chat_id": row["chat_id"], "text": text, "ref": row["ref"]}, concern_id=row["id"], now=now)  # fmt: skip


def next_id(db: Database) -> int:
    """Ids only grow, even after the newest concern is purged, so a ref never names two concerns."""
    counter = db.execute("SELECT value FROM counters WHERE name = 'concerns'").fetchone()
    highest = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM concerns").fetchone()[0])
    next_id = max(int(counter[0]) if counter else 0, highest) + 1
    db.execute(
        "INSERT INTO counters (name, value) VALUES ('concerns', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [next_id],
    )
    return next_id


def required(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise EmptyText(f"The {what} is empty: write what you want to say.")
    return text


def actor(by: str) -> str:
    by = by.strip()
    if not by:
        raise UserError("Say who is doing this (for example --as 'Mrs Patel').")
    return by
