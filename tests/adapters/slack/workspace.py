"""The Slack workspace the adapter tests run in: its people and channels, and the helpers they share.

`Bot` posts signed requests to the adapter as Slack would; the fixtures that use it
live in conftest.py next to this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp.test_utils import unused_port

from adapters.slack import blocks as kit
from adapters.slack import DeliveryTiming, SlackAdapter, SlackSettings
from chatbot.concerns import Concern
from chatbot.knowledge import KnowledgeBase
from chatbot.runtime import Runtime
from tests.fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Call,
    FakeSlack,
    block_action,
    command_body,
    event_body,
    interactive_body,
    sign,
)

SCHOOL = "st-lukes"
OFFICE_CHANNEL = "C0OFFICE"
OFFICE_MEMBER = "U0OFFICE1"  # in the office channel
OFFICE_LISTED = "U0HEAD"  # not in the channel, but in SLACK_OFFICE_USERS
TEACHER = "U0TEACHER"  # staff, not office
TEACHER_DM = "D0TEACHER"
LEADS = ("U0DSL1", "U0DSL2")
FAST = DeliveryTiming(base_delay=0.05, max_delay=0.2, idle_sleep=0.05)
FORM = "application/x-www-form-urlencoded"
QUESTION = "can I accept a friend request from a parent?"  # a staff question with a known answer
ASKED = {"type": "message", "channel_type": "im", "channel": TEACHER_DM, "user": TEACHER, "text": QUESTION,
         "ts": "1700000001.000100"}  # fmt: skip


def slack_settings(fake: FakeSlack, **changes: Any) -> SlackSettings:
    base = SlackSettings(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url, school=SCHOOL,
        office_channel=OFFICE_CHANNEL, office_users=(OFFICE_LISTED,), safeguarding_leads=LEADS,
    )  # fmt: skip
    return replace(base, **changes)


def http_adapter(fake: FakeSlack, runtime: Runtime, **options: Any) -> SlackAdapter:
    """The adapter for this workspace, taking requests over HTTP on a free port, on the fast delivery timing."""
    return SlackAdapter(settings=slack_settings(fake), runtime=runtime, http_port=unused_port(), timing=FAST, **options)


class Bot:
    """Posts signed requests to the adapter's HTTP endpoint, as Slack would."""

    def __init__(self, *, url: str, session: aiohttp.ClientSession, fake: FakeSlack) -> None:
        self.url = url
        self.session = session
        self.fake = fake

    async def post(self, body: str, *, content_type: str, retry: int | None = None, **signing: Any) -> tuple[int, str]:
        signed = sign(body, content_type=content_type, **signing)
        headers = dict(signed.headers)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with self.session.post(self.url, data=body.encode(), headers=headers) as resp:
            return resp.status, await resp.text()

    async def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> int:
        status, _ = await self.post(event_body(event, event_id=event_id), content_type="application/json", retry=retry)
        return status

    async def command(self, *, user: str, channel: str, text: str, hook: str = "cmd") -> int:
        body = command_body(user=user, channel=channel, text=text, response_url=self.fake.response_url(hook))
        status, _ = await self.post(body, content_type=FORM)
        return status

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(interactive_body(payload), content_type=FORM)

    async def press(self, *, user: str, action_id: str, value: str, card: Call, hook: str = "press") -> int:
        payload = block_action(
            user=user, action_id=action_id, value=value, channel=OFFICE_CHANNEL, message_ts=str(card.answer["ts"]),
            response_url=self.fake.response_url(hook), trigger_id=f"trigger-{action_id}-{user}",
        )  # fmt: skip
        status, _ = await self.interact(payload)
        return status


def texts(blocks: list[dict[str, Any]]) -> str:
    """All the words in some blocks, to look for what a person would read."""
    out: list[str] = []
    for block in blocks:
        for part in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(part, dict):
                inner = part.get("text")
                out.append(inner["text"] if isinstance(inner, dict) else str(inner or ""))
    return "\n".join(out)


def in_dm(call: Call) -> bool:
    return call.channel == TEACHER_DM


def answer_text(kb: KnowledgeBase) -> str:
    """The staff answer to QUESTION, as it reads in Slack."""
    return kit.escape(kb.school(SCHOOL).answers["staff_friending_parents"].text)


def about(ref: str) -> Callable[[Call], bool]:
    return lambda call: ref in call.text


async def open_concern(runtime: Runtime, **changes: Any) -> Concern:
    fields: dict[str, Any] = dict(
        school_id=SCHOOL, channel="telegram", user_id="tg-user-4242", chat_id="tg-chat-4242", audience="parent",
        category="concern_bullying", summary="Children are posting unkind comments about my son <!channel>", urgent=False,
    )  # fmt: skip
    return await runtime.concerns.open(**(fields | changes))


async def card_for(fake: FakeSlack, ref: str) -> Call:
    [card] = await fake.wait_for("chat.postMessage", where=about(ref))
    return card
