"""The photo check as a pure state machine: (state, answer) -> (state, next question or verdict)."""

from __future__ import annotations

from chatbot.flows import Ask, Context, photo

CTX = Context(office="the school office", due="tomorrow")


def test_only_my_children_takes_two_questions() -> None:
    state, ask = photo.start("post_photo")
    assert ask.question is photo.QUESTIONS["oc"]
    state, step = photo.FLOW.answer(state, "no", CTX)
    assert isinstance(step, Ask) and step.question.step == "ev" and state is not None
    end, verdict = photo.FLOW.answer(state, "yes", CTX)
    assert end is None and verdict == photo.PhotoVerdict(
        intent="post_photo", facts={"other_children": "no", "school_event": "yes"}
    )


def test_other_children_brings_the_permission_question() -> None:
    state, _ = photo.start("post_photo")
    for value in ("unsure", "yes"):
        next_state, step = photo.FLOW.answer(state, value, CTX)
        assert next_state is not None and isinstance(step, Ask)
        state = next_state
    assert state.step == "pm"
    end, verdict = photo.FLOW.answer(state, "no", CTX)
    assert end is None and isinstance(verdict, photo.PhotoVerdict) and verdict.facts["permission"] == "no"


def test_an_answer_that_does_not_fit_repeats_the_question_and_changes_nothing() -> None:
    state, _ = photo.start("post_photo")
    same, step = photo.FLOW.answer(state, "purple", CTX)
    assert same == state and isinstance(step, Ask) and step.question.step == "oc"


def test_typed_answers_are_read_as_yes_no_or_unsure() -> None:
    state, _ = photo.start("post_photo")
    assert [photo.FLOW.read(state, t, understood=False) for t in ("yeah", "nope", "not sure", "what?")] == [
        "yes", "no", "unsure", None,
    ]  # fmt: skip
