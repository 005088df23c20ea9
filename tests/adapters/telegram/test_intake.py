"""Updates survive a crash: stored before Telegram forgets them, handled after a restart.

The fake Bot API forgets an update only once a later getUpdates confirms it, as
Telegram does. A first run whose engine never finishes stands in for a process
that dies mid-burst; a second run on the same database must answer everyone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from adapters.telegram.transport import SECRET_HEADER
from chatbot.inbox import InboxStatus
from chatbot.knowledge import KnowledgeBase
from chatbot.matching import Matcher
from chatbot.messages import Incoming, Reply
from tests.adapters.telegram.test_adapter import eventually, running
from tests.fakes.telegram_api import FakeTelegramAPI, text_update


class Stuck:
    """An engine that never answers: the process 'dies' while every update is in hand."""

    def __init__(self) -> None:
        self.seen = 0

    async def handle(self, incoming: Incoming) -> Reply:
        self.seen += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_polled_updates_confirmed_to_telegram_are_answered_after_a_restart(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: Matcher
) -> None:
    parents = list(range(2001, 2031))
    for chat in parents:
        fake.push(text_update(chat, "can I post a photo from sports day?"))
    stuck = Stuck()
    async with running(fake, tmp_path, kb, matcher, engine=stuck) as first:
        await fake.wait_for(lambda: fake.unconfirmed == 0 and stuck.seen > 0, what="Telegram forgetting the burst")
        counts = await first.runtime.inbox.counts("telegram")
        assert counts[InboxStatus.PENDING] == len(parents)  # all stored before the offset moved past them
    assert all(not fake.sent(chat) for chat in parents)

    async with running(fake, tmp_path, kb, matcher) as second:
        for chat in parents:
            await fake.wait_sent(chat, 1, timeout=20)
        async def all_done() -> bool:
            return (await second.runtime.inbox.counts("telegram"))[InboxStatus.PENDING] == 0

        await eventually(all_done, what="every update marked done")
    assert all(len(fake.sent(chat)) == 1 for chat in parents)  # answered once each, not twice


async def test_the_webhook_answers_200_only_once_the_update_is_stored(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: Matcher
) -> None:
    secret = "hook-secret"
    hook: dict[str, Any] = dict(mode="webhook", webhook_url="https://bot.example.org/telegram", webhook_secret=secret, webhook_port=0)
    chat = 2101
    async with running(fake, tmp_path, kb, matcher, engine=Stuck(), **hook) as first:
        address = first.adapter.webhook_address
        assert address is not None
        async with aiohttp.ClientSession() as http:
            update = text_update(chat, "is my 11 year old allowed instagram") | {"update_id": 77}
            async with http.post(f"http://127.0.0.1:{address[1]}/telegram", json=update,
                                 headers={SECRET_HEADER: secret}) as response:  # fmt: skip
                assert response.status == 200
        assert [e.key for e in await first.runtime.inbox.pending("telegram")] == ["77"]

    async with running(fake, tmp_path, kb, matcher, **hook):
        (answer,) = await fake.wait_sent(chat, 1, timeout=10)
        assert answer.text
