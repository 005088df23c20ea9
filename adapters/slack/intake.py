"""Slack requests that survive a crash: stored in the inbox before Bolt acks them, done after handling.

Bolt acknowledges an event before its listener runs, and Slack forgets whatever it
got a 200 for; so this global middleware (after Bolt's signature check, before any
listener) stores every event, slash command and interaction in the SQLite inbox
first. The request's key goes into Bolt's context, and the listener wrapper
(listening.py) marks it done once it is handled. A key stored before is a
redelivery (Slack retrying an event) or a replay (a signed request copied off the
wire and sent again within Bolt's five minutes): an empty 200, and nothing runs.
At start-up, what a crash left pending is dispatched again through the same
listeners (`replay_pending`). If the database can't be written, the request is
still handled, from memory: an answer now beats a perfect record.

Keys: an event's event_id; for anything else, what Slack makes unique (a modal
submission's view id, a press's action_ts, a command's trigger_id) plus a SHA-256
of its bytes, so a new press of the same button is new, the same bytes again not.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from chatbot.errors import StorageError
from chatbot.inbox import Inbox

log = logging.getLogger(__name__)

CHANNEL = "slack"  # the inbox's channel for Slack requests
KEY = "inbox_key"  # in Bolt's context: the stored request's key, for marking it done
REPLAY = "inbox_replay"  # in Bolt's context: a stored request dispatched again at start-up


def request_key(body: Mapping[str, Any], raw_body: str) -> str | None:
    """What makes this request unique; None for what Slack never redelivers (url_verification, rate notices)."""
    kind = str(body.get("type") or ("command" if "command" in body else ""))
    if kind == "event_callback":
        return f"event:{body['event_id']}" if body.get("event_id") else None
    if not kind or kind in ("url_verification", "app_rate_limited"):
        return None
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions[0], dict) else {}
    ident = (body.get("view") or {}).get("id") or first.get("action_ts") or body.get("trigger_id") or ""
    raw = raw_body or json.dumps(body, sort_keys=True, ensure_ascii=False)  # Socket Mode has no raw bytes
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{ident}:{digest}"


class Intake:
    """The global middleware that stores each request before the ack, and marks it done after handling."""

    def __init__(self, *, inbox: Inbox) -> None:
        self.inbox = inbox

    async def __call__(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        if replayed := req.context.get(REPLAY):
            req.context[KEY] = replayed
            await next()
            return None
        key = request_key(req.body, req.raw_body)
        if key is None:
            await next()
            return None
        kind = key.split(":", 1)[0]
        try:
            fresh = await self.inbox.put(CHANNEL, key, dict(req.body))
        except StorageError as exc:
            log.critical("slack: a %s could not be stored (%s); handling it unstored", kind, exc.problem)
            await next()
            return None
        if not fresh:
            log.warning("slack %s delivered again; already stored, ignored", kind)
            return BoltResponse(status=200, body="")
        req.context[KEY] = key  # stored: mark it done once handled, even if counting this attempt fails
        try:
            await self.inbox.begin(CHANNEL, key)
        except StorageError as exc:
            log.error("slack: a %s was stored but its attempt not counted (%s)", kind, exc.problem)
        await next()
        return None

    async def done(self, context: Mapping[str, Any]) -> None:
        """The request was handled (or nothing will ever handle it): keep only its key."""
        key = context.get(KEY)
        if not key:
            return
        try:
            await self.inbox.done(CHANNEL, str(key))
        except StorageError as exc:  # handled, but still pending: a restart may answer it twice
            log.error("slack request handled but not marked done (%s)", exc.problem)

    async def replay_pending(self, app: AsyncApp) -> int:
        """Dispatch what a crash left stored but unhandled, through the same listeners; returns how many.

        Socket Mode requests skip Bolt's signature check: these were checked when they arrived.
        """
        entries = await self.inbox.pending(CHANNEL)
        started = await self.inbox.begin_many(CHANNEL, [entry.key for entry in entries])
        replay = [entry for entry in entries if started.get(entry.key)]
        if replay:
            log.warning("slack: handling %d request(s) left unhandled by the last run", len(replay))
        for entry in replay:
            await app.async_dispatch(AsyncBoltRequest(body=entry.payload, mode="socket_mode", context={REPLAY: entry.key}))
        return len(replay)
