"""What every queue command needs: settings, an open Store, the ConcernQueue, calendars.

Commands are sync (Typer) and the core is async; `run_command` bridges the two and
turns a UserError into a red message and exit code 1 instead of a traceback.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ConcernQueue
from chatbot.config import Settings, load_settings
from chatbot.errors import UserError
from chatbot.retention import Retention
from chatbot.runtime import calendars_for
from chatbot.store import Store

T = TypeVar("T")

stderr = Console(stderr=True, highlight=False)


@dataclass(frozen=True, kw_only=True)
class QueueContext:
    settings: Settings
    store: Store
    queue: ConcernQueue
    retention: Retention
    calendars: Callable[[str], WorkingCalendar]


@asynccontextmanager
async def open_queue(settings: Settings | None = None) -> AsyncIterator[QueueContext]:
    """Open the database named by the settings (CHATBOT_DB wins) and close it afterwards."""
    settings = settings or load_settings()
    calendars = calendars_for(settings)
    store = Store(path=settings.db_path)
    try:
        await store.open()
        yield QueueContext(
            settings=settings, store=store, queue=ConcernQueue(store=store, calendars=calendars),
            retention=Retention(store=store, policy=settings.retention), calendars=calendars,
        )  # fmt: skip
    finally:
        await store.close()


def fail(message: str) -> typer.Exit:
    stderr.print(f"[red]{escape(message)}[/red]")
    return typer.Exit(1)


def settings_or_exit() -> Settings:
    """The settings, or the problem in red and exit code 1."""
    try:
        return load_settings()
    except UserError as error:
        raise fail(str(error)) from None


def run_command(main: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body; user errors become a red message and exit code 1."""

    async def wrapped() -> T:
        return await main()

    try:
        return asyncio.run(wrapped())
    except UserError as err:
        raise fail(str(err)) from None
    except sqlite3.Error as err:
        raise fail(f"The database could not be used ({type(err).__name__}: {err}).") from None
