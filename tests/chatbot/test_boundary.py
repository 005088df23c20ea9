"""The one error boundary: a user error keeps its words; a bug becomes an apology logged by type only."""

from __future__ import annotations

import logging

import pytest

from chatbot import boundary, replies
from chatbot.errors import UnknownSchool
from chatbot.messages import Audience, Incoming, Reply

SAID = Incoming(channel="test", user_id="u", chat_id="c", school_id="orchard", audience=Audience.PARENT,
                text="my secret about Jane Smith")  # fmt: skip


async def test_a_user_error_is_shown_in_its_own_words() -> None:
    async def handle(incoming: Incoming) -> Reply:
        raise UnknownSchool("hogwarts", ["orchard"])

    reply = await boundary.answer(handle, SAID)
    assert "hogwarts" in reply.text and "orchard" in reply.text


async def test_a_bug_becomes_an_apology_and_one_log_line_without_the_text(caplog: pytest.LogCaptureFixture) -> None:
    async def handle(incoming: Incoming) -> Reply:
        raise KeyError(incoming.text)

    with caplog.at_level(logging.ERROR):
        reply = await boundary.answer(handle, SAID)
    assert reply.text == replies.APOLOGY
    [record] = [r for r in caplog.records if r.name == "chatbot.boundary"]
    assert "KeyError" in record.getMessage() and "test_boundary.py:" in record.getMessage()
    assert "Jane Smith" not in caplog.text


async def test_a_good_turn_passes_straight_through() -> None:
    async def handle(incoming: Incoming) -> Reply:
        return Reply(text=f"echo {incoming.channel}")

    assert (await boundary.answer(handle, SAID)).text == "echo test"
