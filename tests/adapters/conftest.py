"""The adapter tests' shared fixture: a fresh fake Telegram Bot API (slack/conftest.py's `fake` is Slack's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram_api import FakeTelegramAPI


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    api = FakeTelegramAPI()
    await api.start()
    yield api
    await api.close()
