"""A child may be at risk: escalate at once, or ask the one check question that carries the 999 line.

Also the emergency path when the database can't be written: the advice still goes
out, and the report waits in the fallback journal until the queue can take it.
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from chatbot import replies
from chatbot.concerns import ConcernQueue
from chatbot.conversations import ConversationStore
from chatbot.errors import StorageError
from chatbot.flow_runner import FlowRunner, Turn
from chatbot.flows import safeguarding_check
from chatbot.flows.intake import MAX_CONCERN_CHARS
from chatbot.journal import FallbackJournal
from chatbot.knowledge import KnowledgeBase
from chatbot.messages import Incoming, Reply, Visibility
from chatbot.reading import SAFEGUARDING, Understanding

log = logging.getLogger(__name__)


class Escalation:
    """Opens urgent concerns, asks the safeguarding check, and keeps urgent reports when storage fails."""

    def __init__(
        self, *, kb: KnowledgeBase, concerns: ConcernQueue, conversations: ConversationStore, flows: FlowRunner,
        journal: FallbackJournal | None,
    ) -> None:  # fmt: skip
        self.kb = kb
        self.concerns = concerns
        self.conversations = conversations
        self.flows = flows
        self.journal = journal

    async def urgent(self, turn: Turn, text: str, confidence: float, understanding: Understanding | None) -> Reply:
        """Escalate at once, wherever it was said; in a group, ask for no more details there."""
        incoming, school = turn.incoming, turn.school
        concern = await self.concerns.open(
            school_id=school.id, channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
            audience=incoming.audience.value, category=SAFEGUARDING, summary=text[:MAX_CONCERN_CHARS],
            urgent=True, consent=True, contact_method="chat",
        )  # fmt: skip
        if not incoming.is_group:
            await self.conversations.save(turn.conv.cleared())
        found = (understanding.safeguarding.category or understanding.safeguarding.signal.value) if understanding else "chosen"
        log.warning("urgent concern %s school=%s category=%s", concern.ref, school.id, found)
        advice = replies.emergency(school, concern.ref, None)
        return Reply(
            text=f"{advice}\n\n{replies.GROUP_URGENT}" if incoming.is_group else advice, intent=SAFEGUARDING,
            confidence=confidence, urgent=True, concern_ref=concern.ref, visibility=Visibility.ASKER,
        )  # fmt: skip

    async def check(self, turn: Turn, text: str, understanding: Understanding) -> Reply:
        """The net is unsure: ask the one question that already carries the emergency line."""
        log.info("safeguarding check asked school=%s signal=%s", turn.school.id, understanding.safeguarding.signal.value)
        if turn.incoming.is_group:  # nothing is stored from a group: the 999 line, and an invitation to talk privately
            return Reply(
                text=f"{safeguarding_check.EMERGENCY_LINE}\n\n{replies.GROUP_PRIVATE}", intent=SAFEGUARDING,
                confidence=understanding.decision.confidence, visibility=Visibility.ASKER,
            )  # fmt: skip
        state, ask = safeguarding_check.start(text)
        return await self.flows.ask(turn, state, ask, confidence=understanding.decision.confidence)

    async def without_storage(self, incoming: Incoming, is_urgent: Callable[[str, str], Awaitable[bool]]) -> Reply:
        """The database failed: an urgent report still gets the advice and goes to the journal; else an apology."""
        text = incoming.text.strip()
        if not text or not await is_urgent(text, incoming.audience.value):
            return Reply(text=replies.STORAGE_DOWN)
        school_id = incoming.school_id
        if not school_id:
            try:
                school_id = (await self.conversations.get(incoming.channel, incoming.user_id)).school_id
            except StorageError:
                school_id = next(iter(self.kb.schools)) if len(self.kb.schools) == 1 else ""
        school = self.kb.schools.get(school_id)
        kept = self.journal is not None and await self.journal.append(
            school_id=school_id, channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
            audience=incoming.audience.value, summary=text[:MAX_CONCERN_CHARS],
        )  # fmt: skip
        return Reply(text=replies.emergency_unstored(school, kept=kept), intent=SAFEGUARDING, urgent=True,
                     visibility=Visibility.ASKER)  # fmt: skip
