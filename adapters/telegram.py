"""Parents on Telegram: python-telegram-bot 22 in front of the core's one message model.

Updates become `Incoming`, the engine's `Reply` comes back as HTML (escaped text,
citations as a "📖 title" line and a quoted clause, buttons as an inline keyboard).
Long polling by default; webhook mode runs its own small aiohttp server that checks
Telegram's secret header on every request. A DeliveryLoop drains the "telegram"
outbox (office replies to parents). The core never imports Telegram.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import re
import traceback
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Awaitable, Protocol

from aiohttp import web
from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from chatbot.config import TelegramSettings
from chatbot.errors import ConfigError, RetryLater, Undeliverable, UserError
from chatbot.messages import Audience, Button, Incoming, InputKind, OutboxItem, Reply
from chatbot.outbox import DeliveryLoop
from chatbot.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
MESSAGE_LIMIT = 4096  # Telegram's cap, in UTF-16 code units after entity parsing
QUOTE_CHARS = 700  # a cited clause longer than this is shortened
CALLBACK_DATA_BYTES = 64
MAX_INLINE_WAIT = 30.0  # longest we hold a conversation to honour a 429 on a direct reply
MAX_WEBHOOK_BYTES = 1 << 20
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

APOLOGY = "Sorry, something went wrong on my side. Please try again."
GROUP_PRIVATE_TEXT = (
    "Concerns are private, so I don't collect them in a group chat. "
    "Please message me privately and I'll help you raise it with the school."
)
GROUP_URGENT_TEXT = "Please don't share any more details here in the group. You can message me privately."
PRIVATE_BUTTON_LABEL = "Message me privately"
COMMANDS = (
    BotCommand("start", "Start, or choose your school"),
    BotCommand("help", "What I can help with"),
    BotCommand("concerns", "Your concerns and their status"),
    BotCommand("privacy", "What I keep and why"),
    BotCommand("forget", "Delete what I hold about you"),
    BotCommand("cancel", "Stop the current question"),
)
# Checked in this order: an animation also carries a document, a venue a location.
MEDIA = (
    ("photo", "photo"), ("sticker", "sticker"), ("voice", "voice"), ("video", "video"),
    ("video_note", "video"), ("animation", "animation"), ("audio", "audio"), ("document", "document"),
    ("venue", "location"), ("location", "location"), ("contact", "contact"), ("poll", "poll"),
    ("dice", "dice"), ("story", "story"),
)  # fmt: skip

TelegramApp = Application[Any, ContextTypes.DEFAULT_TYPE, Any, Any, Any, Any]


class Handles(Protocol):
    """The one thing the adapter needs from the engine."""

    async def handle(self, incoming: Incoming) -> Reply: ...


# -- rendering: the core's Reply as Telegram HTML --------------------------------------


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _hard_cut(token: str, limit: int) -> list[str]:
    """Cut one overlong word into escaped pieces that each fit."""
    pieces, current = [], ""
    for ch in token:
        if _units(escape(current + ch)) > limit:
            pieces.append(escape(current))
            current = ""
        current += ch
    return pieces + [escape(current)] if current else pieces


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Escape plain text and cut it at word ends so every piece fits one message."""
    pieces: list[str] = []
    current, size = "", 0
    for token in re.findall(r"\S+\s*|\s+", text):
        cost = _units(escape(token))
        if size + cost <= limit:
            current, size = current + escape(token), size + cost
            continue
        if current.strip():
            pieces.append(current.rstrip())
        if cost <= limit:
            current, size = escape(token), cost
        else:
            *whole, current = _hard_cut(token, limit)
            pieces.extend(whole)
            size = _units(current)
    if current.strip():
        pieces.append(current.rstrip())
    return pieces or [escape(text.strip()) or "…"]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + " …"


def citation_html(title: str, quote: str) -> str:
    """A cited section: its title on a 📖 line, the clause quoted beneath it."""
    return f"📖 <b>{escape(title)}</b>\n<blockquote>{escape(_shorten(quote, QUOTE_CHARS))}</blockquote>"


