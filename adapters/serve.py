"""`chatbot serve`: run every configured adapter in one process, until SIGINT/SIGTERM.

Adapters only declare the destinations they drain; this module runs one
DeliveryLoop per declared destination (an office is a destination like any
other), names at start-up whatever waits with nothing to drain it, and adds the
periodic housekeeping and a clean shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any, AsyncIterator, Coroutine, Mapping, Sequence

from adapters.base import Adapter
from chatbot.config import Settings
from chatbot.destinations import Destination
from chatbot.errors import ConfigError
from chatbot.outbox import DeliveryLoop, Outbox
from chatbot.runtime import Runtime, open_runtime
from chatbot.store import utcnow

log = logging.getLogger(__name__)

REMINDER_INTERVAL_SECONDS = 15 * 60
JOURNAL_INTERVAL_SECONDS = 10
STOP_SECONDS = 5.0  # each adapter gets this long to stop; SIGTERM must end the process within seconds
UPDATE_MEMORY = timedelta(days=7)  # platforms redeliver within minutes; a week is ample


def build_adapters(
    runtime: Runtime, *, only: str | None, slack_http_port: int | None, env: Mapping[str, str] | None = None
) -> list[Adapter]:
    """The adapters the settings configure (or just `only`); each adapter reads its own settings."""
    from adapters.telegram.settings import telegram_settings

    if only not in (None, "telegram", "slack"):
        raise ConfigError(f"--only must be 'telegram' or 'slack', not {only!r}")
    telegram = telegram_settings(runtime.settings, env)
    slack = None
    if only != "telegram":  # Slack's settings live in its package: reading them loads the whole Slack adapter
        from adapters.slack.settings import slack_settings

        slack = slack_settings(runtime.settings, env)
    adapters: list[Adapter] = []
    if only in (None, "telegram") and telegram is not None:
        from adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(
            settings=telegram, engine=runtime.engine, inbox=runtime.inbox, schools=tuple(runtime.kb.schools)
        ))  # fmt: skip
    if only in (None, "slack") and slack is not None:
        from adapters.slack import SlackAdapter

        adapters.append(SlackAdapter(settings=slack, runtime=runtime, http_port=slack_http_port))
    if only == "telegram" and telegram is None:
        raise ConfigError("Telegram is not configured: set TELEGRAM_BOT_TOKEN (see README).")
    if only == "slack" and slack is None:
        raise ConfigError("Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (see README).")
    if not adapters:
        raise ConfigError(
            "No adapter is configured. Set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN (see README), "
            "or use `chatbot chat` for the console."
        )
    return adapters


async def _housekeeping(runtime: Runtime, stop: asyncio.Event) -> None:
    """At start and every few minutes: remind the office of overdue concerns, expire unsent text, forget old update ids."""
    while not stop.is_set():
        try:
            count = await runtime.concerns.remind_overdue()
            if count:
                log.info("overdue reminders queued: %d", count)
            await runtime.retention.expire_unsent_text()
            await runtime.inbox.trim(older_than=utcnow() - UPDATE_MEMORY)
        except Exception as exc:  # keep sweeping; the next run retries
            log.error("housekeeping failed: %s", type(exc).__name__)
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=REMINDER_INTERVAL_SECONDS)


async def _replay_journal(runtime: Runtime, stop: asyncio.Event) -> None:
    """Urgent reports kept in the fallback journal go into the queue as soon as the database takes writes."""
    journal = runtime.engine.journal
    while journal is not None and not stop.is_set():
        if journal.waiting:
            try:
                await journal.replay(runtime.concerns)
            except Exception as exc:  # the next round tries again
                log.error("fallback journal replay failed: %s", type(exc).__name__)
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=JOURNAL_INTERVAL_SECONDS)


async def name_undrained(runtime: Runtime, adapters: list[Adapter]) -> dict[Destination, int]:
    """Log every destination with items waiting that no running adapter drains (e.g. a school with no office)."""
    drained = {destination for adapter in adapters for destination in adapter.destinations}
    undrained = {d: n for d, n in (await runtime.outbox.waiting()).items() if d not in drained}
    for destination, count in undrained.items():
        if destination.is_office and destination.school is not None:
            log.warning("%d office item(s) for %s stay queued: no office is set up for that school here "
                        "(they show in `chatbot queue list`)", count, destination.school)  # fmt: skip
        else:
            log.warning("%d item(s) for %r stay queued: nothing here delivers them", count, str(destination))
    return undrained


def delivery_loops(outbox: Outbox, adapters: Sequence[Adapter]) -> list[DeliveryLoop]:
    """One loop per destination an adapter declares; a destination declared twice is a wiring mistake."""
    loops: dict[Destination, DeliveryLoop] = {}
    for adapter in adapters:
        timing = adapter.timing
        for destination in adapter.destinations:
            if destination in loops:
                raise ConfigError(f"two adapters both deliver to {str(destination)!r}")
            loops[destination] = DeliveryLoop(
                outbox=outbox, destination=destination, deliver=adapter.deliver,
                base_delay=timing.base_delay, max_delay=timing.max_delay, idle_sleep=timing.idle_sleep,
                guard=adapter.sending,
            )  # fmt: skip
    return list(loops.values())


@asynccontextmanager
async def delivering(outbox: Outbox, adapters: Sequence[Adapter]) -> AsyncIterator[list[DeliveryLoop]]:
    """Run the adapters' delivery loops (the adapters already started); on exit stop them, before the adapters stop."""
    loops = delivery_loops(outbox, adapters)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop.run(stop), name=f"outbox-{loop.destination}") for loop in loops]
    try:
        yield loops
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for loop, result in zip(loops, results):
            if isinstance(result, BaseException):
                log.warning("delivery to %s ended with %s", loop.destination, type(result).__name__)


async def serve_forever(
    settings: Settings, *, only: str | None = None, slack_http_port: int | None = None,
    env: Mapping[str, str] | None = None, stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or until `stop` is set, when one is given)."""
    async with open_runtime(settings) as runtime:
        adapters = build_adapters(runtime, only=only, slack_http_port=slack_http_port, env=env)
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
        await name_undrained(runtime, adapters)
        started: list[Adapter] = []

        async def start_all() -> None:
            for adapter in adapters:
                await adapter.start()
                started.append(adapter)
                log.info("adapter started: %s", adapter.name)

        try:
            if await until_stopped(start_all(), stop):  # a start that hangs (dead credentials) still obeys SIGTERM
                async with delivering(runtime.outbox, started):
                    await asyncio.gather(_housekeeping(runtime, stop), _replay_journal(runtime, stop))
        finally:
            for adapter in reversed(started):
                try:
                    await asyncio.wait_for(adapter.stop(), timeout=STOP_SECONDS)
                except Exception as exc:  # stopping must finish: the process is going away
                    log.warning("adapter %s did not stop cleanly (%s)", adapter.name, type(exc).__name__)
                log.info("adapter stopped: %s", adapter.name)


async def until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run `work` unless `stop` is set first (then cancel it); True when the work finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(task, timeout=STOP_SECONDS)
        log.info("stopped while starting")
        return False
    task.result()  # a start that failed (a rejected token) raises its one-line error here
    return True
