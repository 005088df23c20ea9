"""Slack: staff ask about the code of conduct, and the office runs the concern queue.

Staff reach the engine three ways (a direct message, an @mention answered in a
thread, and `/policy` answered ephemerally); each becomes one `Incoming` with
audience STAFF. The office queue lives in one channel: the "office" outbox
channel is drained into concern cards there, updated in place as the concern
moves, and the cards' buttons and modals call the ConcernQueue. Only office
staff may see or touch the queue, and concern text is only ever posted in the
office channel.

Slack wants an answer within three seconds, so every listener acknowledges
first and does slow work after; modal submissions are the exception, because
their errors must go back in the acknowledgement (the work is one quick write).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, ParamSpec

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import slack_blocks as kit
from chatbot.concerns import Concern
from chatbot.config import SlackSettings
from chatbot.errors import ConcernNotFound, ConfigError, DeliveryError, RetryLater, Undeliverable, UserError
from chatbot.messages import Audience, Incoming, InputKind, OutboxItem, Reply
from chatbot.outbox import DeliveryLoop
from chatbot.runtime import Runtime
from chatbot.store import utcnow

log = logging.getLogger(__name__)

CHANNEL = "slack"
BOLT_NAME = "adapters.slack.bolt"
OFFICE = "office"
EVENTS_PATH = "/slack/events"
COMMAND = "/policy"
COMMAND_WORDS = frozenset({"help", "start", "privacy", "concerns", "forget", "cancel"})
MEMBERS_TTL = 60.0  # seconds an office-channel membership list is trusted
LOOKUP_TIMEOUT = 2.0  # seconds for that list, inside Slack's 3-second acknowledgement
STOP_GRACE = 5.0  # seconds stop() waits for listeners still running
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."

# Slack errors that mean a message to this chat can never arrive.
DEAD_CHAT_ERRORS = frozenset({"channel_not_found", "not_in_channel", "account_inactive", "is_archived", "user_not_found"})
# chat.update errors after which the card is posted afresh.
LOST_CARD_ERRORS = frozenset({"message_not_found", "cant_update_message"})
SERVER_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")

P = ParamSpec("P")


@dataclass(frozen=True, kw_only=True)
class DeliveryTiming:
    """How the outbox loops pace themselves; tests shorten these."""

    base_delay: float = 1.0
    max_delay: float = 300.0
    idle_sleep: float = 0.5


# -- configuration ---------------------------------------------------------------------------


def resolve_school(settings: SlackSettings, schools: list[str]) -> str:
    """SLACK_SCHOOL, or the only school served; a workspace belongs to one school."""
    if settings.school:
        if settings.school not in schools:
            raise ConfigError(f"SLACK_SCHOOL {settings.school!r} is not a school I know: {', '.join(schools)}.")
        return settings.school
    if len(schools) == 1:
        return schools[0]
    raise ConfigError(f"Slack serves one school: set SLACK_SCHOOL to one of {', '.join(schools)}.")


def check_ids(settings: SlackSettings) -> None:
    """Channel and user ids, not names: chat.update and conversations.members only take ids."""
    if not settings.office_channel:
        raise ConfigError(
            "Slack needs SLACK_OFFICE_CHANNEL (the office channel's id, e.g. C0123ABCD) for the concern queue."
        )
    if not _CHANNEL_ID.fullmatch(settings.office_channel):
        raise ConfigError(
            f"SLACK_OFFICE_CHANNEL must be a channel id like C0123ABCD (see the channel's details), "
            f"not {settings.office_channel!r}."
        )
    lists = (("SLACK_OFFICE_USERS", settings.office_users), ("SLACK_SAFEGUARDING_LEADS", settings.safeguarding_leads))
    for name, users in lists:
        bad = [u for u in users if not _USER_ID.fullmatch(u)]
        if bad:
            raise ConfigError(f"{name} must list Slack user ids like U0123ABCD, not {', '.join(bad)}.")


# -- small helpers ---------------------------------------------------------------------------


def is_dm(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


def private_chat(channel_id: str | None, user_id: str) -> str:
    """Where later replies go: the DM if we are in one, else the person's DM (never a shared channel)."""
    return str(channel_id) if is_dm(channel_id) else user_id


