"""The safeguarding check as a pure state machine: one question, yes escalates, no carries on."""

from __future__ import annotations

from chatbot.actions import FlowAnswer
from chatbot.flows import FLOWS, Ask, Context, safeguarding_check

CTX = Context(office="the school office", due="tomorrow")
TEXT = "an older boy keeps waiting for my daughter after school"


def test_the_question_carries_the_emergency_line_and_two_buttons() -> None:
    state, ask = safeguarding_check.start(TEXT)
    assert ask.question.text == (
        "If a child is in immediate danger, call 999. Is this about a child who may be at risk of harm?"
    )
    assert [(b.label, b.action) for b in ask.question.buttons] == [
        ("Yes, a child may be at risk", FlowAnswer("risk", "yes")),
        ("No, something else", FlowAnswer("risk", "no")),
    ]
    assert FLOWS[state.flow] is safeguarding_check.FLOW and state.data["text"] == TEXT


def test_yes_escalates_the_original_message_and_no_carries_it_on() -> None:
    state, _ = safeguarding_check.start(TEXT)
    assert safeguarding_check.FLOW.answer(state, "yes", CTX) == (None, safeguarding_check.Escalate(text=TEXT))
    assert safeguarding_check.FLOW.answer(state, "no", CTX) == (None, safeguarding_check.CarryOn(text=TEXT))


def test_anything_else_asks_again() -> None:
    state, _ = safeguarding_check.start(TEXT)
    again, step = safeguarding_check.FLOW.answer(state, "maybe", CTX)
    assert again == state and isinstance(step, Ask) and step.question is safeguarding_check.QUESTION


def test_typed_answers_are_read() -> None:
    state, _ = safeguarding_check.start(TEXT)
    assert safeguarding_check.FLOW.read(state, "yes", understood=False) == "yes"
    assert safeguarding_check.FLOW.read(state, "no thanks", understood=False) == "no"
    assert safeguarding_check.FLOW.read(state, "what about photos from sports day", understood=True) is None
