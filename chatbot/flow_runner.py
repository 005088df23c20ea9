"""Running a guided flow: save where the person is, put the next question, carry out the outcome.

The flows themselves (chatbot/flows/) are pure; this is the one place their
state meets the store and their outcomes meet the concern queue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Awaitable, Callable, Mapping

from chatbot import replies
from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ConcernQueue
from chatbot.conversations import Conversation, ConversationStore
from chatbot.flows import FLOWS, Ask, Context, FlowState, intake, photo, safeguarding_check
from chatbot.knowledge import KnowledgeBase, School
from chatbot.messages import Incoming, Reply, Visibility


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One message being answered: who, where, which school, and their saved conversation."""

    conv: Conversation
    school: School
    incoming: Incoming

    @property
    def audience(self) -> str:
        return self.incoming.audience.value


class FlowRunner:
    """Starts, continues and finishes flows for the engine."""

    def __init__(
        self, *, kb: KnowledgeBase, conversations: ConversationStore, concerns: ConcernQueue,
        calendars: Callable[[str], WorkingCalendar], clock: Callable[[], datetime],
        after_check: Callable[[Turn, safeguarding_check.Escalate | safeguarding_check.CarryOn], Awaitable[Reply]],
        promises: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        """`after_check`: the engine's own handling of the safeguarding check's answer (escalate, or carry on)."""
        self.after_check = after_check
        self.kb = kb
        self.conversations = conversations
        self.concerns = concerns
        self.calendars = calendars
        self.clock = clock
        self.promises = dict(promises or {})

    def _context(self, school: School) -> Context:
        return Context(office=replies.office(school), due=replies.reply_time(self.promises.get(school.id)))

    async def start_intake(
        self, turn: Turn, category: str, summary: str, confidence: float, *, lead: str = "", intent: str = ""
    ) -> Reply:
        state, ask = intake.start(category, summary, self._context(turn.school), lead=lead)
        return await self.ask(turn, state, replace(ask, intent=intent or ask.intent), confidence=confidence)

    async def ask(self, turn: Turn, state: FlowState | None, ask: Ask, *, confidence: float = 0.0, lead: str = "") -> Reply:
        """Save where the person is, and put the next question to them."""
        conv = turn.conv.cleared()
        if state is not None:
            conv = replace(conv, flow=state.flow, step=state.step, data=dict(state.data))
        await self.conversations.save(conv)
        private = state is not None and state.flow in (intake.NAME, safeguarding_check.NAME)
        visibility = Visibility.ASKER if private else Visibility.PUBLIC
        return Reply(
            text=lead + ask.lead + ask.question.text, buttons=ask.question.buttons, intent=ask.intent,
            confidence=confidence, visibility=visibility,
        )  # fmt: skip

    def _state(self, conv: Conversation) -> FlowState:
        return FlowState(flow=conv.flow, step=conv.step, data=conv.data)

    async def _advance(self, turn: Turn, value: str) -> Reply:
        """One answer to the current question: the flow says what comes next; the engine does it."""
        state = self._state(turn.conv)
        new_state, outcome = FLOWS[state.flow].answer(state, value, self._context(turn.school))
        if isinstance(outcome, Ask):
            return await self.ask(turn, new_state, outcome, confidence=1.0)
        await self.conversations.save(turn.conv.cleared())
        if isinstance(outcome, photo.PhotoVerdict):
            return self._photo_verdict(turn.school, outcome)
        if isinstance(outcome, intake.Lodge):
            return await self._lodge(turn, outcome)
        if isinstance(outcome, (safeguarding_check.Escalate, safeguarding_check.CarryOn)):
            return await self.after_check(turn, outcome)
        if isinstance(outcome, intake.Declined):
            return Reply(text=replies.declined(turn.school), intent=outcome.category, visibility=Visibility.ASKER)
        raise TypeError(f"unknown flow outcome {type(outcome).__name__}")

    async def button(self, turn: Turn, step: str, value: str) -> Reply:
        conv = turn.conv
        if conv.in_flow and conv.flow in FLOWS and step == conv.step:
            return await self._advance(turn, value)
        if conv.in_flow and conv.flow in FLOWS:
            return self._repeat(turn, replies.EARLIER_QUESTION)
        return Reply(text=replies.QUESTION_EXPIRED)

    async def text(self, turn: Turn, text: str, *, understood: bool) -> Reply | None:
        """Continue a flow with typed text; None means the text is a new question instead."""
        if turn.conv.flow not in FLOWS:
            await self.conversations.save(turn.conv.cleared())
            return None
        value = FLOWS[turn.conv.flow].read(self._state(turn.conv), text, understood=understood)
        if value is not None:
            return await self._advance(turn, value)
        if understood:
            await self.conversations.save(turn.conv.cleared())
            return None
        return self._repeat(turn, replies.DIDNT_FOLLOW)

    def _repeat(self, turn: Turn, prefix: str) -> Reply:
        state = self._state(turn.conv)
        question = FLOWS[state.flow].question(state, self._context(turn.school))
        intent = str(state.data.get("intent") or state.data.get("category") or "")
        return Reply(text=prefix + question.text, buttons=question.buttons, intent=intent)

    def _photo_verdict(self, school: School, verdict: photo.PhotoVerdict) -> Reply:
        answer = school.answers.get(verdict.intent)
        if answer is None:
            return Reply(text=replies.silence(school, self.kb.intent(verdict.intent)), intent=verdict.intent)
        outcome = answer.outcome_for(dict(verdict.facts))
        text, cites = (outcome.text, outcome.cites) if outcome else (answer.text, answer.cites)
        return Reply(text=text, citations=replies.citations(school, cites), intent=verdict.intent, confidence=1.0)

    async def _lodge(self, turn: Turn, lodge: intake.Lodge) -> Reply:
        incoming, school = turn.incoming, turn.school
        concern = await self.concerns.open(
            school_id=school.id, channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
            audience=incoming.audience.value, category=lodge.category, summary=lodge.summary,
            urgent=False, consent=True, contact_method=lodge.contact_method, phone=lodge.phone,
        )  # fmt: skip
        due = replies.reply_time(self.promises.get(school.id))
        return Reply(
            text=replies.lodged(school, concern.ref, by_phone=lodge.contact_method == "phone", due=due),
            intent=lodge.category, concern_ref=concern.ref, visibility=Visibility.ASKER,
        )  # fmt: skip