def render(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as one or more HTML messages, each within Telegram's length limit."""
    blocks = split_text(reply.text, limit) + [citation_html(c.title, c.text) for c in reply.citations]
    messages: list[str] = []
    for block in blocks:
        if messages and _units(messages[-1]) + 2 + _units(block) <= limit:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button a row (labels can be long); a payload over Telegram's 64 bytes is left out."""
    rows = []
    for button in buttons:
        if len(button.action.encode()) > CALLBACK_DATA_BYTES:
            log.warning("telegram: button action over %d bytes left out (%s)", CALLBACK_DATA_BYTES, button.action[:20])
            continue
        rows.append([InlineKeyboardButton(button.label, callback_data=button.action)])
    return InlineKeyboardMarkup(rows) if rows else None


def link_keyboard(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(PRIVATE_BUTTON_LABEL, url=url)]])


# -- reading: what a Telegram message amounts to ----------------------------------------


@dataclass(frozen=True, kw_only=True)
class Heard:
    """A message as the engine will see it."""

    kind: InputKind
    text: str = ""
    command: str | None = None
    media: str | None = None


def _mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}\b", re.IGNORECASE)


def command_of(message: Message) -> tuple[str, str, str] | None:
    """(name, @target, arguments) when the text starts with a bot command."""
    entities = message.entities
    if not message.text or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    token = message.parse_entity(first)
    name, _, target = token[1:].partition("@")
    return name.lower(), target, message.text[len(token) :].strip()


def media_kind(message: Message) -> str | None:
    for attribute, media in MEDIA:
        if getattr(message, attribute, None):
            return media
    return None


def addressed(message: Message, *, bot_id: int, bot_username: str) -> bool:
    """In a group the bot speaks only when spoken to: a mention, a reply to it, a command."""
    if message.chat.type not in GROUP_CHATS:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    if _mention(bot_username).search(message.text or message.caption or ""):
        return True
    return command_of(message) is not None


def hear(message: Message, *, edited: bool, bot_username: str) -> Heard | str | None:
    """Something for the engine, a notice the adapter gives itself (str), or nothing (service messages)."""
    if edited or message.forward_origin is not None:
        # Not answered as a question, but still read by the safeguarding screen in the engine.
        return Heard(
            kind=InputKind.UNSUPPORTED, media="edited" if edited else "forwarded", text=message.text or message.caption or ""
        )
    if message.text is not None:
        command = command_of(message)
        if command is None:
            return Heard(kind=InputKind.TEXT, text=_mention(bot_username).sub("", message.text).strip())
        name, target, args = command
        if target and target.lower() != bot_username.lower():
            return None  # a command for another bot in the group
        return Heard(kind=InputKind.COMMAND, command=name, text=args)
    if message.caption:
        return Heard(kind=InputKind.TEXT, text=_mention(bot_username).sub("", message.caption).strip())
    media = media_kind(message)
    return Heard(kind=InputKind.UNSUPPORTED, media=media) if media else None


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time check; an empty expected secret matches nothing."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _private_intent(intent: str | None) -> bool:
    """Replies that belong in a private chat: concern intake and status, the office, forgetting."""
    return intent is not None and (intent.startswith("concern_") or intent in ("talk_to_person", "forget_me"))


