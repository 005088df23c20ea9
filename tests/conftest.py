"""Shared fixtures: a runtime on a fresh SQLite file, with the repo's real knowledge base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.knowledge import KnowledgeBase
from chatbot.understanding.fusion import FusedMatcher, build_matcher
from chatbot.runtime import Runtime, load_kb, open_runtime
from chatbot.store import Store

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "eval" / "dev.yaml"  # the project's own copy (eval/README.md)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The repo's knowledge base, loaded once (it is immutable)."""
    return load_kb(Settings())


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> FusedMatcher:
    """Built once per test session, from the repo's cache (embedding every example happens only when it is stale)."""
    return build_matcher(intents=kb.intents, cache_dir=Settings().cache_dir)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(Settings(), db_path=tmp_path / "chatbot.db")


@pytest.fixture
async def runtime(settings: Settings, kb: KnowledgeBase, matcher: FusedMatcher) -> AsyncIterator[Runtime]:
    async with open_runtime(settings, kb=kb, matcher=matcher) as rt:
        yield rt


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A bare Store on a fresh file, for tests below the engine."""
    store = Store(path=tmp_path / "bot.db")
    await store.open()
    yield store
    await store.close()
