"""Engine.handle(incoming) -> Reply: routing only, from a message to the part of the core that answers it.

Order matters: the safeguarding screen runs first and wins; then an active flow
continues; then the matcher picks an intent, and the intent's `kind` from the
YAML says who answers it: the asking school's own knowledge (or an honest "the
policy is silent"), a guided flow, the concern intake, or a meta reply. Flows
are pure state machines (chatbot/flows/); a person's own concerns live in
account.py; the words live in replies.py. In a group chat nothing private is
started or stored: the person is asked to message privately.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping

from chatbot import account_replies, replies
from chatbot.account import Account
from chatbot.actions import (
    ChooseSchool, ContactOffice, Forget, FlowAnswer, MoreFromPolicy, NoneOfThese, PickIntent, Withdraw, decode,
)  # fmt: skip
from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ConcernQueue
from chatbot.confidence import Thresholds, Verdict
from chatbot.conversations import Conversation, ConversationStore
from chatbot.errors import StorageError, UnknownSchool
from chatbot.flow_runner import FlowRunner, Turn
from chatbot.flows import intake, photo, safeguarding_check
from chatbot.journal import FallbackJournal
from chatbot.knowledge import KnowledgeBase
from chatbot.messages import Button, Incoming, InputKind, Reply, Visibility
from chatbot.retention import Retention
from chatbot.escalation import Escalation
from chatbot.reading import SAFEGUARDING, Understanding, mostly_non_latin, read
from chatbot.safeguarding import NetThresholds
from chatbot.safety import screen
from chatbot.store import utcnow
from chatbot.understanding.fusion import FusedMatcher

log = logging.getLogger(__name__)

LONG_MESSAGE_CHARS = 600  # this long, with no topic the policy covers, it reads as a write-up for the office
MAX_CONCERN_CHARS = intake.MAX_CONCERN_CHARS
# Slash commands are shortcuts to intents; /cancel is the one that is not.
COMMAND_INTENTS = {"start": "greeting", "help": "help", "privacy": "privacy", "concerns": "concern_status", "forget": "forget_me"}
# Meta intents that concern the person's own matters: never handled in a group chat.
PRIVATE_META = frozenset({"concern_status", "withdraw_concern", "forget_me", "talk_to_person"})


class Engine:
    """Answers one message at a time; all state lives in the store."""

    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        matcher: FusedMatcher,
        conversations: ConversationStore,
        concerns: ConcernQueue,
        retention: Retention,
        calendars: Callable[[str], WorkingCalendar],
        thresholds: Thresholds = Thresholds(),
        net: NetThresholds = NetThresholds(),
        clock: Callable[[], datetime] = utcnow,
        promises: Mapping[str, str] | None = None,
        journal: FallbackJournal | None = None,
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.conversations = conversations
        self.concerns = concerns
        self.retention = retention
        self.calendars = calendars
        self.thresholds = thresholds
        self.net = net
        self.clock = clock
        self.account = Account(concerns=concerns, retention=retention)
        self.journal = journal  # where urgent reports go when the database can't take them
        self.promises = dict(promises or {})  # each school's own reply time for concerns, from its settings
        self.flows = FlowRunner(
            kb=kb, conversations=conversations, concerns=concerns, calendars=calendars, clock=clock, promises=self.promises,
            after_check=self._after_check,
        )  # fmt: skip
        self.escalation = Escalation(
            kb=kb, concerns=concerns, conversations=conversations, flows=self.flows, journal=journal
        )
        # The meta intents' answers: a table, one line each.
        self.meta: dict[str, Callable[[Turn, str, float], Awaitable[Reply]]] = {
            "greeting": _said(lambda t: replies.greeting(t.school, t.audience)),
            "help": _said(lambda t: replies.help_text(t.school, t.audience, self.promises.get(t.school.id))),
            "thanks": _said(lambda t: replies.thanks(t.school)),
            "out_of_scope": _said(lambda t: replies.out_of_scope(t.school)),
            "privacy": _said(lambda t: account_replies.privacy(t.school, self.retention.policy)),
            "concern_status": lambda t, _i, _c: self.account.my_concerns(t.incoming),
            "withdraw_concern": lambda t, _i, _c: self.account.my_concerns(t.incoming),
            "forget_me": lambda t, _i, _c: self.account.ask_to_forget(t.school, t.incoming),
            "talk_to_person": lambda t, i, c: self._start_intake(t, i, "", c),
        }

    # -- understanding (no side effects; the evaluation uses this) -----------

    def understand(self, text: str, *, audience: str, ruled_out: frozenset[str] = frozenset()) -> Understanding:
        """Read the whole message with this engine's thresholds (blocking: `handle` runs it in a worker thread)."""
        return read(self.matcher, text, audience=audience, thresholds=self.thresholds, net=self.net, ruled_out=ruled_out)

    async def _is_urgent(self, text: str, audience: str) -> bool:
        return (await asyncio.to_thread(self.understand, text, audience=audience)).urgent

    # -- the turn ----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Reply:
        """Answer one message. Raises UserError (e.g. UnknownSchool) for callers to show kindly.

        If the database fails (read-only, full, damaged), an urgent report still gets the
        emergency advice and goes to the fallback journal; anything else gets an honest apology.
        """
        try:
            return await self._handle(incoming)
        except StorageError as exc:
            log.error("turn channel=%s without storage: %s", incoming.channel, exc.problem)
            return await self.escalation.without_storage(incoming, self._is_urgent)

    async def _handle(self, incoming: Incoming) -> Reply:
        conv = await self.conversations.get(incoming.channel, incoming.user_id)
        if incoming.school_id and incoming.school_id not in self.kb.schools:
            raise UnknownSchool(incoming.school_id, sorted(self.kb.schools))
        action = decode(incoming.action) if incoming.kind is InputKind.ACTION else None
        if isinstance(action, ChooseSchool):
            return await self._choose_school(conv, incoming, action.school_id)
        if incoming.kind is InputKind.COMMAND and incoming.command in ("start", "school") and incoming.text.strip():
            return await self._choose_school(conv, incoming, incoming.text.strip().split()[0].lower())
        if incoming.kind is InputKind.COMMAND and incoming.command == "school" and len(self.kb.schools) > 1:
            return self._school_choice(replies.CHOOSE_SCHOOL)
        school_id = incoming.school_id or conv.school_id
        if school_id not in self.kb.schools:
            if len(self.kb.schools) != 1:
                return self._school_choice("Hello! Which school is your child at?")
            school_id = next(iter(self.kb.schools))
        if conv.school_id != school_id or conv.audience != incoming.audience.value:
            conv = replace(conv, school_id=school_id, audience=incoming.audience.value)
            await self.conversations.save(conv)
        turn = Turn(conv=conv, school=self.kb.school(school_id), incoming=incoming)
        reply = await self._dispatch(turn, action)
        log.info(
            "turn channel=%s school=%s audience=%s kind=%s group=%s intent=%s confidence=%.3f urgent=%s",
            incoming.channel, school_id, incoming.audience.value, incoming.kind.value, incoming.is_group,
            reply.intent, reply.confidence, reply.urgent,
        )  # fmt: skip
        return reply

    async def _dispatch(self, turn: Turn, action: Any) -> Reply:
        incoming = turn.incoming
        if incoming.kind is InputKind.UNSUPPORTED:
            # An edited or forwarded message is not answered as a question, but a child at risk
            # is never met with "please rephrase": the safeguarding screen still reads it.
            if incoming.text.strip() and screen(incoming.text[:MAX_CONCERN_CHARS]) is not None:
                return await self._text(replace(turn, incoming=replace(incoming, kind=InputKind.TEXT)))
            return Reply(text=replies.unsupported(incoming.media))
        if incoming.kind is InputKind.COMMAND:
            return await self._command(turn, (incoming.command or "").lower())
        if incoming.kind is InputKind.ACTION:
            return await self._action(turn, action)
        return await self._text(turn)

    # -- schools -------------------------------------------------------------

    def _school_choice(self, text: str) -> Reply:
        schools = sorted(self.kb.schools.values(), key=lambda s: s.picker_label.lower())
        return Reply(
            text=text, buttons=tuple(Button(label=s.picker_label, action=ChooseSchool(s.id)) for s in schools), intent="greeting"
        )

    async def _choose_school(self, conv: Conversation, incoming: Incoming, school_id: str) -> Reply:
        if school_id not in self.kb.schools:
            return self._school_choice("I don't know that school, sorry. Please choose yours:")
        if not incoming.is_group:  # a private conversation starts afresh; a group turn must not cancel it
            conv = conv.cleared()
        await self.conversations.save(replace(conv, school_id=school_id, audience=incoming.audience.value))
        school = self.kb.school(school_id)
        return Reply(text=replies.greeting(school, incoming.audience.value), intent="greeting", confidence=1.0)

    # -- commands and buttons ---------------------------------------------------

    async def _command(self, turn: Turn, command: str) -> Reply:
        if command == "cancel":
            if turn.incoming.is_group:  # the person's private conversation is not this chat's to stop
                return Reply(text=replies.NOTHING_TO_CANCEL_HERE)
            await self.conversations.save(turn.conv.cleared())
            return Reply(text=replies.CANCELLED)
        intent_id = COMMAND_INTENTS.get(command)
        if intent_id is None:
            return Reply(text=replies.unknown_command(turn.school, command, turn.audience, self.promises.get(turn.school.id)))
        return await self._respond_to_intent(turn, intent_id, 1.0)

    async def _action(self, turn: Turn, action: Any) -> Reply:
        if turn.incoming.is_group and isinstance(action, (ContactOffice, FlowAnswer, Withdraw, Forget)):
            return _ask_privately(None)
        match action:
            case PickIntent(intent_id=intent_id) if self._serves(intent_id, turn):
                return await self._respond_to_intent(turn, intent_id, 1.0)
            case NoneOfThese():
                return Reply(
                    text=replies.none_of_these(turn.school), buttons=(replies.CONTACT_BUTTON,), intent="out_of_scope"
                )
            case ContactOffice():
                return await self._start_intake(turn, "talk_to_person", "", 1.0)
            case FlowAnswer(step=step, value=value):
                return await self.flows.button(turn, step, value)
            case Withdraw(ref=ref):
                return await self.account.withdraw(turn.incoming, ref)
            case Forget(confirmed=confirmed):
                return await self.account.forget(turn.school, turn.incoming, confirmed)
            case MoreFromPolicy(intent_id=intent_id) if self._reviewed_answer(turn, intent_id):
                text, cites = replies.more_from_policy(turn.school, turn.school.answers[intent_id])
                return Reply(text=text, citations=cites, intent=intent_id, confidence=1.0)
        return Reply(text=replies.BUTTON_EXPIRED)

    async def _start_intake(
        self, turn: Turn, category: str, summary: str, confidence: float, *, lead: str = "", intent: str = ""
    ) -> Reply:
        if turn.incoming.is_group:  # nothing private is started or stored in a group chat
            return _ask_privately(category)
        return await self.flows.start_intake(turn, category, summary, confidence, lead=lead, intent=intent)

    def _reviewed_answer(self, turn: Turn, intent_id: str) -> bool:
        answer = turn.school.answers.get(intent_id)
        return answer is not None and answer.reviewed

    def _serves(self, intent_id: str, turn: Turn) -> bool:
        return intent_id in self.kb.intents and self.kb.intent(intent_id).serves(turn.audience)

    # -- text ------------------------------------------------------------------

    async def _text(self, turn: Turn) -> Reply:
        text = turn.incoming.text.strip()
        if not text:
            return Reply(text=replies.empty_message())
        if not any(ch.isalnum() for ch in text):
            return Reply(text=replies.no_letters())
        understanding = await asyncio.to_thread(self.understand, text, audience=turn.audience)
        if understanding.urgent:
            return await self.escalation.urgent(turn, text, understanding.decision.confidence, understanding)
        if understanding.check:
            return await self.escalation.check(turn, text, understanding)
        if turn.conv.in_flow and not turn.incoming.is_group:
            understood = understanding.decision.verdict is Verdict.ANSWER
            continued = await self.flows.text(turn, text, understood=understood)
            if continued is not None:
                return continued
        return await self._answer(turn, text, understanding)

    async def _answer(self, turn: Turn, text: str, understanding: Understanding) -> Reply:
        """Answer a message the safeguarding net has let through: its topic, "did you mean", or the open door."""
        if mostly_non_latin(text):
            return Reply(text=replies.english_only(turn.school), buttons=(replies.CONTACT_BUTTON,), intent="out_of_scope")
        decision = understanding.decision
        no_topic = decision.verdict is Verdict.FALLBACK or decision.intent == "out_of_scope"
        if no_topic and len(text) > LONG_MESSAGE_CHARS:  # a write-up the policy can't answer: the office can
            if turn.incoming.is_group:
                return _ask_privately("talk_to_person")
            return await self._start_intake(turn, "general", text, 0.0, lead=intake.LONG_MESSAGE_LEAD, intent="talk_to_person")
        if decision.verdict is Verdict.ANSWER and decision.intent is not None:
            return await self._respond_to_intent(turn, decision.intent, decision.confidence, text=text)
        if decision.verdict is Verdict.SUGGEST:
            buttons = tuple(Button(label=self.kb.intent(i).label, action=PickIntent(i)) for i in decision.options)
            return Reply(
                text=replies.did_you_mean(), buttons=buttons + (replies.NONE_OF_THESE,),
                intent=decision.intent, confidence=decision.confidence,
            )  # fmt: skip
        return Reply(
            text=replies.fallback(turn.school), buttons=(replies.CONTACT_BUTTON,),
            intent="out_of_scope", confidence=decision.confidence,
        )  # fmt: skip

    async def _respond_to_intent(self, turn: Turn, intent_id: str, confidence: float, *, text: str = "") -> Reply:
        """Dispatch on the intent's kind, as declared in intents/*.yaml."""
        intent = self.kb.intent(intent_id)
        if intent.kind == "concern":
            if intent_id == SAFEGUARDING:
                return await self.escalation.urgent(turn, text or "(chose: a child may be at risk)", 1.0, None)
            summary = text if len(text.split()) >= 6 else ""
            return await self._start_intake(turn, intent_id, summary, confidence)
        if intent.kind == "meta":
            if turn.incoming.is_group and intent_id in PRIVATE_META:
                return _ask_privately(intent_id)
            return await self.meta.get(intent_id, self.meta["out_of_scope"])(turn, intent_id, confidence)
        answer = turn.school.answers.get(intent_id)
        if answer is None or not answer.reviewed:  # a drafted answer is not given until a person has checked it
            return Reply(
                text=replies.silence(turn.school, intent), buttons=(replies.CONTACT_BUTTON,),
                intent=intent_id, confidence=confidence,
            )  # fmt: skip
        if intent.kind == "flow" and answer.outcomes and not turn.incoming.is_group:
            state, ask = photo.start(intent_id)
            return await self.flows.ask(turn, state, ask, confidence=confidence)
        body, cites, more = replies.answer_reply(turn.school, answer)
        buttons: tuple[Button, ...] = (Button(label=replies.MORE_LABEL, action=MoreFromPolicy(intent_id)),) if more else ()
        if intent.offers_contact:  # e.g. a teacher contacting my child: the concern is offered with the answer
            buttons += (replies.TELL_THE_SCHOOL,)
        return Reply(text=body, buttons=buttons, citations=cites, intent=intent_id, confidence=confidence)

    # -- safeguarding ------------------------------------------------------------

    async def _after_check(self, turn: Turn, outcome: safeguarding_check.Escalate | safeguarding_check.CarryOn) -> Reply:
        """Yes: escalate as urgent. No: the normal answer to the message they first sent."""
        if isinstance(outcome, safeguarding_check.Escalate):
            return await self.escalation.urgent(turn, outcome.text, 1.0, None)
        log.info("safeguarding check answered no school=%s", turn.school.id)
        understanding = await asyncio.to_thread(
            self.understand, outcome.text, audience=turn.audience, ruled_out=frozenset({SAFEGUARDING})
        )
        return await self._answer(turn, outcome.text, understanding)


def _said(words: Callable[[Turn], str]) -> Callable[[Turn, str, float], Awaitable[Reply]]:
    """A meta reply that is only words."""

    async def reply(turn: Turn, intent_id: str, confidence: float) -> Reply:
        return Reply(text=words(turn), intent=intent_id, confidence=confidence)

    return reply


def _ask_privately(intent: str | None) -> Reply:
    """In a group chat: nothing private is started or stored; the person is invited to a private chat."""
    return Reply(text=replies.GROUP_PRIVATE, intent=intent, confidence=1.0, visibility=Visibility.ASKER)
