"""The photo check: may I post this photo or video? Three questions, then the school's own verdict.

Pure: `answer(state, value)` returns the next question, or a `PhotoVerdict`
holding the facts, which the engine turns into the school's answer for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from chatbot.actions import FlowAnswer
from chatbot.flows.common import Ask, Context, FlowState, Question, Transition, yes_no
from chatbot.messages import Button

NAME = "photo"

QUESTIONS = {
    "oc": Question(
        "oc",
        "Let's check it together. Does the photo or video show other children, not just your own?",
        (Button(label="Yes", action=FlowAnswer("oc", "yes")), Button(label="No, only mine", action=FlowAnswer("oc", "no")),
         Button(label="Not sure", action=FlowAnswer("oc", "unsure"))),
    ),
    "ev": Question(
        "ev",
        "Was it taken at a school event (sports day, a performance, a trip) or in school?",
        (Button(label="Yes", action=FlowAnswer("ev", "yes")), Button(label="No", action=FlowAnswer("ev", "no"))),
    ),
    "pm": Question(
        "pm",
        "Do you have the permission of the other children's parents to post it?",
        (Button(label="Yes", action=FlowAnswer("pm", "yes")), Button(label="No", action=FlowAnswer("pm", "no"))),
    ),
}  # fmt: skip
FACTS = {"oc": "other_children", "ev": "school_event", "pm": "permission"}
ANSWERS = {"oc": ("yes", "no", "unsure"), "ev": ("yes", "no"), "pm": ("yes", "no")}


@dataclass(frozen=True, kw_only=True)
class PhotoVerdict:
    """The check is complete: answer `intent` for these facts."""

    intent: str
    facts: Mapping[str, str]


def next_step(facts: Mapping[str, str]) -> str | None:
    """The next question of the photo check, or None when it is complete."""
    if "other_children" not in facts:
        return "oc"
    if "school_event" not in facts:
        return "ev"
    if facts["other_children"] in ("yes", "unsure") and "permission" not in facts:
        return "pm"
    return None


def start(intent: str) -> tuple[FlowState, Ask]:
    state = FlowState(flow=NAME, step="oc", data={"intent": intent, "facts": {}})
    return state, Ask(question=QUESTIONS["oc"], intent=intent)


class PhotoFlow:
    def read(self, state: FlowState, text: str, *, understood: bool) -> str | None:
        return yes_no(text, allow_unsure=state.step == "oc")

    def answer(self, state: FlowState, value: str, ctx: Context) -> Transition:
        intent = str(state.data.get("intent", "post_photo"))
        if state.step not in FACTS or value not in ANSWERS[state.step]:
            return state, Ask(question=self.question(state, ctx), intent=intent)
        facts = {**dict(state.data.get("facts", {})), FACTS[state.step]: value}
        following = next_step(facts)
        if following is None:
            return None, PhotoVerdict(intent=intent, facts=facts)
        return state.at(following, facts=facts), Ask(question=QUESTIONS[following], intent=intent)

    def question(self, state: FlowState, ctx: Context) -> Question:
        return QUESTIONS.get(state.step, QUESTIONS["oc"])


FLOW = PhotoFlow()
