"""Parents on Telegram: python-telegram-bot 22 in front of the core's one message model.

Updates become `Incoming` (reading.py), the engine's `Reply` goes back as HTML
(rendering.py, delivery.py). Long polling by default, or a webhook (transport.py).
It delivers the "telegram" destination (office replies to parents) when `chatbot
serve`'s delivery loop hands it an item. The core never imports Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import OrderedDict
from collections.abc import Collection
from typing import Any

from telegram import BotCommand, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from adapters.base import DeliveryTiming
from adapters.telegram import delivery
from adapters.telegram.reading import GROUP_CHATS, Heard, addressed, hear
from adapters.telegram.rendering import escape, keyboard, link_keyboard, render
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.intake import DurableUpdates
from adapters.telegram.ports import Handles, UpdateInbox
from adapters.telegram.transport import PerUserOrder, TelegramApp, WebhookServer, file_url
from chatbot import boundary, replies
from chatbot.destinations import TELEGRAM
from chatbot.errors import ConfigError
from chatbot.messages import Audience, Incoming, InputKind, OutboxItem, Reply, Visibility
from chatbot.sending_turn import SLOW_SEND_SECONDS, SendingTurn, Sleep

log = logging.getLogger(__name__)

CHANNEL = "telegram"
COMMANDS = (
    BotCommand("start", "Start, or choose your school"),
    BotCommand("help", "What I can help with"),
    BotCommand("school", "Change school"),
    BotCommand("concerns", "Your concerns and their status"),
    BotCommand("privacy", "What I keep and why"),
    BotCommand("forget", "Delete what I hold about you"),
    BotCommand("cancel", "Stop the current question"),
)


def _owed_an_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A button press or a message meant for the bot: in a group, not every message is."""
    if update.callback_query is not None:
        return True
    message, bot = update.effective_message, context.bot
    return message is not None and addressed(message, bot_id=bot.id, bot_username=bot.username)


def _report_polling_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("telegram polling stopped: %s", task.exception())


