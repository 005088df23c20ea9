"""A fake Slack on 127.0.0.1, for the real slack-bolt and slack-sdk over real HTTP.

It is three things a Slack app talks to: the Web API (any verb on /api/{method},
form or JSON bodies, answering like Slack and recording what succeeded), the
response_url endpoint that `respond()` posts to, and a Socket Mode WebSocket
(apps.connections.open hands out its ws:// URL). Failures are scriptable: 500s
for the next N calls, 429 ratelimited with Retry-After, a Slack error code for
calls that name a given channel, or a call left unanswered until the caller gives
up (a timeout); response_url posts (method "response_url") follow the same rules. It also signs requests to the bot's HTTP
endpoint the way Slack does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT0001"
TEAM = "T0SCHOOL"
JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
RESPONSE_URL = "response_url"  # the method name rules use for posts to a response_url
STALL_SECONDS = 30.0
SECTION_CHARS, FIELD_CHARS, MESSAGE_CHARS = 3000, 2000, 40_000  # Slack's limits on a section, a field, a message


@dataclass
class Call:
    """One Web API call the bot made, with its parameters decoded."""

    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def channel(self) -> str | None:
        value = self.params.get("channel")
        return None if value is None else str(value)

    def dump(self) -> str:
        """Everything the call carried, as one string (to check what leaked)."""
        return json.dumps(self.params, ensure_ascii=False, sort_keys=True)

    def elements(self) -> list[dict[str, Any]]:
        """Every interactive element (buttons) in the call's blocks or view."""
        blocks = self.params.get("blocks") or (self.params.get("view") or {}).get("blocks") or []
        return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


@dataclass
class Rule:
    """A scripted failure: applies to matching calls while `times` lasts (None: for ever)."""

    status: int
    error: str
    method: str | None = None
    channel: str | None = None
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    html: bool = False
    stall: bool = False  # no answer until the fake closes: the caller times out

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.channel is None or str(params.get("channel")) == self.channel


class FakeSlack:
    """The fake: start() it, point AsyncWebClient(base_url=api_url) at it, read `calls`."""

    def __init__(self, *, bot_user: str = BOT_USER, team: str = TEAM) -> None:
        self.bot_user = bot_user
        self.team = team
        self.calls: list[Call] = []  # answered ok
        self.attempts: list[Call] = []  # everything, failures included
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.members: dict[str, list[str]] = {}
        self.rules: list[Rule] = []
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._server = TestServer(self._app(), host="127.0.0.1")

    # -- lifecycle -----------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_get("/socket", self._socket)
        return app

    async def start(self) -> None:
        await self._server.start_server()

    async def close(self) -> None:
        self._closing.set()
        for ws in list(self._sockets):
            await ws.close()
        await self._server.close()

    @property
    def url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"  # the trailing slash matters to slack-sdk

    def response_url(self, hook: str = "hook") -> str:
        return f"{self.url}/respond/{hook}"

    # -- scripting -------------------------------------------------------------

    def fail(self, times: int, *, status: int = 500, method: str | None = None) -> None:
        """The next `times` matching calls get an HTML error page, as Slack's front end gives."""
        self.rules.append(Rule(status=status, error="fatal_error", method=method, times=times, html=True))

    def ratelimit(self, *, retry_after: int, times: int = 1, method: str | None = None) -> None:
        self.rules.append(
            Rule(status=429, error="ratelimited", method=method, times=times, headers={"Retry-After": str(retry_after)})
        )

    def stall(self, *, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` get no answer at all (until the fake closes): the caller times out.

        The call never takes effect, as when a request is lost on the way to Slack.
        """
        self.rules.append(Rule(status=504, error="timeout", method=method, times=times, stall=True))

    def error(self, code: str, *, channel: str | None = None, method: str | None = None, times: int | None = None) -> None:
        """Answer ok=false with `code` (e.g. is_archived for one channel), 200 like Slack."""
        self.rules.append(Rule(status=200, error=code, method=method, channel=channel, times=times))

    # -- reading -----------------------------------------------------------------

    def called(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    async def wait_for(
        self, method: str, *, count: int = 1, where: Callable[[Call], bool] | None = None, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until `count` successful calls of `method` (matching `where`) have arrived."""
        await self._wait(lambda: len(self.called(method, where)) >= count, timeout, f"{count} x {method}")
        return self.called(method, where)

    async def wait_for_attempts(self, method: str, count: int, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` has been tried `count` times, failures included."""
        def tried() -> list[Call]:
            return [c for c in self.attempts if c.method == method]

        await self._wait(lambda: len(tried()) >= count, timeout, f"{count} attempts at {method}")
        return tried()

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self._wait(lambda: len(self.responses) >= count, timeout, f"{count} response_url posts")
        return self.responses

    async def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                seen = [c.method for c in self.attempts]
                raise AssertionError(f"timed out waiting for {what}; calls so far: {seen}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.1))
            except asyncio.TimeoutError:
                pass

    # -- the Web API -----------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for name in JSON_FIELDS:
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        rule = next((r for r in self.rules if r.matches(method, params)), None)
        if rule is not None:
            return await self._failure(method, params, rule)
        status, body = self._answer(method, params)
        call = Call(method=method, params=params, status=status, ok=bool(body.get("ok")), answer=body)
        self.attempts.append(call)
        if call.ok:
            self.calls.append(call)
        self._changed.set()
        return web.json_response(body, status=status)

    async def _failure(self, method: str, params: dict[str, Any], rule: Rule) -> web.Response:
        if rule.times is not None:
            rule.times -= 1
        self.attempts.append(Call(method=method, params=params, status=rule.status, ok=False))
        self._changed.set()
        if rule.stall:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=STALL_SECONDS)
        if rule.html:
            return web.Response(status=rule.status, text="<html>Slack is having trouble</html>", content_type="text/html")
        return web.json_response({"ok": False, "error": rule.error}, status=rule.status, headers=rule.headers)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral") and (refusal := refused(params)):
            return 200, {"ok": False, "error": refusal}
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://school.slack.com/", "team": "School", "user": "policybot",
                         "team_id": self.team, "user_id": self.bot_user, "bot_id": "B0BOT0001"}  # fmt: skip
        if method == "chat.postMessage":
            ts = self._next_ts()
            return 200, {"ok": True, "channel": params.get("channel"), "ts": ts,
                         "message": {"text": params.get("text"), "ts": ts, "bot_id": "B0BOT0001"}}  # fmt: skip
        if method == "chat.update":
            return 200, {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.publish", "views.update"):
            return 200, {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(params.get("view") or {})}}
        if method == "conversations.members":
            members = self.members.get(str(params.get("channel")))
            if members is None:
                return 200, {"ok": False, "error": "channel_not_found"}
            return 200, {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": f"{self.url.replace('http://', 'ws://')}/socket"}
        return 200, {"ok": False, "error": "unknown_method"}

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_hook"] = request.match_info["hook"]
        rule = next((r for r in self.rules if r.matches(RESPONSE_URL, body)), None)
        if rule is not None:
            return await self._failure(RESPONSE_URL, body, rule)
        self.responses.append(body)
        self._changed.set()
        return web.Response(text="ok")

    # -- Socket Mode ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        self._changed.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(msg.data))
                self._changed.set()
        self._sockets.remove(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        await self._wait(lambda: bool(self._sockets), timeout, "a Socket Mode connection")

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Push one Socket Mode envelope (events_api, slash_commands, interactive) to the app."""
        envelope = {
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }  # fmt: skip
        await self._sockets[-1].send_json(envelope)

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def acked() -> bool:
            return any(a.get("envelope_id") == envelope_id for a in self.socket_acks)

        await self._wait(acked, timeout, f"the ack of {envelope_id}")
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)


