"""The concern intake: what happened, may I pass it on, how should the school reply.

Pure: `answer(state, value)` returns the next question, `Declined`, or `Lodge`
(a concern to open), which the engine carries out. Nothing reaches the office
without the person's "yes".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.actions import FlowAnswer
from chatbot.flows.common import Ask, Context, FlowState, Question, Transition, yes_no
from chatbot.messages import Button

NAME = "concern"
MAX_CONCERN_CHARS = 10_000

DESCRIBE = Question(
    "describe",
    "I'm sorry to hear that. Could you tell me briefly what has happened? Please don't include anyone's full name.",
)
DESCRIBE_FOR_OFFICE = Question(
    "describe",
    "Of course, I can pass a message to the school office. What would you like to ask or tell them? "
    "Please don't include anyone's full name.",
)
CONTACT = Question(
    "contact",
    "How would you like the school to reply?",
    (Button(label="Reply here", action=FlowAnswer("contact", "chat")),
     Button(label="Phone me", action=FlowAnswer("contact", "phone"))),
)  # fmt: skip
PHONE = Question("phone", "What number should they call? (For example 07700 900123.)")
PHONE_AGAIN = Question(
    "phone",
    "That doesn't look like a phone number. Please type it as digits, for example 07700 900123, "
    "or tap 'Reply here' to get the answer in this chat.",
    (Button(label="Reply here", action=FlowAnswer("phone", "chat")),),
)
LONG_MESSAGE_LEAD = "Thank you for writing this all down. That's more than I can answer as a quick question. "

_PHONE = re.compile(r"^\+?[\d\s()-]{10,16}$")


def consent(ctx: Context) -> Question:
    return Question(
        "consent",
        f"This is best raised with the school directly rather than on social media. Shall I pass it to {ctx.office}? "
        f"Only the school's office staff will see it, and they'll reply {ctx.due}.",
        (Button(label="Yes, pass it on", action=FlowAnswer("consent", "yes")),
         Button(label="No, thanks", action=FlowAnswer("consent", "no"))),
    )  # fmt: skip


def clean_phone(text: str) -> str | None:
    """A plausible UK or international phone number, digits only (with a leading +), or None."""
    candidate = text.strip()
    if not _PHONE.match(candidate):
        return None
    digits = re.sub(r"[^\d+]", "", candidate)
    count = len(digits.lstrip("+"))
    return digits if 10 <= count <= 15 else None


@dataclass(frozen=True, kw_only=True)
class Lodge:
    """Open the concern: the person said yes and chose how to be answered."""

    category: str
    summary: str
    contact_method: str  # chat | phone
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Declined:
    """The person chose not to pass it on: nothing is kept."""

    category: str


def start(category: str, summary: str, ctx: Context, *, lead: str = "") -> tuple[FlowState, Ask]:
    """Begin with "what happened?", or straight at consent when the message already says."""
    if not summary:
        state = FlowState(flow=NAME, step="describe", data={"category": category})
        first = DESCRIBE_FOR_OFFICE if category == "talk_to_person" else DESCRIBE
        return state, Ask(question=first, lead=lead, intent=category)
    state = FlowState(flow=NAME, step="consent", data={"category": category, "summary": summary[:MAX_CONCERN_CHARS]})
    return state, Ask(question=consent(ctx), lead=lead, intent=category)


class IntakeFlow:
    def read(self, state: FlowState, text: str, *, understood: bool) -> str | None:
        if state.step == "describe":
            return text
        if state.step == "phone":
            return None if understood and not re.search(r"\d{5}", text) else text
        value = yes_no(text)
        if state.step == "consent":
            return value
        if state.step == "contact":
            lowered = text.lower()
            if "phone" in lowered or "call" in lowered or "ring" in lowered:
                return "phone"
            if "here" in lowered or "chat" in lowered or "message" in lowered or value == "yes":
                return "chat"
        return None

    def answer(self, state: FlowState, value: str, ctx: Context) -> Transition:
        category = str(state.data.get("category", "general"))
        summary = str(state.data.get("summary", ""))
        if state.step == "describe":
            return state.at("consent", summary=value[:MAX_CONCERN_CHARS]), Ask(
                question=consent(ctx), lead="Thank you. ", intent=category
            )
        if state.step == "consent":
            if value != "yes":
                return None, Declined(category=category)
            return state.at("contact"), Ask(question=CONTACT, intent=category)
        if state.step == "contact" and value == "phone":
            return state.at("phone"), Ask(question=PHONE, intent=category)
        if state.step in ("contact", "phone") and value == "chat":  # "Reply here", even after choosing a call
            return None, Lodge(category=category, summary=summary, contact_method="chat")
        if state.step == "phone":
            phone = clean_phone(value)
            if phone is None:
                return state, Ask(question=PHONE_AGAIN, intent=category)
            return None, Lodge(category=category, summary=summary, contact_method="phone", phone=phone)
        return state, Ask(question=self.question(state, ctx), intent=category)

    def question(self, state: FlowState, ctx: Context) -> Question:
        if state.step == "consent":
            return consent(ctx)
        return {"contact": CONTACT, "phone": PHONE}.get(state.step, DESCRIBE)


FLOW = IntakeFlow()
