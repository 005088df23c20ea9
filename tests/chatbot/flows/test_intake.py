"""The concern intake as a pure state machine: nothing is lodged without a yes."""

from __future__ import annotations

from chatbot.flows import Ask, Context, intake

CTX = Context(office="Mrs Patel in the office", due="Monday 9:30am")


def test_describe_consent_contact_then_lodge() -> None:
    state, ask = intake.start("concern_bullying", "", CTX)
    assert ask.question is intake.DESCRIBE
    state, step = intake.FLOW.answer(state, "He is picked on at lunch", CTX)
    assert state is not None and isinstance(step, Ask) and step.lead == "Thank you. "
    assert "Mrs Patel in the office" in step.question.text and "Monday 9:30am" in step.question.text
    state, step = intake.FLOW.answer(state, "yes", CTX)
    assert state is not None and isinstance(step, Ask) and step.question is intake.CONTACT
    end, lodge = intake.FLOW.answer(state, "chat", CTX)
    assert end is None and lodge == intake.Lodge(
        category="concern_bullying", summary="He is picked on at lunch", contact_method="chat"
    )


def test_no_means_nothing_is_kept() -> None:
    state, _ = intake.start("concern_complaint", "The teacher shouted at the whole class again today", CTX)
    assert state.step == "consent"
    end, outcome = intake.FLOW.answer(state, "no", CTX)
    assert end is None and outcome == intake.Declined(category="concern_complaint")


def test_a_bad_phone_number_is_asked_again_and_reply_here_still_lodges() -> None:
    state, _ = intake.start("talk_to_person", "Please can someone call me about the trip next week", CTX)
    state, _ = intake.FLOW.answer(state, "yes", CTX)  # type: ignore[arg-type]
    assert state is not None
    state, step = intake.FLOW.answer(state, "phone", CTX)
    assert state is not None and isinstance(step, Ask) and step.question is intake.PHONE
    again, retry = intake.FLOW.answer(state, "call me maybe", CTX)
    assert again == state and isinstance(retry, Ask) and retry.question is intake.PHONE_AGAIN
    end, lodge = intake.FLOW.answer(state, "07700 900123", CTX)
    assert end is None and isinstance(lodge, intake.Lodge) and lodge.phone == "07700900123"
    end, chat = intake.FLOW.answer(state, "chat", CTX)
    assert end is None and isinstance(chat, intake.Lodge) and chat.contact_method == "chat"


def test_a_clear_new_question_is_not_taken_for_a_phone_number() -> None:
    state, _ = intake.start("talk_to_person", "Please can someone call me about the trip next week", CTX)
    phone_step = state.at("phone")
    assert intake.FLOW.read(phone_step, "can I post photos of sports day", understood=True) is None
    assert intake.FLOW.read(phone_step, "07700 900123", understood=True) == "07700 900123"
