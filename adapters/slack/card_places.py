"""Where each concern's card sits in Slack: a table the Slack adapter owns, not a column of the core's.

The core knows a concern by its ref; only this adapter knows that the ref has a card
at (channel, ts). The table is created at start-up through the Store. A database
from before it existed kept each card's ts in concerns.office_post_ref: those are
moved here once (copied, then cleared).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from chatbot.store import Store

log = logging.getLogger(__name__)

TABLE = "slack_cards"
LEGACY_COLUMN = "office_post_ref"


@dataclass(frozen=True)
class CardPlace:
    """A posted card: its office channel and message ts."""

    channel: str
    ts: str


class CardPlaces:
    """Find, remember and forget where each concern's card is, keyed by the concern's ref."""

    def __init__(self, *, store: Store) -> None:
        self.store = store

    async def open(self, office_channels: Mapping[str, str]) -> int:
        """Create the table if needed, and move in the cards the old column knew (for the schools served here)."""

        def create(db: Database) -> int:
            with db.atomic():
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (concern_ref TEXT PRIMARY KEY, school_id TEXT NOT NULL,"
                    " channel TEXT NOT NULL, ts TEXT NOT NULL)"
                )
                if LEGACY_COLUMN not in db["concerns"].columns_dict:
                    return 0
                moved = 0
                legacy = f"SELECT ref, school_id, {LEGACY_COLUMN} FROM concerns WHERE {LEGACY_COLUMN} IS NOT NULL"
                for ref, school_id, ts in db.execute(legacy).fetchall():
                    channel = office_channels.get(school_id)
                    if channel is None:  # a school another workspace serves: left for that one
                        continue
                    db.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?, ?, ?)", [ref, school_id, channel, ts])
                    db.execute(f"UPDATE concerns SET {LEGACY_COLUMN} = NULL WHERE ref = ?", [ref])
                    moved += 1
                return moved

        moved = await self.store.run(create)
        if moved:
            log.info("slack: %d card place(s) moved from concerns.%s to %s", moved, LEGACY_COLUMN, TABLE)
        return moved

    async def find(self, ref: str) -> CardPlace | None:
        row = await self.store.run(
            lambda db: db.execute(f"SELECT channel, ts FROM {TABLE} WHERE concern_ref = ?", [ref]).fetchone()
        )
        return CardPlace(channel=str(row[0]), ts=str(row[1])) if row else None

    async def remember(self, ref: str, *, school_id: str, place: CardPlace) -> None:
        await self.store.run(
            lambda db: db.execute(
                f"INSERT INTO {TABLE} (concern_ref, school_id, channel, ts) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(concern_ref) DO UPDATE SET school_id = excluded.school_id,"
                " channel = excluded.channel, ts = excluded.ts",
                [ref, school_id, place.channel, place.ts],
            )
        )

    async def forget(self, ref: str) -> None:
        await self.store.run(lambda db: db.execute(f"DELETE FROM {TABLE} WHERE concern_ref = ?", [ref]))