def _owed_an_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A button press or a message meant for the bot: in a group, not every message is."""
    if update.callback_query is not None:
        return True
    message, bot = update.effective_message, context.bot
    return message is not None and addressed(message, bot_id=bot.id, bot_username=bot.username)


def _file_url(api_url: str) -> str:
    return api_url[: -len("bot")] + "file/bot" if api_url.endswith("/bot") else api_url.rstrip("/") + "/file/bot"


# -- ordering ----------------------------------------------------------------------------


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


# -- the adapter -----------------------------------------------------------------------------


class TelegramAdapter:
    """Runs the bot (polling or webhook) and its outbox delivery loop."""

    name = "telegram"
    channels = (CHANNEL,)

    def __init__(
        self,
        *,
        settings: TelegramSettings,
        runtime: Runtime,
        engine: Handles | None = None,
        concurrency: int = 8,
        delivery_idle_sleep: float = 0.5,
    ) -> None:
        """`engine` defaults to the runtime's; an unknown TELEGRAM_SCHOOL is refused here, not per message."""
        if settings.school and settings.school not in runtime.kb.schools:
            known = ", ".join(sorted(runtime.kb.schools))
            raise ConfigError(f"TELEGRAM_SCHOOL {settings.school!r} is not a school I know ({known}).")
        self.settings = settings
        self.engine: Handles = engine or runtime.engine
        self.store = runtime.store
        self.delivery = DeliveryLoop(
            outbox=runtime.outbox, channel=CHANNEL, deliver=self.deliver, idle_sleep=delivery_idle_sleep
        )
        self.application: TelegramApp = self._build(concurrency)
        self._albums: OrderedDict[str, None] = OrderedDict()
        self._stop_delivery = asyncio.Event()
        self._delivery_task: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None

    def _build(self, concurrency: int) -> TelegramApp:
        builder = (
            ApplicationBuilder()
            .token(self.settings.token)
            .base_url(self.settings.api_url)
            .base_file_url(self.settings.file_url or _file_url(self.settings.api_url))
            .concurrent_updates(PerUserOrder(concurrency))
        )
        if self.settings.mode == "webhook":
            builder = builder.updater(None)
        app: TelegramApp = builder.build()
        app.add_handler(TypeHandler(Update, self._once), group=-1)
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
        if self._webhook is None or not self._webhook.addresses:
            return None
        host, port = self._webhook.addresses[0][:2]
        return str(host), int(port)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, start taking updates and delivering the outbox; returns once running."""
        logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs every URL, and each holds the token
        try:
            await self.application.initialize()
            await self._set_commands()
            await self.application.start()
            if self.settings.mode == "webhook":
                await self._start_webhook()
            else:
                assert self.application.updater is not None
                await self.application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
        except BaseException:
            await self.stop()  # half-started: release the HTTP client and the server port
            raise
        self._stop_delivery.clear()
        self._delivery_task = asyncio.create_task(self.delivery.run(self._stop_delivery), name="telegram-delivery")
        log.info("telegram started mode=%s school=%s", self.settings.mode, self.school_id or "(chosen by parents)")

    async def stop(self) -> None:
        """Stop taking updates, finish those in hand, stop delivering, disconnect."""
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if self._delivery_task is not None:
            self._stop_delivery.set()
            await self._delivery_task
            self._delivery_task = None
        await self.application.shutdown()
        log.info("telegram stopped")

    async def _set_commands(self) -> None:
        try:
            await self.application.bot.set_my_commands(COMMANDS)
        except TelegramError as exc:  # only the clients' command menu depends on it
            log.warning("telegram: could not set the command menu (%s)", type(exc).__name__)

    # -- webhook ---------------------------------------------------------------------------

    async def _start_webhook(self) -> None:
        settings = self.settings
        if not settings.webhook_url or not settings.webhook_secret:
            raise ConfigError("telegram webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
        server = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        server.router.add_post(settings.webhook_path, self._on_webhook)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
        self._webhook = runner
        await self.application.bot.set_webhook(
            url=settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Telegram posts one update; only a request with our secret gets in."""
        if not secret_matches(request.headers.get(SECRET_HEADER), self.settings.webhook_secret or ""):
            log.warning("telegram webhook: refused a request without the right secret token")
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("telegram webhook: refused a body that is not an update")
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    # -- delivery (outbox) -------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        """Send an office reply to a parent; tells the DeliveryLoop whether to retry or give up."""
        chat_id, text = item.payload.get("chat_id"), item.payload.get("text")
        if item.kind != "message":
            raise Undeliverable(f"Telegram cannot deliver a {item.kind!r} item")
        if not chat_id or not isinstance(text, str) or not text.strip():
            raise Undeliverable("the item has no chat or no text")
        try:
            for chunk in split_text(text):
                await self.application.bot.send_message(
                    chat_id=chat_id, text=chunk, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                )
        except RetryAfter as exc:
            raise RetryLater("Telegram asked us to slow down", after=retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Undeliverable("the user has blocked the bot") from exc
        except ChatMigrated as exc:
            raise Undeliverable("the chat has moved") from exc
        except BadRequest as exc:
            raise Undeliverable("Telegram refused the message (chat not found?)") from exc
        except NetworkError as exc:  # TimedOut included
            raise RetryLater("network trouble reaching Telegram") from exc
        except TelegramError as exc:
            raise RetryLater(f"Telegram error {type(exc).__name__}") from exc

    # -- handlers ----------------------------------------------------------------------------

    async def _once(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram delivers at least once; each update id is handled at most once."""
        if not await self.store.first_time_seen(CHANNEL, str(update.update_id)):
            log.info("telegram update=%s seen before; skipped", update.update_id)
            raise ApplicationHandlerStop

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
            await self._send(chat.id, [escape(heard)], reply_to=reply_to)
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
                await context.bot.send_message(chat_id=update.effective_chat.id, text=APOLOGY)
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
        try:
            return await self.engine.handle(incoming)
        except UserError as err:
            return Reply(text=str(err))

    async def _converse(self, update_id: int, incoming: Incoming, *, chat_id: int, reply_to: int | None) -> None:
        reply = await self._ask(incoming)
        markup: InlineKeyboardMarkup | None = keyboard(reply.buttons)
        if incoming.is_group:
            reply, markup = await self._for_group(incoming, reply)
        await self._send(chat_id, render(reply), markup=markup, reply_to=reply_to)
        log.info(
            "telegram update=%s chat=%s kind=%s intent=%s urgent=%s group=%s",
            update_id, chat_id, incoming.kind.value, reply.intent, reply.urgent, incoming.is_group,
        )  # fmt: skip

    async def _for_group(self, incoming: Incoming, reply: Reply) -> tuple[Reply, InlineKeyboardMarkup | None]:
        """Policy answers as usual; concerns go private; urgent advice is given, details are not asked for."""
        link = link_keyboard(self._private_link())
        if reply.urgent:
            return replace(reply, text=f"{reply.text}\n\n{GROUP_URGENT_TEXT}", buttons=()), link
        if _private_intent(reply.intent):
            await self._ask(replace(incoming, kind=InputKind.COMMAND, command="cancel", text="", action=None))
            return Reply(text=GROUP_PRIVATE_TEXT, intent=reply.intent, confidence=reply.confidence), link
        return reply, keyboard(reply.buttons)

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
        self, chat_id: int, chunks: list[str], *, markup: InlineKeyboardMarkup | None = None, reply_to: int | None = None
    ) -> None:
        """Send a rendered reply; its buttons go with the last part."""
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await self._send_one(
                chat_id, chunk, markup=markup if last else None, reply_to=reply_to if index == 0 else None
            )
            if not sent:
                return

    async def _send_one(
        self, chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None, reply_to: int | None
    ) -> bool:
        """One message, waiting out one 429; False when the person has blocked the bot."""
        quote = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        for attempt in (1, 2):
            try:
                await self.application.bot.send_message(
                    chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
                    link_preview_options=NO_PREVIEW, reply_parameters=quote,
                )  # fmt: skip
                return True
            except RetryAfter as exc:
                if attempt == 2:
                    raise
                await asyncio.sleep(min(retry_seconds(exc), MAX_INLINE_WAIT))
            except Forbidden:
                log.info("telegram chat=%s has blocked the bot; reply dropped", chat_id)
                return False
        return False