class TelegramAdapter:
    """Runs the bot (polling or webhook) and delivers what the outbox holds for Telegram."""

    name = "telegram"
    destinations = (TELEGRAM,)

    def __init__(
        self,
        *,
        settings: TelegramSettings,
        engine: Handles,
        inbox: UpdateInbox,
        schools: Collection[str],
        concurrency: int = 8,
        timing: DeliveryTiming = DeliveryTiming(),
        sleep: Sleep = asyncio.sleep,
        slow_send: float = SLOW_SEND_SECONDS,
    ) -> None:
        """Narrow ports, not the runtime: the conversation, the inbox, and the school ids known (so an
        unknown TELEGRAM_SCHOOL is refused here, not per message). Outbox items come through `deliver`.

        `sleep` is how a direct reply waits between tries (tests pass one that records and returns at once);
        a send running past `slow_send` seconds gives its turn at the sending lock back.
        """
        if settings.school and settings.school not in schools:
            known = ", ".join(sorted(schools))
            raise ConfigError(f"TELEGRAM_SCHOOL {settings.school!r} is not a school I know ({known}).")
        self.settings = settings
        self.sleep = sleep
        self.slow_send = slow_send
        self.engine = engine
        self.timing = timing
        # Held around each send and its record (the inbox's done mark, or serve's outbox bookkeeping): the
        # engine's work runs concurrently, but at most one healthy answer is ever sent and not yet recorded,
        # which is all a crash can double. A direct answer's waits and hung sends give it back (chatbot/sending_turn.py);
        # a hung send is one whose fate is unknown anyway, so its retry may double it with or without a crash.
        self.sending = asyncio.Lock()
        self.processor = PerUserOrder(concurrency)
        self.application: TelegramApp = self._build()
        self.updates = DurableUpdates(application=self.application, inbox=inbox, processor=self.processor)
        self._albums: OrderedDict[str, None] = OrderedDict()
        self._poll_task: asyncio.Task[None] | None = None
        self._webhook = WebhookServer(settings=settings, application=self.application, receive=self.updates.receive)

    def _build(self) -> TelegramApp:
        """No Updater: it would confirm updates to Telegram before they are stored (see intake.py)."""
        builder = (
            ApplicationBuilder()
            .token(self.settings.token)
            .base_url(self.settings.api_url)
            .base_file_url(self.settings.file_url or file_url(self.settings.api_url))
            .concurrent_updates(self.processor)
            .updater(None)
        )
        app: TelegramApp = builder.build()
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGES, self._on_message))
        app.add_error_handler(self._on_error)
        return app

    @property
    def school_id(self) -> str:
        return self.settings.school or ""

    @property
    def webhook_address(self) -> tuple[str, int] | None:
        """Where the webhook server listens (useful with port 0)."""
        return self._webhook.address

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start taking updates; returns once running."""
        logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs every URL, and each holds the token
        try:
            try:
                await self.application.initialize()
            except InvalidToken:
                raise ConfigError("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): check it with @BotFather.") from None
            except NetworkError as exc:  # the address without the token, which PTB puts after it
                raise ConfigError(
                    f"Telegram's Bot API at {self.settings.api_url} is unreachable ({type(exc).__name__})."
                ) from None
            await self._set_commands()
            await self.application.start()
            await self.updates.replay_pending()  # what the last run stored but never handled comes first
            if self.settings.mode == "webhook":
                await self._webhook.start()
            else:
                self._poll_task = asyncio.create_task(self.updates.poll(), name="telegram-polling")
                self._poll_task.add_done_callback(_report_polling_end)
        except BaseException:
            await self.stop()  # half-started: release the HTTP client and the server port
            raise
        log.info("telegram started mode=%s school=%s", self.settings.mode, self.school_id or "(chosen by parents)")

    async def stop(self) -> None:
        """Stop taking updates, finish those in hand, disconnect."""
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
            self._poll_task = None
        await self._webhook.stop()
        await self.updates.drain()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        log.info("telegram stopped")

    async def _set_commands(self) -> None:
        try:
            await self.application.bot.set_my_commands(COMMANDS)
        except TelegramError as exc:  # only the clients' command menu depends on it
            log.warning("telegram: could not set the command menu (%s)", type(exc).__name__)

    # -- delivery (outbox) -------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        """Send an office reply to a parent; tells serve's DeliveryLoop whether to retry or give up."""
        await delivery.deliver(self.application.bot, item)

    # -- handlers ----------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        bot = context.bot
        if not addressed(message, bot_id=bot.id, bot_username=bot.username):
            return
        heard = hear(message, edited=update.edited_message is not None, bot_username=bot.username)
        if heard is None or self._album_answered(message, heard):
            return
        reply_to = message.message_id if chat.type in GROUP_CHATS else None
        if isinstance(heard, str):
            log.info("telegram update=%s chat=%s answered by the adapter (edit or forward)", update.update_id, chat.id)
            await self._send(update.update_id, chat.id, [escape(heard)], reply_to=reply_to)
            return
        incoming = self._incoming(user, chat, kind=heard.kind, text=heard.text, command=heard.command, media=heard.media)
        await self._converse(update.update_id, incoming, chat_id=chat.id, reply_to=reply_to)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None:
            return
        try:
            await query.answer()  # always, or the button keeps spinning
        except TelegramError as exc:  # e.g. the query is too old: the press is still handled
            log.info("telegram update=%s: could not answer the button press (%s)", update.update_id, type(exc).__name__)
        message = query.message
        if message is None or query.data is None or user is None:
            return
        chat = message.chat
        incoming = self._incoming(user, chat, kind=InputKind.ACTION, action=query.data)
        reply_to = message.message_id if chat.type in GROUP_CHATS else None
        await self._converse(update.update_id, incoming, chat_id=chat.id, reply_to=reply_to)
        if isinstance(message, Message):
            try:
                await query.edit_message_reply_markup(reply_markup=None)  # an answered question's buttons go
            except TelegramError as exc:
                log.info("telegram update=%s: old buttons left in place (%s)", update.update_id, type(exc).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (type and where, never the text) and never leave the parent hanging."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
        log.error("telegram update=%s failed: %s\n%s", update_id, type(error).__name__, where)
        if isinstance(update, Update) and update.effective_chat is not None and _owed_an_answer(update, context):
            try:
                async with self.sending:
                    await context.bot.send_message(chat_id=update.effective_chat.id, text=replies.APOLOGY)
                    await self.updates.finish(update.update_id)
            except TelegramError as exc:
                log.warning("telegram update=%s: apology not sent (%s)", update_id, type(exc).__name__)

    # -- the conversation --------------------------------------------------------------------

    def _incoming(self, user: User, chat: Chat, **fields: Any) -> Incoming:
        """Group turns keep the person's private chat as the place any later reply goes."""
        group = chat.type in GROUP_CHATS
        if fields.get("kind") is InputKind.COMMAND and fields.get("command") == "start" and self.settings.school:
            fields["text"] = ""  # one bot, one school: a deep link cannot switch it
        return Incoming(
            channel=CHANNEL, user_id=str(user.id), chat_id=str(user.id if group else chat.id),
            school_id=self.school_id, audience=Audience.PARENT, is_group=group, **fields,
        )  # fmt: skip

    async def _ask(self, incoming: Incoming) -> Reply:
        return await boundary.answer(self.engine.handle, incoming)

    async def _converse(self, update_id: int, incoming: Incoming, *, chat_id: int, reply_to: int | None) -> None:
        reply = await self._ask(incoming)
        markup: InlineKeyboardMarkup | None = keyboard(reply.buttons)
        if incoming.is_group and reply.visibility is Visibility.ASKER:
            # No private replies in a group: the engine left the details out; point to the private chat.
            markup = link_keyboard(self._private_link())
        await self._send(update_id, chat_id, render(reply), markup=markup, reply_to=reply_to)
        log.info(
            "telegram update=%s chat=%s kind=%s intent=%s urgent=%s group=%s",
            update_id, chat_id, incoming.kind.value, reply.intent, reply.urgent, incoming.is_group,
        )  # fmt: skip

    def _private_link(self) -> str:
        username = self.application.bot.username
        return f"https://t.me/{username}?start={self.school_id}" if self.school_id else f"https://t.me/{username}"

    def _album_answered(self, message: Message, heard: Heard | str) -> bool:
        """An album arrives as one message per picture: answer it once, and always its caption."""
        album = message.media_group_id
        if album is None or not isinstance(heard, Heard):
            return False
        seen = album in self._albums
        self._albums[album] = None
        while len(self._albums) > 512:
            self._albums.popitem(last=False)
        return seen and heard.kind is InputKind.UNSUPPORTED

    async def _send(
        self, update_id: int, chat_id: int, chunks: list[str], *, markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> None:
        """Send an answer and record its update done, in a turn at the one sending lock (see `sending`).

        The turn is given back while a refused try waits (back-off, Retry-After) and while a
        send hangs, so one parent's trouble does not hold up every other parent's answer.
        """
        async with SendingTurn(lock=self.sending, sleep=self.sleep, slow_after=self.slow_send) as turn:
            await delivery.send(self.application.bot, chat_id, chunks, turn=turn, markup=markup, reply_to=reply_to)
            await self.updates.finish(update_id)
