"""A fake Telegram Bot API on 127.0.0.1, for the real python-telegram-bot over real HTTP.

It serves updates through getUpdates with Telegram's offset rule (an update is
served again until an offset past it is requested), answers the bootstrap
methods, records every call (form values as strings, reply_markup decoded from its
JSON) and can fail scripted calls (429 with retry_after, 403 blocked). Unknown
methods get 400, as the notes advise: 401/404 would make PTB stop polling.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "policy_test_bot"

_message_ids = itertools.count(1000)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    status: int
    at: float  # time.monotonic() when it arrived
    result: Any = None

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, flattened."""
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    @property
    def actions(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass
class Failure:
    """A scripted error for calls to `method` (to `chat_id` if given); `times=None` means always."""

    method: str
    chat_id: str | None
    error_code: int
    description: str
    retry_after: int | None = None
    times: int | None = 1


@dataclass
class FakeTelegramAPI:
    token: str = TOKEN
    bot_id: int = BOT_ID
    username: str = BOT_USERNAME
    calls: list[Call] = field(default_factory=list)
    available_at: dict[int, float] = field(default_factory=dict)  # update_id -> when it was pushed
    webhook: dict[str, Any] = field(default_factory=dict)
    latency: float = 0.0  # seconds added to every answer but getUpdates, like a real network round trip
    on_send: Callable[[Call], None] | None = None  # called as each sendMessage arrives, before it is answered

    def __post_init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._failures: list[Failure] = []
        self._hangs: dict[str, asyncio.Event] = {}
        self._next_update_id = 1
        self._arrived = asyncio.Event()
        self._closing = asyncio.Event()
        self._server: TestServer | None = None

    # -- server ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(access_log=None)  # its lines would hold the token

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            await self._server.close()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/bot"

    # -- scripting ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Make an update available to getUpdates; an update without an id gets the next one."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self._pending.append(update)
        self.available_at.setdefault(update["update_id"], time.monotonic())
        self._arrived.set()
        return int(update["update_id"])

    @property
    def unconfirmed(self) -> int:
        """Updates Telegram would still hand out (not yet confirmed by a later getUpdates offset)."""
        return len(self._pending)

    def fail(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        self._failures.append(
            Failure(method, None if chat_id is None else str(chat_id), error_code, description, retry_after, times)
        )

    def rate_limit_next(self, chat_id: int | str, *, retry_after: int = 1) -> None:
        self.fail("sendMessage", chat_id=chat_id, error_code=429,
                  description=f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)  # fmt: skip

    def hang(self, chat_id: int | str) -> asyncio.Event:
        """The next sendMessage to this chat hangs until the returned event is set; then it is delivered."""
        gate = self._hangs[str(chat_id)] = asyncio.Event()
        return gate

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: every message to them is refused from now on."""
        self.fail("sendMessage", chat_id=chat_id, error_code=403,
                  description="Forbidden: bot was blocked by the user", times=None)  # fmt: skip

    # -- reading the record --------------------------------------------------------------------

    def called(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or (c.status == 200) is ok)]

    def sent(self, chat_id: int | str | None = None, *, ok: bool | None = True) -> list[Call]:
        """sendMessage calls (successful ones by default), to one chat if given."""
        return [c for c in self.called("sendMessage", ok=ok) if chat_id is None or c.chat_id == str(chat_id)]

    async def wait_for(self, condition: Callable[[], Any], *, timeout: float = 5.0, what: str = "") -> Any:
        """Poll `condition` until it is truthy; fail with the recorded calls after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                seen = "\n".join(f"  {c.method} {c.status} {c.chat_id} {c.text[:80]!r}" for c in self.calls[-15:])
                raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}; last calls:\n{seen}")
            await asyncio.sleep(0.01)

    async def wait_sent(self, chat_id: int | str, count: int = 1, *, timeout: float = 5.0) -> list[Call]:
        """Wait until `count` messages reached the chat; returns all of them."""
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout=timeout,
                            what=f"{count} message(s) to chat {chat_id}")  # fmt: skip
        return self.sent(chat_id)

    # -- the API -------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
        if isinstance(params.get("reply_markup"), str):
            params["reply_markup"] = json.loads(params["reply_markup"])
        call = Call(method=method, params=params, status=200, at=time.monotonic())
        self.calls.append(call)
        if method == "sendMessage" and self.on_send is not None:
            self.on_send(call)
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        gate = self._hangs.pop(call.chat_id or "", None) if method == "sendMessage" else None
        if gate is not None:
            waits = {asyncio.ensure_future(gate.wait()), asyncio.ensure_future(self._closing.wait())}
            _, waiting = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in waiting:
                task.cancel()
        failure = self._failure_for(method, call.chat_id)
        if failure is not None:
            call.status = failure.error_code
            extra = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            return _error(failure.error_code, failure.description, extra)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 400
            return _error(400, f"Bad Request: method {method} is not in this fake")
        call.result = await handler(params)
        return web.json_response({"ok": True, "result": call.result})

    def _failure_for(self, method: str, chat_id: str | None) -> Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Policy bot", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return self._me()

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(params, next(_message_ids))

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._message(params, int(params["message_id"]))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._message(params, int(params["message_id"]))

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()), "from": self._me(),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "text": params.get("text", ""),
        }  # fmt: skip
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        """Long polling with offset: confirm what lies below the offset, wait for the rest."""
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._pending and not self._closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass
        return sorted(self._pending, key=lambda u: u["update_id"])[:limit]


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


