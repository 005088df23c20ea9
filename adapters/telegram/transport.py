"""How updates reach the bot: long polling or a webhook, one conversation at a time per person.

The webhook is a small aiohttp server of our own that checks Telegram's secret
header on every request, so nothing but Telegram can feed updates in.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web
from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes

from adapters.telegram.settings import TelegramSettings
from chatbot.errors import ConfigError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
MAX_WEBHOOK_BYTES = 1 << 20

TelegramApp = Application[Any, ContextTypes.DEFAULT_TYPE, Any, Any, Any, Any]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time check; an empty expected secret matches nothing."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def file_url(api_url: str) -> str:
    """Where files live, next to a (possibly local or fake) Bot API address."""
    return api_url[: -len("bot")] + "file/bot" if api_url.endswith("/bot") else api_url.rstrip("/") + "/file/bot"


class PerUserOrder(BaseUpdateProcessor):
    """Updates run concurrently, but one at a time per person, so a conversation keeps its order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _order_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None



class WebhookServer:
    """Receives Telegram's POSTs; each genuine update is stored (by `receive`) before the 200."""

    def __init__(
        self,
        *,
        settings: TelegramSettings,
        application: TelegramApp,
        receive: Callable[[list[dict[str, Any]]], Awaitable[bool]],
    ) -> None:
        self.settings = settings
        self.application = application
        self.receive = receive
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> tuple[str, int] | None:
        """Where the server listens (useful with port 0)."""
        if self._runner is None or not self._runner.addresses:
            return None
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def start(self) -> None:
        settings = self.settings
        if not settings.webhook_url or not settings.webhook_secret:
            raise ConfigError("telegram webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
        server = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        server.router.add_post(settings.webhook_path, self._on_post)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
        self._runner = runner
        await self.application.bot.set_webhook(
            url=settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_post(self, request: web.Request) -> web.Response:
        """Telegram posts one update; only a request with our secret gets in."""
        if not secret_matches(request.headers.get(SECRET_HEADER), self.settings.webhook_secret or ""):
            log.warning("telegram webhook: refused a request without the right secret token")
            return web.Response(status=403, text="forbidden")
        try:
            raw = await request.json()
            Update.de_json(raw, self.application.bot)
            int(raw["update_id"])
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("telegram webhook: refused a body that is not an update")
            return web.Response(status=400, text="not an update")
        await self.receive([raw])  # stored (or, if the disk is gone, handled from memory) before Telegram hears 200
        return web.Response(text="ok")
