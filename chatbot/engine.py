"""Engine.handle(incoming) -> Reply: the one place a message is understood and answered.

Order matters: the safeguarding screen runs first and wins; then an active flow
continues; then the matcher picks an intent, and the asking school's own
knowledge answers it (or says honestly that its policy is silent).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from chatbot import flows, replies
from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ConcernQueue
from chatbot.confidence import Decision, Thresholds, Verdict, decide, safeguarding_suspected
from chatbot.conversations import Conversation, ConversationStore
from chatbot.errors import UnknownSchool, UserError
from chatbot.knowledge import KnowledgeBase, School
from chatbot.matching import Candidate, Matcher
from chatbot.messages import Button, Incoming, InputKind, Reply
from chatbot.retention import Retention
from chatbot.safety import SafetyFinding, screen
from chatbot.store import utcnow

log = logging.getLogger(__name__)

MAX_MATCH_CHARS = 600  # long messages are matched on their opening
LONG_MESSAGE_CHARS = 1500  # beyond this a message reads as a write-up, not a question
MAX_CONCERN_CHARS = 10_000
CONCERN_INTENTS = frozenset({"concern_complaint", "concern_bullying", "concern_offensive_post", "concern_photo_removal"})


@dataclass(frozen=True, kw_only=True)
class Understanding:
    """How a text was read: the safety finding, the ranked candidates, the decision."""

    safety: SafetyFinding | None
    candidates: list[Candidate]
    decision: Decision

    @property
    def urgent(self) -> bool:
        return self.safety is not None or safeguarding_suspected(self.candidates)

    @property
    def intent(self) -> str:
        """The single label this reading amounts to (what the evaluation scores)."""
        if self.urgent:
            return "concern_safeguarding"
        if self.decision.verdict is Verdict.FALLBACK or self.decision.intent is None:
            return "out_of_scope"
        return self.decision.intent


class Engine:
    """Answers one message at a time; all state lives in the store."""

    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        matcher: Matcher,
        conversations: ConversationStore,
        concerns: ConcernQueue,
        retention: Retention,
        calendars: Callable[[str], WorkingCalendar],
        thresholds: Thresholds = Thresholds(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.conversations = conversations
        self.concerns = concerns
        self.retention = retention
        self.calendars = calendars
        self.thresholds = thresholds
        self.clock = clock

    # -- understanding (no side effects; the evaluation uses this) -----------

    def understand(self, text: str, *, audience: str) -> Understanding:
        snippet = text[:MAX_MATCH_CHARS]
        candidates = self.matcher.rank(snippet, audience=audience)
        return Understanding(
            safety=screen(text[:MAX_CONCERN_CHARS]),
            candidates=candidates,
            decision=decide(candidates, self.thresholds, terms=len(self.matcher.terms(snippet))),
        )

    # -- the turn ----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Reply:
        """Answer one message. Raises UserError (e.g. UnknownSchool) for callers to show kindly."""
        conv = await self.conversations.get(incoming.channel, incoming.user_id)
        if incoming.school_id and incoming.school_id not in self.kb.schools:
            raise UnknownSchool(incoming.school_id, sorted(self.kb.schools))
        school_id = incoming.school_id or conv.school_id
        if incoming.kind is InputKind.ACTION and (incoming.action or "").startswith("s:"):
            return await self._choose_school(conv, incoming, (incoming.action or "")[2:])
        if incoming.kind is InputKind.COMMAND and incoming.command == "start" and incoming.text.strip():
            return await self._choose_school(conv, incoming, incoming.text.strip().split()[0].lower())
        if school_id not in self.kb.schools:
            if len(self.kb.schools) == 1:
                school_id = next(iter(self.kb.schools))
            else:
                return self._school_choice("Hello! Which school is your child at?")
        school = self.kb.school(school_id)
        if conv.school_id != school_id or conv.audience != incoming.audience.value:
            conv = Conversation(
                channel=conv.channel, user_id=conv.user_id, school_id=school_id,
                audience=incoming.audience.value, flow=conv.flow, step=conv.step, data=conv.data,
            )
            await self.conversations.save(conv)
        reply = await self._dispatch(conv, school, incoming)
        log.info(
            "turn channel=%s school=%s audience=%s kind=%s intent=%s confidence=%.3f urgent=%s",
            incoming.channel, school.id, incoming.audience.value, incoming.kind.value,
            reply.intent, reply.confidence, reply.urgent,
        )
        return reply

    async def _dispatch(self, conv: Conversation, school: School, incoming: Incoming) -> Reply:
        if incoming.kind is InputKind.UNSUPPORTED:
            # An edited or forwarded message is not answered as a question, but a child at risk
            # is never met with "please rephrase": the safeguarding screen still reads it.
            if incoming.text.strip() and screen(incoming.text[:MAX_CONCERN_CHARS]) is not None:
                return await self._text(conv, school, replace(incoming, kind=InputKind.TEXT))
            return Reply(text=replies.unsupported(incoming.media))
        if incoming.kind is InputKind.COMMAND:
            return await self._command(conv, school, incoming)
        if incoming.kind is InputKind.ACTION:
            return await self._action(conv, school, incoming, incoming.action or "")
        return await self._text(conv, school, incoming)

    # -- schools -------------------------------------------------------------

    def _school_choice(self, text: str) -> Reply:
        def label(school: School) -> str:  # the unnamed school in the guidance letter goes by its policy
            return school.short_name if school.short_name[:1].isupper() else school.policy

        buttons = tuple(
            Button(label=label(s), action=f"s:{s.id}") for s in sorted(self.kb.schools.values(), key=label)
        )
        return Reply(text=text, buttons=buttons, intent="greeting")

    async def _choose_school(self, conv: Conversation, incoming: Incoming, school_id: str) -> Reply:
        if school_id not in self.kb.schools:
            return self._school_choice("I don't know that school, sorry. Please choose yours:")
        conv = Conversation(channel=conv.channel, user_id=conv.user_id, school_id=school_id, audience=incoming.audience.value)
        await self.conversations.save(conv)
        school = self.kb.school(school_id)
        return Reply(text=replies.greeting(school, incoming.audience.value), intent="greeting", confidence=1.0)

    # -- commands -------------------------------------------------------------

    async def _command(self, conv: Conversation, school: School, incoming: Incoming) -> Reply:
        command = (incoming.command or "").lower()
        if command == "start":
            return Reply(text=replies.greeting(school, incoming.audience.value), intent="greeting", confidence=1.0)
        if command == "help":
            return Reply(text=replies.help_text(school, incoming.audience.value), intent="help", confidence=1.0)
        if command == "concerns":
            return await self._my_concerns(incoming)
        if command == "privacy":
            return Reply(text=replies.privacy(school, self.retention.policy), intent="privacy", confidence=1.0)
        if command == "forget":
            mine = await self.concerns.for_user(incoming.channel, incoming.user_id)
            kept = tuple(c.ref for c in mine if c.safeguarding)
            return Reply(
                text=replies.forget_confirm(school, kept, self.retention.policy),
                buttons=(Button(label="Yes, delete it", action="forget:yes"), Button(label="No, keep it", action="forget:no")),
                intent="forget_me",
                confidence=1.0,
            )
        if command == "cancel":
            await self.conversations.save(conv.cleared())
            return Reply(text="Okay, I've stopped that. Ask me anything about the policy whenever you like.")
        return Reply(text=f"I don't know the command /{command}. " + replies.help_text(school, incoming.audience.value))

    # -- button presses ---------------------------------------------------------

    async def _action(self, conv: Conversation, school: School, incoming: Incoming, action: str) -> Reply:
        if action.startswith("i:"):
            intent_id = action[2:]
            if intent_id in self.kb.intents and self.kb.intent(intent_id).serves(incoming.audience.value):
                return await self._respond_to_intent(conv, school, incoming, intent_id, 1.0, text="")
        if action == "none":
            return Reply(
                text="Sorry I couldn't find it. You could try asking another way, or I can pass your question to "
                f"{school.contact('office', 'the school office')}.",
                buttons=(replies.CONTACT_BUTTON,),
                intent="out_of_scope",
            )
        if action == "c:talk":
            return await self._start_intake(conv, school, incoming, category="talk_to_person", summary="")
        if action.startswith("f:"):
            return await self._flow_answer(conv, school, incoming, action)
        if action.startswith("w:"):
            return await self._withdraw(incoming, action[2:])
        if action == "forget:yes":
            forgotten = await self.retention.forget_user(incoming.channel, incoming.user_id)
            return Reply(text=replies.forgotten(school, forgotten.kept, self.retention.policy), intent="forget_me")
        if action == "forget:no":
            return Reply(text="Okay, nothing has been deleted.", intent="forget_me")
        return Reply(text="That button has expired. Please ask your question again.")

    # -- text ------------------------------------------------------------------

    async def _text(self, conv: Conversation, school: School, incoming: Incoming) -> Reply:
        text = incoming.text.strip()
        if not text:
            return Reply(text=replies.empty_message())
        if not any(ch.isalnum() for ch in text):
            return Reply(text=replies.no_letters())
        understanding = self.understand(text, audience=incoming.audience.value)
        if understanding.urgent:
            return await self._urgent(conv, school, incoming, text, understanding)
        if conv.in_flow:
            continued = await self._flow_text(conv, school, incoming, text, understanding)
            if continued is not None:
                return continued
        if len(text) > LONG_MESSAGE_CHARS:
            return await self._long_message(conv, school, incoming, text)
        if _mostly_non_latin(text):
            return Reply(
                text="I'm sorry, I can only understand English at the moment. "
                + replies.out_of_scope(school).split(". ", 1)[1],
                buttons=(replies.CONTACT_BUTTON,),
                intent="out_of_scope",
            )
        decision = understanding.decision
        if decision.verdict is Verdict.ANSWER and decision.intent is not None:
            return await self._respond_to_intent(conv, school, incoming, decision.intent, decision.confidence, text=text)
        if decision.verdict is Verdict.SUGGEST:
            buttons = tuple(
                Button(label=self.kb.intent(i).label, action=f"i:{i}") for i in decision.options
            ) + (replies.NONE_OF_THESE,)
            return Reply(text=replies.did_you_mean(), buttons=buttons, intent=decision.intent, confidence=decision.confidence)
        return Reply(
            text=replies.fallback(school), buttons=(replies.CONTACT_BUTTON,),
            intent="out_of_scope", confidence=decision.confidence,
        )

    async def _respond_to_intent(
        self, conv: Conversation, school: School, incoming: Incoming, intent_id: str, confidence: float, *, text: str
    ) -> Reply:
        intent = self.kb.intent(intent_id)
        audience = incoming.audience.value
        if intent_id == "concern_safeguarding":
            return await self._urgent(conv, school, incoming, text or "(chose: a child may be at risk)", None)
        if intent_id in CONCERN_INTENTS or intent_id == "talk_to_person":
            summary = text if len(text.split()) >= 6 else ""
            return await self._start_intake(conv, school, incoming, category=intent_id, summary=summary, confidence=confidence)
        if intent_id in ("concern_status", "withdraw_concern"):
            return await self._my_concerns(incoming)
        if intent_id == "forget_me":
            return await self._command(conv, school, replace(incoming, kind=InputKind.COMMAND, command="forget"))
        if intent_id == "privacy":
            return Reply(text=replies.privacy(school, self.retention.policy), intent=intent_id, confidence=confidence)
        if intent_id == "greeting":
            return Reply(text=replies.greeting(school, audience), intent=intent_id, confidence=confidence)
        if intent_id == "thanks":
            return Reply(text=replies.thanks(school), intent=intent_id, confidence=confidence)
        if intent_id == "help":
            return Reply(text=replies.help_text(school, audience), intent=intent_id, confidence=confidence)
        if intent_id == "out_of_scope":
            return Reply(text=replies.out_of_scope(school), intent=intent_id, confidence=confidence)
        answer = school.answers.get(intent_id)
        if answer is None:
            return Reply(
                text=replies.silence(school, intent), buttons=(replies.CONTACT_BUTTON,),
                intent=intent_id, confidence=confidence,
            )
        if intent.kind == "flow" and answer.outcomes:
            return await self._start_photo_check(conv, intent_id, confidence)
        body, cites = replies.answer_reply(school, answer)
        return Reply(text=body, citations=cites, intent=intent_id, confidence=confidence)

    # -- safeguarding ------------------------------------------------------------

    async def _urgent(
        self, conv: Conversation, school: School, incoming: Incoming, text: str, understanding: Understanding | None
    ) -> Reply:
        concern = await self.concerns.open(
            school_id=school.id, channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
            audience=incoming.audience.value, category="concern_safeguarding", summary=text[:MAX_CONCERN_CHARS],
            urgent=True, consent=True, contact_method="chat",
        )
        await self.conversations.save(conv.cleared())
        log.warning("urgent concern %s school=%s category=%s", concern.ref, school.id,
                    understanding.safety.category if understanding and understanding.safety else "matcher")
        return Reply(
            text=replies.emergency(school, concern.ref, None), intent="concern_safeguarding",
            confidence=understanding.decision.confidence if understanding else 1.0, urgent=True, concern_ref=concern.ref,
        )

    # -- long messages -------------------------------------------------------------

    async def _long_message(self, conv: Conversation, school: School, incoming: Incoming, text: str) -> Reply:
        conv = conv.at(flows.INTAKE, "consent", category="general", summary=text[:MAX_CONCERN_CHARS])
        await self.conversations.save(conv)
        question = flows.intake_consent(school.contact("office", "the school office"), self._due_words(school))
        return Reply(
            text="Thank you for writing this all down. That's more than I can answer as a quick question. " + question.text,
            buttons=question.buttons, intent="talk_to_person",
        )

    # -- the photo check ----------------------------------------------------------

    async def _start_photo_check(self, conv: Conversation, intent_id: str, confidence: float) -> Reply:
        conv = conv.cleared().at(flows.PHOTO, "oc", intent=intent_id, facts={})
        await self.conversations.save(conv)
        question = flows.PHOTO_QUESTIONS["oc"]
        return Reply(text=question.text, buttons=question.buttons, intent=intent_id, confidence=confidence)

    async def _photo_answer(self, conv: Conversation, school: School, step: str, value: str) -> Reply:
        facts = dict(conv.data.get("facts", {}))
        facts[flows.PHOTO_FACTS[step]] = value
        intent_id = str(conv.data.get("intent", "post_photo"))
        following = flows.next_photo_step(facts)
        if following is not None:
            await self.conversations.save(conv.at(flows.PHOTO, following, facts=facts))
            question = flows.PHOTO_QUESTIONS[following]
            return Reply(text=question.text, buttons=question.buttons, intent=intent_id, confidence=1.0)
        await self.conversations.save(conv.cleared())
        answer = school.answers.get(intent_id)
        if answer is None:
            return Reply(text=replies.silence(school, self.kb.intent(intent_id)), intent=intent_id)
        outcome = answer.outcome_for(facts)
        text, cites = (outcome.text, outcome.cites) if outcome else (answer.text, answer.cites)
        return Reply(text=text, citations=replies.citations(school, cites), intent=intent_id, confidence=1.0)

    # -- flows: buttons and typed answers ---------------------------------------------

    async def _flow_answer(self, conv: Conversation, school: School, incoming: Incoming, action: str) -> Reply:
        _, step, value = (action.split(":", 2) + ["", ""])[:3]
        if step != conv.step:
            if conv.in_flow:
                return self._repeat_question(conv, school, prefix="That was an earlier question. ")
            return Reply(text="That question has expired. Please ask again whenever you like.")
        if conv.flow == flows.PHOTO and step in flows.PHOTO_FACTS:
            return await self._photo_answer(conv, school, step, value)
        if conv.flow == flows.INTAKE:
            return await self._intake_answer(conv, school, incoming, step, value)
        return Reply(text="That question has expired. Please ask again whenever you like.")

    async def _flow_text(
        self, conv: Conversation, school: School, incoming: Incoming, text: str, understanding: Understanding
    ) -> Reply | None:
        """Continue a flow with typed text; None means the text is a new question instead."""
        if conv.flow == flows.INTAKE and conv.step == "describe":
            return await self._intake_answer(conv, school, incoming, "describe", text)
        if conv.flow == flows.INTAKE and conv.step == "phone":
            if understanding.decision.verdict is Verdict.ANSWER and not re.search(r"\d{5}", text):
                await self.conversations.save(conv.cleared())
                return None
            return await self._intake_answer(conv, school, incoming, "phone", text)
        if conv.flow == flows.PHOTO and conv.step in flows.PHOTO_FACTS:
            value = flows.yes_no(text, allow_unsure=conv.step == "oc")
            if value is not None:
                return await self._photo_answer(conv, school, conv.step, value)
        if conv.flow == flows.INTAKE and conv.step in ("consent", "contact"):
            value = flows.yes_no(text)
            if conv.step == "consent" and value is not None:
                return await self._intake_answer(conv, school, incoming, "consent", value)
            if conv.step == "contact":
                lowered = text.lower()
                if "phone" in lowered or "call" in lowered or "ring" in lowered:
                    return await self._intake_answer(conv, school, incoming, "contact", "phone")
                if "here" in lowered or "chat" in lowered or "message" in lowered or value == "yes":
                    return await self._intake_answer(conv, school, incoming, "contact", "chat")
        if understanding.decision.verdict is Verdict.ANSWER:
            await self.conversations.save(conv.cleared())
            return None
        return self._repeat_question(conv, school, prefix="Sorry, I didn't follow. ")

    def _repeat_question(self, conv: Conversation, school: School, *, prefix: str) -> Reply:
        if conv.flow == flows.PHOTO and conv.step in flows.PHOTO_QUESTIONS:
            q = flows.PHOTO_QUESTIONS[conv.step]
        elif conv.step == "consent":
            q = flows.intake_consent(school.contact("office", "the school office"), self._due_words(school))
        elif conv.step == "contact":
            q = flows.INTAKE_CONTACT
        elif conv.step == "phone":
            q = flows.INTAKE_PHONE
        else:
            q = flows.INTAKE_DESCRIBE
        return Reply(text=prefix + q.text, buttons=q.buttons, intent=str(conv.data.get("intent") or conv.data.get("category") or ""))

    # -- the concern intake -------------------------------------------------------------

    def _due_words(self, school: School) -> str:
        calendar = self.calendars(school.id)
        return calendar.describe_due(calendar.due_time(self.clock(), urgent=False))

    async def _start_intake(
        self, conv: Conversation, school: School, incoming: Incoming, *, category: str, summary: str, confidence: float = 1.0
    ) -> Reply:
        conv = conv.cleared()
        if not summary:
            conv = conv.at(flows.INTAKE, "describe", category=category)
            await self.conversations.save(conv)
            text = flows.INTAKE_DESCRIBE.text
            if category == "talk_to_person":
                text = "Of course, I can pass a message to the school office. What would you like to ask or tell them? Please don't include anyone's full name."
            return Reply(text=text, intent=category, confidence=confidence)
        conv = conv.at(flows.INTAKE, "consent", category=category, summary=summary[:MAX_CONCERN_CHARS])
        await self.conversations.save(conv)
        question = flows.intake_consent(school.contact("office", "the school office"), self._due_words(school))
        return Reply(text=question.text, buttons=question.buttons, intent=category, confidence=confidence)

    async def _intake_answer(self, conv: Conversation, school: School, incoming: Incoming, step: str, value: str) -> Reply:
        category = str(conv.data.get("category", "general"))
        if step == "describe":
            conv = conv.at(flows.INTAKE, "consent", summary=value[:MAX_CONCERN_CHARS])
            await self.conversations.save(conv)
            q = flows.intake_consent(school.contact("office", "the school office"), self._due_words(school))
            return Reply(text="Thank you. " + q.text, buttons=q.buttons, intent=category)
        if step == "consent":
            if value != "yes":
                await self.conversations.save(conv.cleared())
                return Reply(
                    text="That's fine: nothing has been passed on. " + replies.open_door(school),
                    intent=category,
                )
            await self.conversations.save(conv.at(flows.INTAKE, "contact"))
            return Reply(text=flows.INTAKE_CONTACT.text, buttons=flows.INTAKE_CONTACT.buttons, intent=category)
        if step == "contact":
            if value == "phone":
                await self.conversations.save(conv.at(flows.INTAKE, "phone"))
                return Reply(text=flows.INTAKE_PHONE.text, intent=category)
            return await self._lodge(conv, school, incoming, contact_method="chat", phone=None)
        if step == "phone" and value == "chat":  # changed their mind: "Reply here" instead
            return await self._lodge(conv, school, incoming, contact_method="chat", phone=None)
        if step == "phone":
            phone = flows.clean_phone(value)
            if phone is None:
                return Reply(
                    text="That doesn't look like a phone number. Please type it as digits, for example 07700 900123, "
                    "or tap 'Reply here' to get the answer in this chat.",
                    buttons=(Button(label="Reply here", action="f:phone:chat"),),
                    intent=category,
                )
            return await self._lodge(conv, school, incoming, contact_method="phone", phone=phone)
        return self._repeat_question(conv, school, prefix="")

    async def _lodge(
        self, conv: Conversation, school: School, incoming: Incoming, *, contact_method: str, phone: str | None
    ) -> Reply:
        category = str(conv.data.get("category", "general"))
        concern = await self.concerns.open(
            school_id=school.id, channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
            audience=incoming.audience.value, category=category, summary=str(conv.data.get("summary", "")),
            urgent=False, consent=True, contact_method=contact_method, phone=phone,
        )
        await self.conversations.save(conv.cleared())
        due = self.calendars(school.id).describe_due(concern.due_at)
        how = "call you" if contact_method == "phone" else "reply here"
        return Reply(
            text=f"Thank you. I've passed this to {school.contact('office', 'the school office')} as {concern.ref}. "
            f"They'll {how} by {due}. You can check on it any time by asking \"what's happening with my concern?\" "
            "(or /concerns).",
            intent=category,
            concern_ref=concern.ref,
        )

    # -- a parent's own concerns ----------------------------------------------------------

    async def _my_concerns(self, incoming: Incoming) -> Reply:
        mine = await self.concerns.for_user(incoming.channel, incoming.user_id)
        if not mine:
            return Reply(text="You haven't raised any concerns with me. If something is worrying you, just tell me.", intent="concern_status", confidence=1.0)
        lines = ["Your concerns:"]
        buttons: list[Button] = []
        for concern in mine:
            category = replies.category_words(concern.category)
            lines.append(f"- {concern.ref} ({category}): {concern.status_words()}")
            if concern.status in ("open", "claimed") and not concern.safeguarding:
                buttons.append(Button(label=f"Withdraw {concern.ref}", action=f"w:{concern.ref}"))
        return Reply(text="\n".join(lines), buttons=tuple(buttons[:5]), intent="concern_status", confidence=1.0)

    async def _withdraw(self, incoming: Incoming, ref: str) -> Reply:
        try:
            concern = await self.concerns.withdraw(ref, channel=incoming.channel, user_id=incoming.user_id)
        except UserError as err:
            return Reply(text=str(err), intent="concern_status")
        return Reply(text=f"Okay, {concern.ref} has been withdrawn and the office has been told.", intent="concern_status")


def _mostly_non_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 3:
        return False
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters) < 0.5

