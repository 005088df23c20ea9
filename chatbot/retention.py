"""What is deleted, and what is kept: /forget, the bulk purge, and expiring unsent text.

A safeguarding record (a report escalated as urgent, or confirmed at the
safeguarding check) is the school's child-protection record, which it has a legal
duty to keep. So /forget keeps it (with its audit trail and any alert to the
safeguarding lead not yet sent), and the bulk purge only touches one when asked
explicitly, and only once it has been closed for the configured number of years.
Everything else about a person goes when they ask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlite_utils import Database

from chatbot.concerns import SAFEGUARDING_SQL
from chatbot.config import RetentionPolicy
from chatbot.destinations import OFFICE_PREFIX
from chatbot.outbox import enqueue, office_for, write_transaction
from chatbot.store import Store, iso, utcnow

log = logging.getLogger(__name__)

CLOSED_SQL = "status IN ('resolved', 'withdrawn')"
CLOSED_AT_SQL = "COALESCE(resolved_at, created_at)"


@dataclass(frozen=True, kw_only=True)
class Forgotten:
    """What /forget deleted, and the refs of the safeguarding records it kept."""

    concerns: int
    events: int
    outbox: int
    conversations: int
    kept: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Purged:
    """What a purge deleted, and how many closed safeguarding records it left alone."""

    concerns: int
    safeguarding: int
    safeguarding_kept: int


def years_before(moment: datetime, years: int) -> datetime:
    """The same date `years` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


class Retention:
    """Deletion that respects the safeguarding duty; every call goes through the Store."""

    def __init__(
        self, *, store: Store, policy: RetentionPolicy = RetentionPolicy(), clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    async def forget_user(self, channel: str, user_id: str) -> Forgotten:
        """Delete everything about one person except their safeguarding records."""
        now = self.clock()
        person = [channel, user_id]

        def forget(db: Database) -> Forgotten:
            with write_transaction(db):
                kept = [
                    (row[0], row[1])
                    for row in db.execute(
                        f"SELECT id, ref FROM concerns WHERE channel = ? AND user_id = ? AND {SAFEGUARDING_SQL}"
                        " ORDER BY id", person,
                    ).fetchall()
                ]  # fmt: skip
                addressed = db.execute(
                    "DELETE FROM outbox WHERE concern_id IS NULL AND channel = ? AND json_valid(payload)"
                    " AND (json_extract(payload, '$.user_id') = ? OR json_extract(payload, '$.chat_id') = ?"
                    " OR json_extract(payload, '$.chat_id') IN"
                    f" (SELECT chat_id FROM concerns WHERE channel = ? AND user_id = ? AND NOT {SAFEGUARDING_SQL}))",
                    [channel, user_id, user_id, channel, user_id],
                ).rowcount
                counts = _delete_concerns(db, f"channel = ? AND user_id = ? AND NOT {SAFEGUARDING_SQL}", person)
                for concern_id, _ in kept:
                    db.execute(
                        "INSERT INTO events (concern_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
                        [concern_id, iso(now), f"{channel}:{user_id}", "forget_refused",
                         "the reporter asked to be forgotten; kept as a safeguarding record"],
                    )  # fmt: skip
                conversations = db.execute(
                    "DELETE FROM conversations WHERE channel = ? AND user_id = ?", person
                ).rowcount
            return Forgotten(
                concerns=counts["concerns"], events=counts["events"], outbox=counts["outbox"] + addressed,
                conversations=conversations, kept=tuple(ref for _, ref in kept),
            )  # fmt: skip

        result = await self.store.run(forget)
        log.info(
            "forgot a user on %s: concerns=%d events=%d outbox=%d conversations=%d safeguarding_kept=%d",
            channel, result.concerns, result.events, result.outbox, result.conversations, len(result.kept),
        )  # fmt: skip
        return result

    async def purge(self, *, resolved_before: datetime, include_safeguarding: bool = False) -> Purged:
        """Delete concerns closed before the cutoff, with their trail and outbox items.

        Safeguarding records are left alone unless `include_safeguarding`; even then
        only those closed before both the cutoff and the safeguarding retention.
        """
        if resolved_before.tzinfo is None:
            raise ValueError("purge needs an aware datetime")
        cutoff = iso(resolved_before)
        retained_since = iso(min(resolved_before, years_before(self.clock(), self.policy.safeguarding_years)))
        ordinary = f"{CLOSED_SQL} AND {CLOSED_AT_SQL} < ? AND NOT {SAFEGUARDING_SQL}"
        expired = f"{CLOSED_SQL} AND {CLOSED_AT_SQL} < ? AND {SAFEGUARDING_SQL}"

        def purge(db: Database) -> Purged:
            with write_transaction(db):
                plain = _delete_concerns(db, ordinary, [cutoff])["concerns"]
                safeguarding = _delete_concerns(db, expired, [retained_since])["concerns"] if include_safeguarding else 0
                left = int(db.execute(f"SELECT COUNT(*) FROM concerns WHERE {expired}", [cutoff]).fetchone()[0])
            return Purged(concerns=plain + safeguarding, safeguarding=safeguarding, safeguarding_kept=left)

        result = await self.store.run(purge)
        log.info("purged concerns=%d safeguarding=%d safeguarding_kept=%d",
                 result.concerns, result.safeguarding, result.safeguarding_kept)  # fmt: skip
        return result

    async def expire_unsent_text(self) -> int:
        """Clear flow data (e.g. a concern typed but never sent) untouched for longer than the policy allows."""
        cutoff = iso(self.clock() - timedelta(hours=self.policy.unsent_text_hours))
        cleared = await self.store.run(
            lambda db: db.execute(
                "UPDATE conversations SET flow = '', step = '', data = '{}'"
                " WHERE updated_at < ? AND (flow != '' OR step != '' OR data != '{}')",
                [cutoff],
            ).rowcount
        )
        if cleared:
            log.info("expired unsent conversation data: %d", cleared)
        return int(cleared)


def _delete_concerns(db: Database, where: str, params: list[Any]) -> dict[str, int]:
    """Delete the concerns matching `where` with their events and every outbox item that names them."""
    with write_transaction(db):
        ids = f"SELECT id FROM concerns WHERE {where}"
        refs = f"SELECT ref FROM concerns WHERE {where}"
        shown = db.execute(  # an office item someone tried to deliver: the office may show a card for it
            f"SELECT id, ref, school_id FROM concerns AS c WHERE {where} AND EXISTS (SELECT 1 FROM outbox AS o"
            " WHERE o.channel = ? || c.school_id AND (o.status != 'pending' OR o.attempts > 0) AND (o.concern_id = c.id"
            " OR (CASE WHEN json_valid(o.payload) THEN json_extract(o.payload, '$.ref') END) = c.ref))",
            [*params, OFFICE_PREFIX],
        ).fetchall()
        outbox = db.execute(
            f"DELETE FROM outbox WHERE (concern_id IN ({ids}) OR"
            f" (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.ref') END) IN ({refs}))"
            " AND kind != 'concern_removed'",
            [*params, *params],
        ).rowcount
        for concern_id, ref, school_id in shown:
            # The office's card still shows the summary: ask that school's office to blank it (it knows where).
            enqueue(db, channel=office_for(school_id), kind="concern_removed", key=f"concern:{concern_id}:removed",
                    payload={"ref": ref})  # fmt: skip
        events = db.execute(f"DELETE FROM events WHERE concern_id IN ({ids})", params).rowcount
        concerns = db.execute(f"DELETE FROM concerns WHERE {where}", params).rowcount
    return {"concerns": concerns, "events": events, "outbox": outbox}