def keeps_private(reply: Reply) -> bool:
    """Replies about concerns are shown only to the asker when asked in a shared channel."""
    intent = reply.intent or ""
    return reply.urgent or reply.concern_ref is not None or intent.startswith("concern_") or intent == "talk_to_person"


def message_content(event: dict[str, Any]) -> tuple[InputKind, str, str | None]:
    """(kind, text, media) for a message event; a file with no words is something we can't read."""
    text = kit.plain_text(str(event.get("text") or ""))
    if not text and event.get("files"):
        return InputKind.UNSUPPORTED, "", "document"
    return InputKind.TEXT, text, None


def command_content(text: str) -> tuple[InputKind, str, str | None]:
    """`/policy help` is the help command; `/policy` alone too; anything else is a question."""
    words = kit.plain_text(text)
    if not words:
        return InputKind.COMMAND, "", "help"
    if words.lower() in COMMAND_WORDS:
        return InputKind.COMMAND, "", words.lower()
    return InputKind.TEXT, words, None


def input_value(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return str(values.get(kit.TEXT_BLOCK, {}).get(kit.TEXT_INPUT, {}).get("value") or "")


def retry_after(err: SlackApiError) -> float | None:
    headers = getattr(err.response, "headers", None) or {}
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            with suppress(ValueError):
                return float(value)
    return None


def error_code(err: SlackApiError) -> str:
    data = getattr(err.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def delivery_error(err: SlackApiError, dead: frozenset[str]) -> DeliveryError:
    """Slack's answer as the delivery loop's vocabulary: wait, give up, or back off."""
    status, code = int(getattr(err.response, "status_code", 0) or 0), error_code(err)
    if status == 429 or code == "ratelimited":
        return RetryLater("slack ratelimited", after=retry_after(err))
    if status >= 500 or code in SERVER_ERRORS:
        return RetryLater(f"slack unavailable (HTTP {status} {code})".strip())
    if code in dead:
        return Undeliverable(f"slack: {code}")
    return DeliveryError(f"slack error: {code or status}")


@asynccontextmanager
async def slack_errors(dead: frozenset[str] = frozenset()) -> AsyncIterator[None]:
    """Map Web API and connection failures raised inside the block to DeliveryError subclasses."""
    try:
        yield
    except SlackApiError as err:
        raise delivery_error(err, dead) from err
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
        raise RetryLater(f"slack unreachable ({type(err).__name__})") from err


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame, so a failure can be found without logging its message."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


# -- who is office staff --------------------------------------------------------------------


class OfficeDirectory:
    """Office staff: members of the office channel (cached briefly) plus SLACK_OFFICE_USERS.

    The check runs before a modal's acknowledgement, so the lookup is bounded; if
    Slack can't say, the last known list stands (or only the configured users).
    """

    def __init__(
        self, *, client: AsyncWebClient, channel: str, users: tuple[str, ...],
        ttl: float = MEMBERS_TTL, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.client = client
        self.channel = channel
        self.users = frozenset(users)
        self.ttl = ttl
        self.clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    async def is_office(self, user_id: str) -> bool:
        if user_id in self.users:
            return True
        return user_id in await self.members()

    async def members(self) -> frozenset[str]:
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at > self.ttl:
            try:
                async with asyncio.timeout(LOOKUP_TIMEOUT):
                    self._members = await self._fetch()
                self._fetched_at = now
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as err:
                log.warning("could not list the office channel's members (%s); using the last known list",
                            type(err).__name__)  # fmt: skip
        return self._members

    async def _fetch(self) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.client.conversations_members(channel=self.channel, cursor=cursor, limit=200)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)


# -- the adapter ----------------------------------------------------------------------------


class SlackAdapter:
    """Bolt listeners in, Block Kit out, and the delivery loops for "slack" and "office"."""

    name = "slack"
    channels = (CHANNEL, OFFICE)

    def __init__(
        self, *, settings: SlackSettings, runtime: Runtime, http_port: int | None = None,
        timing: DeliveryTiming = DeliveryTiming(),
    ) -> None:  # fmt: skip
        check_ids(settings)
        self.settings = settings
        self.runtime = runtime
        self.school_id = resolve_school(settings, sorted(runtime.kb.schools))
        self.http_port = http_port
        self.timing = timing
        self.office_channel: str = settings.office_channel or ""
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        self.office = OfficeDirectory(client=self.client, channel=self.office_channel, users=settings.office_users)
        # Bolt names loggers after the app and resets their level: keep it out of the "chatbot" tree.
        self.app = AsyncApp(
            client=self.client, signing_secret=settings.signing_secret or "",
            name=BOLT_NAME, logger=logging.getLogger(BOLT_NAME),
        )  # fmt: skip
        self._inflight: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._web_app: web.Application | None = None
        self._register()

    # -- lifecycle -----------------------------------------------------------------------

    def web_app(self) -> web.Application:
        """The aiohttp app for HTTP mode (POST /slack/events, signatures checked by Bolt)."""
        if self._web_app is None:
            self._web_app = self.app.web_app(path=EVENTS_PATH)
        return self._web_app

    def _mode(self) -> str:
        if self.http_port is not None:
            if not self.settings.signing_secret:
                raise ConfigError("Slack HTTP mode needs SLACK_SIGNING_SECRET to check that requests come from Slack.")
            return "http"
        if self.settings.app_token:
            return "socket"
        raise ConfigError("Slack needs SLACK_APP_TOKEN (Socket Mode) or an HTTP port (--slack-http PORT).")

    async def start(self) -> None:
        """Start the delivery loops and the listener (Socket Mode, or HTTP on 127.0.0.1:PORT); returns once running."""
        mode = self._mode()
        if mode == "http":
            await self._start_http(self.http_port or 0)
        else:
            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        self._stop.clear()
        for channel in self.channels:
            loop = DeliveryLoop(
                outbox=self.runtime.outbox, channel=channel, deliver=self.deliver,
                base_delay=self.timing.base_delay, max_delay=self.timing.max_delay, idle_sleep=self.timing.idle_sleep,
            )  # fmt: skip
            self._loops.append(asyncio.create_task(loop.run(self._stop), name=f"slack-outbox-{channel}"))
        log.info("slack adapter started mode=%s school=%s", mode, self.school_id)

    async def _start_http(self, port: int) -> None:
        self._runner = web.AppRunner(self.web_app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        """Stop listening first, let running listeners finish, then stop the loops."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=STOP_GRACE)
        self._stop.set()
        if self._loops:
            await asyncio.gather(*self._loops, return_exceptions=True)
            self._loops.clear()
        log.info("slack adapter stopped")

    # -- registration --------------------------------------------------------------------

    def _tracked(self, fn: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        """Run a listener so stop() can wait for it and a failure is logged without its text."""

        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await fn(*args, **kwargs)
            except Exception as exc:
                log.error("slack listener %s failed: %s at %s", fn.__name__, type(exc).__name__, _where(exc))
            finally:
                if task is not None:
                    self._inflight.discard(task)

        return run

    def _register(self) -> None:
        app, t = self.app, self._tracked
        app.event("message")(t(self._on_message))
        app.event("app_mention")(t(self._on_mention))
        app.event("app_home_opened")(t(self._on_home))
        app.command(COMMAND)(t(self._on_command))
        app.action(re.compile(f"^{kit.CHOICE_PREFIX}\\d+$"))(t(self._on_choice))
        app.action(kit.CLAIM)(t(self._office_only(self._claim)))
        app.action(kit.RESOLVE)(t(self._office_only(self._resolve)))
        app.action(kit.REPLY)(t(self._office_only(self._open_reply)))
        app.action(kit.NOTE)(t(self._office_only(self._open_note)))
        app.view(kit.REPLY_VIEW)(t(self._on_reply_submit))
        app.view(kit.NOTE_VIEW)(t(self._on_note_submit))

    # -- staff questions ------------------------------------------------------------------

    def _incoming(
        self, *, user_id: str, chat_id: str, content: tuple[InputKind, str, str | None], is_group: bool
    ) -> Incoming:
        kind, text, extra = content
        return Incoming(
            channel=CHANNEL, user_id=user_id, chat_id=chat_id, school_id=self.school_id, audience=Audience.STAFF,
            kind=kind, text=text, is_group=is_group,
            command=extra if kind is InputKind.COMMAND else None,
            media=extra if kind is InputKind.UNSUPPORTED else None,
        )  # fmt: skip

    async def _answer(self, incoming: Incoming) -> Reply:
        try:
            return await self.runtime.engine.handle(incoming)
        except UserError as err:
            return Reply(text=str(err))
        except Exception as exc:
            log.error("engine failed on a slack %s: %s at %s", incoming.kind.value, type(exc).__name__, _where(exc))
            return Reply(text=SORRY)

    async def _first_time(self, body: dict[str, Any]) -> bool:
        """Slack redelivers events it thinks we missed (X-Slack-Retry-Num): handle each event_id once."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        if await self.runtime.store.first_time_seen(CHANNEL, str(event_id)):
            return True
        log.info("slack event redelivered; already handled")
        return False

    async def _post(self, *, channel: str, user: str, thread_ts: str | None, reply: Reply) -> None:
        """In a DM, post; in a shared channel, post in the thread unless the reply is about a concern."""
        text, blocks = kit.reply_text(reply), kit.reply_blocks(reply)
        if is_dm(channel) or not keeps_private(reply):
            await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts)
        else:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") not in (None, "file_share") or not await self._first_time(body):
            return
        user, channel = str(event["user"]), str(event["channel"])
        incoming = self._incoming(user_id=user, chat_id=channel, content=message_content(event), is_group=False)
        reply = await self._answer(incoming)
        await self._post(channel=channel, user=user, thread_ts=event.get("thread_ts"), reply=reply)

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("bot_id") or not event.get("user") or is_dm(event.get("channel")):
            return
        if not await self._first_time(body):
            return
        user, channel = str(event["user"]), str(event["channel"])
        incoming = self._incoming(
            user_id=user, chat_id=private_chat(channel, user), content=message_content(event), is_group=True
        )
        reply = await self._answer(incoming)
        await self._post(channel=channel, user=user, thread_ts=event.get("thread_ts") or event.get("ts"), reply=reply)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user, channel = str(body["user_id"]), body.get("channel_id")
        incoming = self._incoming(
            user_id=user, chat_id=private_chat(channel, user), content=command_content(str(body.get("text") or "")),
            is_group=not is_dm(channel),
        )  # fmt: skip
        reply = await self._answer(incoming)
        await respond(text=kit.reply_text(reply), blocks=kit.reply_blocks(reply), response_type="ephemeral")

    async def _on_choice(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        """A button on one of our answers: back to the engine as an ACTION, answered where it was pressed."""
        await ack()
        user = str(body["user"]["id"])
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        incoming = Incoming(
            channel=CHANNEL, user_id=user, chat_id=private_chat(channel, user), school_id=self.school_id,
            audience=Audience.STAFF, kind=InputKind.ACTION, action=str(action.get("value") or ""),
            is_group=not is_dm(channel),
        )  # fmt: skip
        reply = await self._answer(incoming)
        if container.get("is_ephemeral") or not channel or "message" not in body:
            await respond(
                text=kit.reply_text(reply), blocks=kit.reply_blocks(reply), response_type="ephemeral", replace_original=False
            )
            return
        await self._post(channel=str(channel), user=user, thread_ts=body["message"].get("thread_ts"), reply=reply)

    # -- the office queue: buttons and modals -------------------------------------------------

    async def _tell(self, body: dict[str, Any], respond: AsyncRespond, text: str) -> None:
        """A private note to whoever pressed the button (refusals, conflicts)."""
        user = str(body["user"]["id"])
        channel = (body.get("channel") or {}).get("id")
        if body.get("response_url"):
            await respond(text=kit.escape_keeping_mentions(text), response_type="ephemeral", replace_original=False)
        elif channel:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=kit.escape_keeping_mentions(text))

    def _office_only(
        self, fn: Callable[[dict[str, Any], str, str, AsyncRespond], Awaitable[None]]
    ) -> Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncRespond], Awaitable[None]]:
        """Ack, then refuse anyone who isn't office staff before `fn(body, ref, actor, respond)` runs."""

        async def queue_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            user = str(body["user"]["id"])
            if not await self.office.is_office(user):
                log.info("refused a queue action from someone who isn't office staff")
                await self._tell(body, respond, kit.REFUSAL)
                return
            try:
                await fn(body, str(action.get("value") or ""), kit.mention(user), respond)
            except UserError as err:
                await self._tell(body, respond, str(err))

        queue_action.__name__ = fn.__name__
        return queue_action

    async def _claim(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        await self.runtime.concerns.claim(ref, by=actor)  # the card is updated through the outbox

    async def _resolve(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        await self.runtime.concerns.resolve(ref, by=actor)

    async def _open_reply(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        concern = await self.runtime.concerns.get(ref)
        await self.client.views_open(trigger_id=body["trigger_id"], view=kit.reply_modal(concern))

    async def _open_note(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        concern = await self.runtime.concerns.get(ref)
        await self.client.views_open(trigger_id=body["trigger_id"], view=kit.note_modal(concern))

    async def _submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
        change: Callable[[str, str, str], Awaitable[Concern]],
    ) -> None:  # fmt: skip
        """Do the (quick) write before acking, so a refusal or conflict shows in the modal itself."""
        user = str(body["user"]["id"])
        if not await self.office.is_office(user):
            log.info("refused a queue modal from someone who isn't office staff")
            await ack(response_action="errors", errors={kit.TEXT_BLOCK: kit.REFUSAL})
            return
        try:
            await change(str(view.get("private_metadata") or ""), kit.mention(user), input_value(view))
        except UserError as err:
            await ack(response_action="errors", errors={kit.TEXT_BLOCK: str(err)})
            return
        await ack()

    async def _on_reply_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit(ack, body, view, lambda ref, by, text: self.runtime.concerns.reply(ref, by=by, text=text))

    async def _on_note_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit(ack, body, view, lambda ref, by, text: self.runtime.concerns.note(ref, by=by, text=text))

    # -- the App Home ------------------------------------------------------------------------

    def _due(self, concern: Concern) -> tuple[str, bool]:
        words = self.runtime.engine.calendars(concern.school_id).describe_due(concern.due_at)
        return words, concern.is_overdue(utcnow())

    async def _home_lists(self, user: str) -> kit.HomeLists:
        active = await self.runtime.concerns.list(status=["open", "claimed", "replied"], school_id=self.school_id)
        overdue = await self.runtime.concerns.list(overdue=True, school_id=self.school_id)
        mine = [c for c in active if c.claimed_by == kit.mention(user)]
        unclaimed = [c for c in active if c.claimed_by is None]
        return kit.HomeLists(mine=mine, unclaimed=unclaimed, overdue=overdue)

    async def _on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        user = str(event["user"])
        if await self.office.is_office(user):
            view = kit.office_home(await self._home_lists(user), describe=self._due, updated=utcnow())
        else:
            view = kit.staff_home()
        await self.client.views_publish(user_id=user, view=view)

    # -- delivery (outbox) ---------------------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        """Deliver one outbox item; raises RetryLater, Undeliverable or DeliveryError for the loop."""
        if item.channel == OFFICE:
            await self._deliver_office(item)
        elif item.channel == CHANNEL:
            await self._deliver_chat(item)
        else:
            raise Undeliverable(f"the slack adapter does not deliver {item.channel!r} items")

    async def _deliver_chat(self, item: OutboxItem) -> None:
        """An office reply to a member of staff who raised a concern on Slack."""
        chat_id, text = item.payload.get("chat_id"), item.payload.get("text")
        if item.kind != "message" or not chat_id or not isinstance(text, str):
            raise Undeliverable(f"cannot deliver a {item.kind!r} item without a chat and text")
        async with slack_errors(DEAD_CHAT_ERRORS):
            await self.client.chat_postMessage(channel=str(chat_id), text=kit.escape(text), unfurl_links=False)

    async def _deliver_office(self, item: OutboxItem) -> None:
        ref = item.payload.get("ref")
        if item.kind == "undeliverable":
            await self._post_undeliverable(item.payload)
            return
        if item.kind == "concern_removed":
            await self._blank_card(item.payload)
            return
        if item.kind not in ("concern_opened", "concern_updated", "concern_overdue") or not ref:
            log.warning("office item %s of kind %s ignored", item.id, item.kind)
            return
        try:
            concern = await self.runtime.concerns.get(str(ref))
        except ConcernNotFound:
            log.info("office item %s: concern %s no longer exists", item.id, ref)
            return
        ts = await self._show(concern)
        if item.kind == "concern_overdue":
            async with slack_errors():
                text = kit.overdue_text(concern, self._due(concern)[0])
                await self.client.chat_postMessage(channel=self.office_channel, text=text, thread_ts=ts)

    def _card(self, concern: Concern) -> tuple[str, list[kit.Block]]:
        words, overdue = self._due(concern)
        return kit.concern_card(
            kit.Card(concern=concern, due_words=words, overdue=overdue, leads=self.settings.safeguarding_leads)
        )

    async def _show(self, concern: Concern) -> str:
        """Update the concern's card in place, or post it (once) and remember where; returns its ts."""
        text, blocks = self._card(concern)
        if concern.office_post_ref:
            try:
                async with slack_errors():
                    await self.client.chat_update(
                        channel=self.office_channel, ts=concern.office_post_ref, text=text, blocks=blocks
                    )
                return concern.office_post_ref
            except DeliveryError as err:
                if error_code_of(err) not in LOST_CARD_ERRORS:
                    raise
                log.warning("office card for %s is gone; posting it again", concern.ref)
        async with slack_errors():
            posted = await self.client.chat_postMessage(
                channel=self.office_channel, text=text, blocks=blocks, unfurl_links=False
            )
        ts = str(posted["ts"])
        await self.runtime.concerns.set_office_post_ref(concern.ref, ts)
        return ts

    async def _blank_card(self, payload: dict[str, Any]) -> None:
        """A concern was deleted (purged, or forgotten at the parent's request): its card keeps no text."""
        ts = payload.get("office_post_ref")
        if not ts:
            return
        text = f"{payload.get('ref', 'A concern')} has been deleted (retention or at the person's request)."
        try:
            async with slack_errors():
                await self.client.chat_update(channel=self.office_channel, ts=str(ts), text=text, blocks=[])
        except DeliveryError as err:
            if error_code_of(err) not in LOST_CARD_ERRORS:
                raise

    async def _post_undeliverable(self, payload: dict[str, Any]) -> None:
        ref, thread = payload.get("ref"), None
        audience: str | None = None
        if ref:
            with suppress(ConcernNotFound):
                concern = await self.runtime.concerns.get(str(ref))
                thread, audience = concern.office_post_ref, concern.audience
        channel = str(payload.get("channel") or "?")
        text = kit.undeliverable_text(ref=str(ref) if ref else None, channel=channel, audience=audience)
        async with slack_errors():
            await self.client.chat_postMessage(
                channel=self.office_channel, text=text, thread_ts=thread, reply_broadcast=thread is not None
            )


def error_code_of(err: DeliveryError) -> str:
    """The Slack error code behind a mapped DeliveryError, if it came from the Web API."""
    cause = err.__cause__
    return error_code(cause) if isinstance(cause, SlackApiError) else ""


__all__ = ["SlackAdapter", "DeliveryTiming", "OfficeDirectory", "resolve_school"]