# -- update builders --------------------------------------------------------------------------


def user(user_id: int, first_name: str = "Parent") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name}


def chat(chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
    kind = chat_type or ("private" if chat_id > 0 else "supergroup")
    return {"id": chat_id, "type": kind} | ({"first_name": "Parent"} if kind == "private" else {"title": "Class 3 parents"})


def message(chat_id: int, *, user_id: int | None = None, text: str | None = None, **fields: Any) -> dict[str, Any]:
    """A message dict from `user_id` (default: the private chat's owner) in `chat_id`."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids), "date": int(time.time()),
        "chat": chat(chat_id), "from": user(user_id if user_id is not None else chat_id),
    }  # fmt: skip
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            token = text.split()[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(token)}]
    body.update(fields)
    return body


def text_update(chat_id: int, text: str, **fields: Any) -> dict[str, Any]:
    return {"message": message(chat_id, text=text, **fields)}


def edited_update(chat_id: int, text: str) -> dict[str, Any]:
    return {"edited_message": message(chat_id, text=text, edit_date=int(time.time()))}


def photo_update(chat_id: int, *, caption: str | None = None, **fields: Any) -> dict[str, Any]:
    photo = [{"file_id": "AgAD-small", "file_unique_id": "s1", "width": 90, "height": 90},
             {"file_id": "AgAD-big", "file_unique_id": "b1", "width": 800, "height": 800}]  # fmt: skip
    extra: dict[str, Any] = {"caption": caption} if caption is not None else {}
    return {"message": message(chat_id, photo=photo, **extra, **fields)}


def sticker_update(chat_id: int) -> dict[str, Any]:
    sticker = {"file_id": "CAAD-st", "file_unique_id": "st1", "type": "regular", "width": 512, "height": 512,
               "is_animated": False, "is_video": False}  # fmt: skip
    return {"message": message(chat_id, sticker=sticker)}


def voice_update(chat_id: int) -> dict[str, Any]:
    return {"message": message(chat_id, voice={"file_id": "AwAD-v", "file_unique_id": "v1", "duration": 4})}


def forwarded_update(chat_id: int, text: str) -> dict[str, Any]:
    origin = {"type": "user", "date": int(time.time()) - 60, "sender_user": user(999, "Someone else")}
    return {"message": message(chat_id, text=text, forward_origin=origin)}


def callback_update(chat_id: int, data: str, *, on: Call | None = None, user_id: int | None = None) -> dict[str, Any]:
    """A button press on the message the bot sent (`on`, a recorded sendMessage)."""
    message_id = on.result["message_id"] if on is not None and isinstance(on.result, dict) else next(_message_ids)
    sent = {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id),
            "from": user(BOT_ID, "Policy bot") | {"is_bot": True}, "text": on.text if on else "..."}  # fmt: skip
    return {
        "callback_query": {
            "id": str(next(_message_ids)), "from": user(user_id if user_id is not None else chat_id),
            "chat_instance": f"ci-{chat_id}", "data": data, "message": sent,
        }
    }  # fmt: skip
