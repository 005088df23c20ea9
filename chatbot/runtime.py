"""Wire the core together from Settings: knowledge, matcher, store, queue, engine.

One place builds the objects so the CLI, the adapters, the tests and the
benchmarks all run the same engine.
"""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import AsyncIterator, Callable

from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ConcernQueue
from chatbot.config import Settings
from chatbot.conversations import ConversationStore
from chatbot.engine import Engine
from chatbot.inbox import Inbox
from chatbot.journal import FallbackJournal, journal_path
from chatbot.knowledge import KnowledgeBase, load_knowledge_base
from chatbot.understanding.fusion import FusedMatcher, build_matcher
from chatbot.outbox import Outbox
from chatbot.retention import Retention
from chatbot.store import Store


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """Everything a running bot needs, built once."""

    settings: Settings
    kb: KnowledgeBase
    store: Store
    engine: Engine
    concerns: ConcernQueue
    outbox: Outbox
    retention: Retention
    inbox: Inbox


def load_kb(settings: Settings) -> KnowledgeBase:
    return load_knowledge_base(
        intents_dir=settings.intents_dir,
        knowledge_dir=settings.knowledge_dir,
        schools=list(settings.schools) if settings.schools else None,
    )


def calendars_for(settings: Settings) -> Callable[[str], WorkingCalendar]:
    """One WorkingCalendar per school, built on first use."""

    @lru_cache(maxsize=None)
    def calendar(school_id: str) -> WorkingCalendar:
        return WorkingCalendar(hours=settings.hours_for(school_id), timezone=settings.timezone)

    return calendar


def build_engine(
    *, settings: Settings, kb: KnowledgeBase, store: Store, matcher: FusedMatcher | None = None
) -> tuple[Engine, ConcernQueue]:
    calendars = calendars_for(settings)
    concerns = ConcernQueue(store=store, calendars=calendars)
    engine = Engine(
        kb=kb,
        matcher=matcher or build_matcher(intents=kb.intents, cache_dir=settings.cache_dir),
        conversations=ConversationStore(store=store),
        concerns=concerns,
        retention=Retention(store=store, policy=settings.retention),
        calendars=calendars,
        promises=settings.reply_promises,
        journal=FallbackJournal(path=journal_path(Path(settings.db_path))),
    )
    return engine, concerns


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, kb: KnowledgeBase | None = None, matcher: FusedMatcher | None = None
) -> AsyncIterator[Runtime]:
    """Open the store and build the engine; close the store on exit.

    A matcher built for the same knowledge base can be passed in to skip training
    (tests and benchmarks open many runtimes over one knowledge base).
    """
    kb = kb or load_kb(settings)
    store = Store(path=settings.db_path)
    await store.open()
    try:
        engine, concerns = build_engine(settings=settings, kb=kb, store=store, matcher=matcher)
        if engine.journal is not None:
            await engine.journal.replay(concerns)  # urgent reports kept while the database was down
        gc.freeze()  # the knowledge and matcher index live for the whole run: keep them out of GC scans
        yield Runtime(
            settings=settings, kb=kb, store=store, engine=engine, concerns=concerns, outbox=Outbox(store=store),
            retention=engine.retention, inbox=Inbox(store=store),
        )  # fmt: skip
    finally:
        await store.close()
