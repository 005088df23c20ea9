"""Fixtures for the Slack tests: no proxy, a fresh fake Slack, the adapter running, and a Bot posting to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.serve import delivering
from adapters.slack import SlackAdapter
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import OFFICE_CHANNEL, OFFICE_MEMBER, Bot, http_adapter
from tests.fakes.slack_api import BOT_USER, FakeSlack

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk honours HTTP(S)_PROXY and ignores NO_PROXY: localhost must go direct."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    slack.members[OFFICE_CHANNEL] = [BOT_USER, OFFICE_MEMBER]
    await slack.start()
    yield slack
    await slack.close()


@pytest.fixture
async def adapter(fake: FakeSlack, runtime: Runtime) -> AsyncIterator[SlackAdapter]:
    slack = http_adapter(fake, runtime)
    await slack.start()
    async with delivering(runtime.outbox, [slack]):  # the delivery loops, as `chatbot serve` runs them
        yield slack
    await slack.stop()


@pytest.fixture
async def bot(adapter: SlackAdapter, fake: FakeSlack) -> AsyncIterator[Bot]:
    async with aiohttp.ClientSession() as session:
        yield Bot(url=f"http://127.0.0.1:{adapter.http_port}/slack/events", session=session, fake=fake)
