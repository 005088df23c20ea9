"""Replays change nothing: each Slack interaction is acted on once.

Bolt accepts a correctly signed request for five minutes, so a request copied off
the wire (or sent twice by a flaky proxy) would claim, reply or resolve again:
the parent would get the office's reply twice. Every interaction Slack sends is
unique (a modal submission has its view id and state, a button press its own
action_ts, a slash command its trigger_id), so the same bytes arriving again are
a replay. This global middleware runs after Bolt's signature check, remembers
each interaction's key in SQLite, and answers a replay with an empty 200 without
running any listener.

Events are left alone: their event_id is already remembered by staff chat (and
Slack's own retries of an event must still reach the handler after a crash).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Awaitable, Callable, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

CHANNEL = "slack-interaction"


class RemembersKeys(Protocol):
    async def seen_before(self, channel: str, key: str) -> bool: ...


def interaction_key(body: dict[str, Any], raw_body: str) -> str | None:
    """What makes this interaction unique, plus a hash of its bytes; None for events (not guarded here)."""
    kind = str(body.get("type") or ("command" if "command" in body else ""))
    if not kind or kind in ("event_callback", "url_verification", "app_rate_limited"):
        return None
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions[0], dict) else {}
    ident = (body.get("view") or {}).get("id") or first.get("action_ts") or body.get("trigger_id") or ""
    digest = hashlib.sha256(raw_body.encode("utf-8")).hexdigest()
    return f"{kind}:{ident}:{digest}"


class ReplayGuard:
    """A Bolt global middleware: the first arrival of an interaction passes, any replay gets an empty 200."""

    def __init__(self, *, keys: RemembersKeys) -> None:
        self.keys = keys

    async def __call__(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = interaction_key(req.body, req.raw_body)
        if key is None or not await self.keys.seen_before(CHANNEL, key):
            await next()
            return None
        log.warning("slack interaction replayed (%s); ignored", key.split(":", 1)[0])
        return BoltResponse(status=200, body="")
