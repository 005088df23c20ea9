"""Updates that survive a crash: stored in the inbox before Telegram is told, done after handling.

PTB's own Updater confirms a batch (the next getUpdates offset) before any of it is
handled, so a SIGKILL loses the batch. Here the Application runs without an Updater:
our loop fetches, stores, and only then moves the offset past what is stored; the
webhook answers 200 only once the update is stored. Each update is handled under
the per-person ordering, then marked done; whatever a crash left pending is handled
first at the next start. If the database can't be written, updates are still
handled (from memory): an answer now beats a perfect record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.delivery import retry_seconds
from adapters.telegram.ports import UpdateInbox
from adapters.telegram.transport import ALLOWED_UPDATES, PerUserOrder, TelegramApp
from chatbot.errors import ConfigError, StorageError

log = logging.getLogger(__name__)

CHANNEL = "telegram"
POLL_SECONDS = 10  # long-poll length: how long getUpdates may wait for news
MAX_BACKOFF = 30.0
DRAIN_SECONDS = 5.0  # on stop, how long updates in hand may take to finish (the rest are replayed)


class DurableUpdates:
    """Store, confirm, handle, mark done: the adapter's only way in for updates."""

    def __init__(self, *, application: TelegramApp, inbox: UpdateInbox, processor: PerUserOrder) -> None:
        self.application = application
        self.inbox = inbox
        self.processor = processor
        self._tasks: set[asyncio.Task[None]] = set()
        self._unfinished: set[str] = set()  # stored updates in hand not yet marked done
        self._offset = 0

    async def receive(self, raw_updates: list[dict[str, Any]]) -> bool:
        """Store a batch and start handling the new ones; False when it could only be handled from memory."""
        keys = [str(raw["update_id"]) for raw in raw_updates]
        try:
            fresh = await self.inbox.put_many(CHANNEL, list(zip(keys, raw_updates)))
            new = [(raw, key) for raw, key, is_new in zip(raw_updates, keys, fresh) if is_new]
            started = await self.inbox.begin_many(CHANNEL, [key for _, key in new])
        except StorageError as exc:
            log.critical("telegram: %d update(s) could not be stored (%s); handling them unstored", len(keys), exc.problem)
            self._schedule(raw_updates, durable=False)
            return False
        self._schedule([raw for raw, key in new if started.get(key)], durable=True)
        return True

    async def replay_pending(self) -> int:
        """Handle what a crash left stored but unhandled, before anything new."""
        entries = await self.inbox.pending(CHANNEL)
        started = await self.inbox.begin_many(CHANNEL, [entry.key for entry in entries])
        replay = [entry.payload for entry in entries if started.get(entry.key)]
        if replay:
            log.warning("telegram: handling %d update(s) left unhandled by the last run", len(replay))
        self._schedule(replay, durable=True)
        return len(replay)

    def _schedule(self, raw_updates: Iterable[dict[str, Any]], *, durable: bool) -> None:
        for raw in raw_updates:  # tasks start in order, so each person's lock is taken in arrival order
            task = asyncio.create_task(self._handle(raw, durable=durable), name=f"telegram-update-{raw['update_id']}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def finish(self, update_id: int) -> None:
        """Mark a stored update done as soon as its answer is sent (the adapter holds its sending lock)."""
        key = str(update_id)
        if key not in self._unfinished:  # handled from memory, or already marked
            return
        self._unfinished.discard(key)
        try:
            await self.inbox.done(CHANNEL, key)
        except StorageError as exc:  # answered, but still marked pending: a restart may answer it twice
            log.error("telegram update=%s answered but not marked done (%s)", key, exc.problem)

    async def _handle(self, raw: dict[str, Any], *, durable: bool) -> None:
        key = str(raw["update_id"])
        if durable:
            self._unfinished.add(key)
        try:
            update = Update.de_json(raw, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("telegram update=%s is not an update; set aside", key)
        else:
            handling = self.application.process_update(update)
            try:
                await self.processor.process_update(update, handling)
            except asyncio.CancelledError:  # stopped while waiting its turn: it stays pending for the next run
                handling.close()
                self._unfinished.discard(key)
                raise
        await self.finish(int(key))  # handled without an answer sent (or it failed): done all the same

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Let updates in hand finish; any still running are cancelled and stay pending for the next run."""
        if not self._tasks:
            return
        _, running = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
            log.info("telegram: %d update(s) left pending for the next start", len(running))

    # -- long polling ----------------------------------------------------------------------

    async def poll(self) -> None:
        """Fetch, store, confirm (by the next offset), forever; cancel the task to stop."""
        bot = self.application.bot
        await bot.delete_webhook()
        backoff = 1.0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._offset or None, timeout=POLL_SECONDS, allowed_updates=list(ALLOWED_UPDATES)
                )
            except InvalidToken:
                raise ConfigError("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): check it with @BotFather.") from None
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except Conflict:
                log.error("telegram: another process is polling with this token; retrying in %.0fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except (NetworkError, TelegramError) as exc:  # TimedOut included
                log.warning("telegram: getUpdates failed (%s); retrying in %.0fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            if not updates:
                continue
            await self.receive([update.to_dict() for update in updates])
            # Only now may Telegram forget them: the next getUpdates carries this offset.
            self._offset = max(update.update_id for update in updates) + 1

