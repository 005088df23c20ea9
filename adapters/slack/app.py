"""Slack: one AsyncApp shared by two rooms, staff chat and the office workbench.

This module wires them: the Web API client, Bolt (Socket Mode, or HTTP with
signatures checked), the durable intake (every request stored before the ack;
what a crash left pending is handled first at start), the office directory, and
the outbox destinations the rooms drain ("slack" for staff chat, each school's
office for the workbench), which `chatbot serve` runs a delivery loop for.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import DeliveryTiming as DeliveryTiming  # tests and serve build it from here too
from adapters.slack.answers import DirectAnswers, Pacing
from adapters.slack.card_places import CardPlaces
from adapters.slack.directory import OfficeDirectory
from adapters.slack.intake import Intake
from adapters.slack.listening import Listeners
from adapters.slack.office import Desk, OfficeWorkbench
from adapters.slack.offices import offices_from, staff_school
from adapters.slack.settings import SlackSettings
from adapters.slack.staff_chat import CHANNEL, StaffChat
from chatbot.boundary import where
from chatbot.destinations import SLACK
from chatbot.errors import ConfigError, Undeliverable
from chatbot.messages import OutboxItem
from chatbot.outbox import is_office, office_for
from chatbot.runtime import Runtime

log = logging.getLogger(__name__)
TOKEN_CHECK_SECONDS = 10.0

BOLT_NAME = "adapters.slack.bolt"
EVENTS_PATH = "/slack/events"
STOP_GRACE = 5.0  # seconds stop() waits for listeners still running


class SlackAdapter:
    """Bolt listeners in, Block Kit out, and delivery for "slack" and each school's office."""

    name = "slack"

    def __init__(
        self, *, settings: SlackSettings, runtime: Runtime, http_port: int | None = None,
        timing: DeliveryTiming = DeliveryTiming(), pacing: Pacing = Pacing(),
    ) -> None:  # fmt: skip
        self.settings = settings
        self.runtime = runtime
        self.offices = offices_from(settings, sorted(runtime.kb.schools))
        self.school_id = staff_school(settings, self.offices, sorted(runtime.kb.schools))
        self.destinations = (SLACK, *(office_for(school) for school in sorted(self.offices)))
        self.http_port = http_port
        self.timing = timing
        self.sending = asyncio.Lock()  # serve's delivery loops share it: one card sent but not yet recorded at most
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        self.answers = DirectAnswers(token=settings.bot_token, api_url=settings.api_url, pacing=pacing)
        self.cards = CardPlaces(store=runtime.store)  # where each concern's card is: this adapter's own table
        desks = {
            school: Desk(office=office, directory=OfficeDirectory(client=self.client, channel=office.channel, users=office.users))
            for school, office in self.offices.items()
        }
        # Bolt names loggers after the app and resets their level: keep it out of the "chatbot" tree.
        self.app = AsyncApp(
            client=self.client, signing_secret=settings.signing_secret or "",
            name=BOLT_NAME, logger=logging.getLogger(BOLT_NAME), raise_error_for_unhandled_request=True,
        )  # fmt: skip
        self.app.error(self._on_error)
        self.staff_chat = StaffChat(
            client=self.client, answers=self.answers, engine=runtime.engine, school_id=self.school_id
        )
        self.workbench = OfficeWorkbench(
            client=self.client, answers=self.answers, concerns=runtime.concerns, calendars=runtime.engine.calendars,
            desks=desks, places=self.cards,
        )  # fmt: skip
        self.intake = Intake(inbox=runtime.inbox)
        self.app.middleware(self.intake)  # after Bolt's signature check, before any listener
        self._listeners = Listeners(finishes=self.intake)
        self.staff_chat.register(self.app, self._listeners.track)
        self.workbench.register(self.app, self._listeners)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._web_app: web.Application | None = None

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
        """Handle what the last run left pending, then start listening (Socket Mode, or HTTP on 127.0.0.1:PORT);
        returns once running."""
        mode = self._mode()
        await self.cards.open({school: office.channel for school, office in self.offices.items()})
        if mode == "socket":
            await self._check_tokens()  # Socket Mode itself would retry a dead token for ever, a traceback each time
        await self.intake.replay_pending(self.app)
        if mode == "http":
            await self._start_http(self.http_port or 0)
        else:
            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("slack adapter started mode=%s offices=%s", mode, ",".join(sorted(self.offices)))

    async def _on_error(self, error: Exception, context: AsyncBoltContext) -> None:
        """Bolt's errors outside our listeners (which log their own): a request nothing listens for is done."""
        if isinstance(error, BoltUnhandledRequestError):
            log.info("no slack listener for this request; answered 404")
            await self.intake.done(context)  # nothing will ever handle it: don't replay it at every start
            return
        log.error("slack request failed before a listener: %s at %s", type(error).__name__, where(error))

    async def _check_tokens(self) -> None:
        """One call per token before connecting: a refusal or no answer is one line, never the token."""
        app_client = AsyncWebClient(token=self.settings.app_token, base_url=self.settings.api_url)
        try:
            await asyncio.wait_for(self.client.auth_test(), timeout=TOKEN_CHECK_SECONDS)
            await asyncio.wait_for(app_client.apps_connections_open(app_token=self.settings.app_token or ""),
                                   timeout=TOKEN_CHECK_SECONDS)  # fmt: skip
        except SlackApiError as exc:  # the error code only (e.g. invalid_auth)
            code = exc.response.get("error") if exc.response is not None else None
            raise ConfigError(f"Slack refused the tokens ({code or 'error'}): check SLACK_BOT_TOKEN and SLACK_APP_TOKEN.") from None
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise ConfigError(f"Slack's API at {self.settings.api_url} is unreachable ({type(exc).__name__}).") from None

    async def _start_http(self, port: int) -> None:
        self._runner = web.AppRunner(self.web_app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        """Stop listening first, then let running listeners finish."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._listeners.drain(STOP_GRACE)
        log.info("slack adapter stopped")

    async def deliver(self, item: OutboxItem) -> None:
        """Deliver one outbox item through its room; raises RetryLater, Undeliverable or DeliveryError for the loop."""
        if is_office(item.channel):
            await self.workbench.deliver(item)
        elif item.channel == CHANNEL:
            await self.staff_chat.deliver(item)
        else:
            raise Undeliverable(f"the slack adapter does not deliver {item.channel!r} items")
