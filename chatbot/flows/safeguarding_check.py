"""The safeguarding check: one question, with the emergency line inside it, when the net is unsure.

Asked when the safeguarding net's band is CHECK (see chatbot/safeguarding.py).
Yes escalates exactly as an urgent message would; No carries on with the normal
answer to the message the person first sent. Pure: the outcomes are carried out
by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.actions import FlowAnswer
from chatbot.flows.common import Ask, Context, FlowState, Question, Transition, yes_no
from chatbot.messages import Button

NAME = "check"
STEP = "risk"
INTENT = "concern_safeguarding"
EMERGENCY_LINE = "If a child is in immediate danger, call 999."
QUESTION = Question(
    STEP,
    f"{EMERGENCY_LINE} Is this about a child who may be at risk of harm?",
    (Button(label="Yes, a child may be at risk", action=FlowAnswer(STEP, "yes")),
     Button(label="No, something else", action=FlowAnswer(STEP, "no"))),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Escalate:
    """Yes: escalate the original message as urgent."""

    text: str


@dataclass(frozen=True, kw_only=True)
class CarryOn:
    """No: answer the original message as if the net had not asked."""

    text: str


def start(text: str) -> tuple[FlowState, Ask]:
    return FlowState(flow=NAME, step=STEP, data={"text": text}), Ask(question=QUESTION, intent=INTENT)


class SafeguardingCheck:
    def read(self, state: FlowState, text: str, *, understood: bool) -> str | None:
        return yes_no(text)

    def answer(self, state: FlowState, value: str, ctx: Context) -> Transition:
        original = str(state.data.get("text", ""))
        if value == "yes":
            return None, Escalate(text=original)
        if value == "no":
            return None, CarryOn(text=original)
        return state, Ask(question=QUESTION, intent=INTENT)

    def question(self, state: FlowState, ctx: Context) -> Question:
        return QUESTION


FLOW = SafeguardingCheck()
