"""The console chat: the embedded default, no tokens needed.

Buttons are shown as numbered choices; typing the number presses the button.
Office replies to this console user arrive through the outbox like any channel's.
"""

from __future__ import annotations

import asyncio
import textwrap
from typing import Callable

from rich.console import Console
from rich.markup import escape

from chatbot.engine import Engine
from chatbot import boundary
from chatbot.destinations import CONSOLE
from chatbot.messages import Audience, Button, Incoming, InputKind, OutboxItem, Reply

CHANNEL = "console"


def render(reply: Reply) -> str:
    """Plain-text rendering of a reply (also used by `chatbot ask`)."""
    parts = [reply.text]
    for cite in reply.citations:
        quote = textwrap.shorten(cite.text, width=400, placeholder=" …")
        parts.append(f"  From the policy, \"{cite.title}\": “{quote}”")
    for number, button in enumerate(reply.buttons, start=1):
        parts.append(f"  [{number}] {button.label}")
    return "\n".join(parts)


class ConsoleChat:
    """An interactive terminal conversation with the engine."""

    name = "console"
    destinations = (CONSOLE,)

    def __init__(
        self,
        *,
        engine: Engine,
        school_id: str,
        audience: Audience,
        user_id: str = "local",
        console: Console | None = None,
        read_line: Callable[[], str] = input,
    ) -> None:
        self.engine = engine
        self.school_id = school_id
        self.audience = audience
        self.user_id = user_id
        self.console = console or Console(highlight=False)
        self._read_line = read_line
        self._buttons: tuple[Button, ...] = ()

    def _incoming(self, line: str) -> Incoming:
        stripped = line.strip()
        kind, action, command, text = InputKind.TEXT, None, None, line
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._buttons):
            kind, action, text = InputKind.ACTION, self._buttons[int(stripped) - 1].payload, ""
        elif stripped.startswith("/") and len(stripped) > 1:
            name, _, text = stripped[1:].partition(" ")
            kind, command = InputKind.COMMAND, name.lower()
        return Incoming(
            channel=CHANNEL, user_id=self.user_id, chat_id=self.user_id, school_id=self.school_id,
            audience=self.audience, kind=kind, action=action, command=command, text=text,
        )

    def show(self, reply: Reply) -> None:
        style = "bold red" if reply.urgent else "cyan"
        self.console.print(f"[{style}]bot>[/] {escape(render(reply))}")
        self._buttons = reply.buttons

    async def deliver(self, item: OutboxItem) -> None:
        text = str(item.payload.get("text", ""))
        self.console.print(f"[bold green]school office>[/] {escape(text)}")

    async def start(self) -> None:
        await self.run()

    async def stop(self) -> None:
        return None

    async def turn(self, line: str) -> Reply:
        return await boundary.answer(self.engine.handle, self._incoming(line))

    async def run(self) -> None:
        if self.school_id:
            school = self.engine.kb.school(self.school_id)
            self.console.print(f"[bold]{escape(school.name)}[/]: {escape(school.policy)} ({self.audience.value}).")
        self.console.print("Type your question; a number picks a choice; /help for help; /quit to leave.")
        self.show(await self.turn("/start"))
        while True:
            try:
                line = await asyncio.to_thread(self._read_line)
            except (EOFError, KeyboardInterrupt):
                break
            if line.strip().lower() in ("/quit", "/exit", "quit", "exit"):
                break
            self.show(await self.turn(line))
        self.console.print("Goodbye!")
