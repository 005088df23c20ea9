"""A crash doubles at most one answer: never more than one message is sent to Telegram but not yet recorded.

A message the bot sent is "recorded" once its update is marked done in the inbox
(a direct answer) or its outbox item is marked delivered (an office reply). A
SIGKILL at any moment re-sends, after the restart, exactly the messages sent but
not recorded at that moment. The fake Bot API looks at the database file, as a
restart would find it, each time a message arrives: there is never more than one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from chatbot.destinations import TELEGRAM
from chatbot.knowledge import KnowledgeBase
from chatbot.outbox import enqueue, write_transaction
from chatbot.understanding.fusion import FusedMatcher
from tests.adapters.telegram.test_adapter import running
from tests.fakes.telegram_api import Call, FakeTelegramAPI, text_update

QUESTION = "is it ok to moan about the school on facebook"
PARENTS = range(3001, 3025)  # more than the adapter handles at once (8)
OFFICE_REPLIES = range(3101, 3113)  # parents the office answered, waiting in the outbox meanwhile


async def test_at_most_one_message_is_ever_sent_but_not_recorded(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    fake.latency = 0.02  # a network round trip: concurrent answers would overlap in it
    update_of: dict[str, str] = {}
    unrecorded_at_each_send: list[int] = []
    async with running(fake, tmp_path, kb, matcher) as bot:
        reader = sqlite3.connect(tmp_path / "t.db")

        def unrecorded(chat: str) -> bool:
            if chat in update_of:
                row = reader.execute("SELECT status FROM inbox WHERE channel = 'telegram' AND key = ?",
                                     [update_of[chat]]).fetchone()  # fmt: skip
                return row is None or row[0] != "done"
            row = reader.execute("SELECT status FROM outbox WHERE key = ?", [f"office-{chat}"]).fetchone()
            return row is None or row[0] != "delivered"

        def look(call: Call) -> None:
            chats = {c.chat_id for c in fake.sent() if c.chat_id is not None}
            unrecorded_at_each_send.append(sum(unrecorded(chat) for chat in chats))

        fake.on_send = look

        def queue_office_replies(db: Database) -> None:
            with write_transaction(db):
                for chat in OFFICE_REPLIES:
                    enqueue(db, channel=TELEGRAM, kind="message", key=f"office-{chat}",
                            payload={"chat_id": str(chat), "text": "The school has replied."})  # fmt: skip

        for chat in PARENTS:
            update_of[str(chat)] = str(fake.push(text_update(chat, QUESTION)))
        await bot.runtime.store.run(queue_office_replies)
        everyone = [str(chat) for chat in (*PARENTS, *OFFICE_REPLIES)]
        await fake.wait_for(lambda: all(fake.sent(chat) for chat in everyone), timeout=60, what="every answer")
        reader.close()

    assert len(unrecorded_at_each_send) == len(PARENTS) + len(OFFICE_REPLIES)  # one message each, none repeated
    assert max(unrecorded_at_each_send) == 1  # the one arriving: everything sent before it was recorded
