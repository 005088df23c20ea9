"""The console chat: numbered buttons, commands, office replies, and no crash reaching the terminal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from rich.console import Console
from typer.testing import CliRunner

from adapters.console import ConsoleChat, render
from chatbot import replies
from chatbot.actions import ContactOffice
from chatbot.messages import Audience, Button, Citation, Incoming, OutboxItem, Reply
from chatbot.runtime import Runtime
from cli.main import app


def scripted(lines: list[str]) -> tuple[Console, object]:
    """A console that writes to a buffer, and a reader that types `lines` then presses Ctrl-D."""
    feed: Iterator[str] = iter(lines)

    def read_line() -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return Console(file=io.StringIO(), width=300, highlight=False), read_line


def output(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


async def test_a_number_picks_a_button_through_the_photo_check_to_the_cited_answer(runtime: Runtime) -> None:
    console, read_line = scripted(["can i post a pic from sports day on facebook?", "2", "yes", "/quit", "never read"])
    chat = ConsoleChat(engine=runtime.engine, school_id="dauvergne", audience=Audience.PARENT, user_id="mum",
                       console=console, read_line=read_line)  # fmt: skip
    await chat.run()
    text = output(console)
    assert "[2] No, only mine" in text  # the first question, its buttons numbered
    assert "Was it taken at a school event" in text  # "2" answered it
    assert "From the policy" in text  # the verdict cites the school's own clause
    assert text.rstrip().endswith("Goodbye!")


async def test_end_of_input_ends_the_chat_kindly(runtime: Runtime) -> None:
    console, read_line = scripted([])
    chat = ConsoleChat(engine=runtime.engine, school_id="", audience=Audience.PARENT, console=console,
                       read_line=read_line)  # fmt: skip
    await chat.run()
    assert "Which school" in output(console) and output(console).rstrip().endswith("Goodbye!")


class Broken:
    """An engine that fails every turn, as a bug would."""

    kb = None

    async def handle(self, incoming: Incoming) -> Reply:
        raise ZeroDivisionError("a bug")


async def test_a_bug_in_a_turn_is_an_apology_and_the_chat_goes_on() -> None:
    console, read_line = scripted(["hello", "/quit"])
    chat = ConsoleChat(engine=Broken(), school_id="", audience=Audience.PARENT, console=console,
                       read_line=read_line)  # fmt: skip
    await chat.run()
    assert output(console).count(replies.APOLOGY) == 2  # the greeting turn and "hello"
    assert "Traceback" not in output(console) and "Goodbye!" in output(console)


async def test_an_office_reply_is_shown_as_the_office_speaking() -> None:
    console, read_line = scripted([])
    chat = ConsoleChat(engine=Broken(), school_id="", audience=Audience.PARENT, console=console,
                       read_line=read_line)  # fmt: skip
    await chat.deliver(OutboxItem(id=1, channel="console", kind="message", key="k", payload={"text": "We'll call [you]."}))
    assert "school office> We'll call [you]." in output(console)  # markup-like text printed as typed


def test_render_numbers_buttons_and_quotes_citations() -> None:
    reply = Reply(
        text="Please don't.",
        citations=(Citation(school_id="orchard", section_id="s1", title="Photos", text="Only your own child."),),
        buttons=(Button(label="Contact the school", action=ContactOffice()),),
    )
    assert render(reply).splitlines() == [
        "Please don't.", '  From the policy, "Photos": “Only your own child.”', "  [1] Contact the school",
    ]  # fmt: skip


def test_the_chat_command_runs_in_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_DB", str(tmp_path / "chat.db"))
    result = CliRunner().invoke(app, ["chat", "--school", "orchard"], input="is it ok to moan about the school on facebook\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "Orchard" in result.output and "From the policy" in result.output and "Goodbye!" in result.output
