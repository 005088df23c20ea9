"""`chatbot serve`: which adapters run, what nothing drains, and a real run until stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlite_utils import Database

from adapters.base import DeliveryTiming
from adapters.serve import build_adapters, delivery_loops, name_undrained, serve_forever
from adapters.telegram import TelegramAdapter
from chatbot.config import Settings
from chatbot.destinations import CONSOLE, TELEGRAM, Destination
from chatbot.errors import ConfigError
from chatbot.messages import OutboxItem
from chatbot.outbox import enqueue, write_transaction
from chatbot.runtime import Runtime
from chatbot.store import Store
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, text_update


@pytest.mark.parametrize(
    ("only", "env", "problem"),
    [
        (None, {}, "No adapter is configured"),
        ("carrier-pigeon", {}, "--only must be 'telegram' or 'slack'"),
        ("telegram", {}, "Telegram is not configured"),
        ("slack", {"TELEGRAM_BOT_TOKEN": TOKEN}, "Slack is not configured"),
    ],
)
async def test_a_missing_or_wrong_choice_of_adapter_is_a_kind_config_error(
    runtime: Runtime, only: str | None, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        build_adapters(runtime, only=only, slack_http_port=None, env=env)


async def test_each_adapter_reads_its_own_settings_from_the_environment(runtime: Runtime, fake: FakeTelegramAPI) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_SCHOOL": "orchard"}
    [adapter] = build_adapters(runtime, only=None, slack_http_port=None, env=env)
    assert isinstance(adapter, TelegramAdapter) and adapter.school_id == "orchard"


async def test_items_nothing_drains_are_named_at_start_up(runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    def queue(db: Database) -> None:
        with write_transaction(db):
            enqueue(db, channel=CONSOLE, kind="message", key="k1", payload={"chat_id": "x", "text": "Jane Smith"})

    await runtime.store.run(queue)
    with caplog.at_level(logging.WARNING):
        undrained = await name_undrained(runtime, [])
    assert undrained == {CONSOLE: 1}
    assert "'console'" in caplog.text and "Jane Smith" not in caplog.text


async def test_serve_answers_through_the_configured_adapter_until_stopped(
    tmp_path: Path, fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_SCHOOL": "orchard"}
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO):
        running = asyncio.create_task(serve_forever(Settings(db_path=tmp_path / "serve.db"), env=env, stop=stop))
        fake.push(text_update(7001, "is it ok to moan about the school on facebook"))
        [answer] = await fake.wait_sent(7001, 1, timeout=60)
        assert answer.text.startswith("Please don't.") and "📖" in answer.text  # the cited answer
        # an office reply queued by another process reaches the parent through serve's delivery loop
        await queue_from_another_process(tmp_path / "serve.db", TELEGRAM, {"chat_id": "7002", "text": "We will call you."})
        [reply] = await fake.wait_sent(7002, 1, timeout=30)
        assert reply.text == "We will call you."
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert "adapter started: telegram" in caplog.text and "adapter stopped: telegram" in caplog.text


async def queue_from_another_process(path: Path, destination: Destination, payload: dict[str, str]) -> None:
    store = Store(path=path)
    await store.open()

    def queue(db: Database) -> None:
        with write_transaction(db):
            enqueue(db, channel=destination, kind="message", key="from-the-office", payload=payload)

    try:
        await store.run(queue)
    finally:
        await store.close()


class Declares:
    """An adapter that only declares destinations (delivery_loops never starts or calls it)."""

    def __init__(self, name: str, *destinations: Destination) -> None:
        self.name = name
        self.destinations = destinations
        self.timing = DeliveryTiming(base_delay=2.0, idle_sleep=0.1)
        self.sending = asyncio.Lock()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, item: OutboxItem) -> None: ...


async def test_one_loop_per_declared_destination_with_the_adapters_timing(runtime: Runtime) -> None:
    office = Destination.office("orchard")
    telegram, slack = Declares("telegram", TELEGRAM), Declares("slack", office, Destination.office("roose"))
    loops = delivery_loops(runtime.outbox, [telegram, slack])
    assert [loop.destination for loop in loops] == [TELEGRAM, office, Destination.office("roose")]
    assert all(loop.base_delay == 2.0 and loop.idle_sleep == 0.1 for loop in loops)
    assert loops[1].deliver == slack.deliver and loops[0].deliver == telegram.deliver
    # each platform's loops hold its one sending lock, the one its direct replies hold
    assert loops[0].guard is telegram.sending and loops[1].guard is loops[2].guard is slack.sending
    with pytest.raises(ConfigError, match="office:orchard"):
        delivery_loops(runtime.outbox, [slack, Declares("another", office)])
