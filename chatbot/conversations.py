"""Per-user conversation state (chosen school, active flow), kept in SQLite so a restart loses nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlite_utils import Database

from chatbot.store import Store, dumps, iso, utcnow


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """Where one person is: their school, and the flow step they are on (if any)."""

    channel: str
    user_id: str
    school_id: str = ""
    audience: str = ""
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def in_flow(self) -> bool:
        return bool(self.flow)

    def at(self, flow: str, step: str, **data: Any) -> Conversation:
        return replace(self, flow=flow, step=step, data={**self.data, **data})

    def cleared(self) -> Conversation:
        return replace(self, flow="", step="", data={})


class ConversationStore:
    """Load and save `Conversation` rows."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    async def get(self, channel: str, user_id: str) -> Conversation:
        def load(db: Database) -> Conversation:
            rows = list(db.query("SELECT * FROM conversations WHERE channel = ? AND user_id = ?", [channel, user_id]))
            if not rows:
                return Conversation(channel=channel, user_id=user_id)
            row = rows[0]
            return Conversation(
                channel=channel,
                user_id=user_id,
                school_id=row["school_id"] or "",
                audience=row["audience"] or "",
                flow=row["flow"] or "",
                step=row["step"] or "",
                data=json.loads(row["data"] or "{}"),
            )

        return await self._store.run(load)

    async def save(self, conversation: Conversation) -> None:
        row = {
            "channel": conversation.channel,
            "user_id": conversation.user_id,
            "school_id": conversation.school_id,
            "audience": conversation.audience,
            "flow": conversation.flow,
            "step": conversation.step,
            "data": dumps(conversation.data),
            "updated_at": iso(utcnow()),
        }
        await self._store.run(lambda db: db.table("conversations").upsert(row, pk=("channel", "user_id")))

    async def delete(self, channel: str, user_id: str) -> None:
        await self._store.run(
            lambda db: db.execute("DELETE FROM conversations WHERE channel = ? AND user_id = ?", [channel, user_id])
        )