def refused(params: dict[str, Any]) -> str | None:
    """Slack's own limits on a message: a text object over its limit is invalid_blocks, a huge text msg_too_long."""
    if len(str(params.get("text") or "")) > MESSAGE_CHARS:
        return "msg_too_long"
    blocks = params.get("blocks") or []
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text") or ""
        if len(text) > (150 if block.get("type") == "header" else SECTION_CHARS):
            return "invalid_blocks"
        if any(len(field.get("text") or "") > FIELD_CHARS for field in block.get("fields") or []):
            return "invalid_blocks"
    return None


# -- requests from "Slack" to the bot's HTTP endpoint -------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A request body and the headers Slack would send with it."""

    body: str
    headers: dict[str, str]


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, content_type: str) -> Signed:
    """Sign for real, as Slack does (v0=HMAC-SHA256 of "v0:{ts}:{body}")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    return Signed(body=body, headers=headers)


def event_body(event: dict[str, Any], *, event_id: str, team: str = TEAM) -> str:
    return json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": "A0APP", "type": "event_callback",
        "event": event, "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
    })  # fmt: skip


def command_body(*, user: str, channel: str, text: str, response_url: str, command: str = "/policy") -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "school", "channel_id": channel, "channel_name": "x",
        "user_id": user, "user_name": "someone", "command": command, "text": text,
        "response_url": response_url, "trigger_id": "13345224609.738474920.8088930838d88f008e0", "api_app_id": "A0APP",
    })  # fmt: skip


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


_press_counter = itertools.count(1)


def _action_ts() -> str:
    return f"{int(time.time())}.{next(_press_counter):06d}"


def block_action(
    *, user: str, action_id: str, value: str, channel: str, message_ts: str, response_url: str,
    trigger_id: str = "trigger-1", ephemeral: bool = False, thread_ts: str | None = None, action_ts: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A button press; like Slack, every press has its own action_ts unless one is given."""
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "..."}
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user, "username": "someone", "team_id": TEAM},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": trigger_id, "team": {"id": TEAM, "domain": "school"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "channel": {"id": channel, "name": "x"}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": action_ts or _action_ts()}],
    }  # fmt: skip
    if not ephemeral:
        payload["message"] = message
    return payload


def view_submission(*, user: str, view: dict[str, Any], values: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What Slack sends when the modal `view` (as the bot opened it) is submitted with `values`."""
    state = {block: {action: {"type": "plain_text_input", "value": v} for action, v in inputs.items()}
             for block, inputs in values.items()}  # fmt: skip
    submitted = {**view, "id": "V0MODAL", "team_id": TEAM, "state": {"values": state}, "hash": "1.abc"}
    return {
        "type": "view_submission", "team": {"id": TEAM, "domain": "school"},
        "user": {"id": user, "username": "someone", "team_id": TEAM}, "api_app_id": "A0APP", "token": "legacy",
        "trigger_id": "trigger-2", "view": submitted, "response_urls": [],
    }  # fmt: skip
