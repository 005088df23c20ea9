"""A correctly signed Slack request sent again within the five-minute window changes nothing.

Each replay is the very same bytes with the very same signature and timestamp, as
someone copying a request off the wire would send. The adapter is stopped (which
waits for every listener still running) before the state is checked, so a replay
that slipped through would be seen.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.slack import SlackAdapter, cards
from adapters.slack.intake import request_key
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import FORM, OFFICE_CHANNEL, OFFICE_MEMBER, TEACHER, Bot, card_for, open_concern
from tests.fakes.slack_api import FakeSlack, block_action, command_body, event_body, interactive_body, view_submission


async def twice(bot: Bot, body: str) -> list[tuple[int, str]]:
    """Send one signed request, then replay it byte for byte (same timestamp, same signature)."""
    ts = int(time.time())
    return [await bot.post(body, content_type=FORM, timestamp=ts) for _ in range(2)]


def press_body(bot: Bot, card: Any, action_id: str, ref: str, user: str = OFFICE_MEMBER) -> str:
    return interactive_body(block_action(
        user=user, action_id=action_id, value=ref, channel=OFFICE_CHANNEL, message_ts=str(card.answer["ts"]),
        response_url=bot.fake.response_url("press"), trigger_id=f"trigger-{action_id}",
    ))  # fmt: skip


async def actions(runtime: Runtime, ref: str) -> list[str]:
    return [e.action for e in await runtime.concerns.events(ref)]


async def test_a_replayed_reply_submission_reaches_the_parent_once(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.REPLY, value=concern.ref, card=card) == 200
    [opened] = await fake.wait_for("views.open")
    values = {cards.TEXT_BLOCK: {cards.TEXT_INPUT: "We'll speak to the class today."}}
    body = interactive_body(view_submission(user=OFFICE_MEMBER, view=opened.params["view"], values=values))

    assert await twice(bot, body) == [(200, ""), (200, "")]
    await adapter.stop()

    assert await actions(runtime, concern.ref) == ["opened", "replied"]
    to_parent = await runtime.outbox.items(channel="telegram")
    assert len(to_parent) == 1 and "speak to the class" in to_parent[0].payload["text"]


async def test_replayed_claim_and_resolve_presses_act_once(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    assert [status for status, _ in await twice(bot, press_body(bot, card, cards.CLAIM, concern.ref))] == [200, 200]
    assert [status for status, _ in await twice(bot, press_body(bot, card, cards.RESOLVE, concern.ref))] == [200, 200]
    await adapter.stop()

    assert await actions(runtime, concern.ref) == ["opened", "claimed", "resolved"]
    told = [i for i in await runtime.outbox.items(channel="telegram") if "resolved" in i.payload["text"]]
    assert len(told) == 1
    assert fake.responses == []  # not even a "already claimed by you" note was sent for the replays


async def test_a_new_press_of_the_same_button_still_works(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    """Slack gives every press its own action_ts: only identical bytes count as a replay."""
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    first, second = press_body(bot, card, cards.NOTE, concern.ref), press_body(bot, card, cards.NOTE, concern.ref)
    assert first != second
    assert (await bot.post(first, content_type=FORM))[0] == 200
    assert (await bot.post(second, content_type=FORM))[0] == 200
    assert len(await fake.wait_for("views.open", count=2)) == 2


async def test_a_replayed_slash_command_is_answered_once(bot: Bot, adapter: SlackAdapter, fake: FakeSlack) -> None:
    body = command_body(user=TEACHER, channel="C0STAFF", text="help", response_url=fake.response_url("cmd"))
    assert [status for status, _ in await twice(bot, body)] == [200, 200]
    await adapter.stop()
    assert len(fake.responses) == 1


async def test_a_forged_replay_is_refused_before_it_is_remembered(bot: Bot, adapter: SlackAdapter, fake: FakeSlack) -> None:
    body = command_body(user=TEACHER, channel="C0STAFF", text="help", response_url=fake.response_url("cmd"))
    ts = int(time.time())
    assert (await bot.post(body, content_type=FORM, timestamp=ts, secret="wrong"))[0] == 401
    assert (await bot.post(body, content_type=FORM, timestamp=ts))[0] == 200  # the genuine one still counts
    assert len(await fake.wait_for_responses(1)) == 1


def test_keys_name_the_interaction_and_its_bytes() -> None:
    press = block_action(user="U1", action_id="a", value="C-1", channel="C1", message_ts="1.0", response_url="u")
    raw = interactive_body(press)
    key = request_key(press, raw)
    assert key is not None and key.startswith(f"block_actions:{press['actions'][0]['action_ts']}:")
    assert request_key(press, raw + " ") != key
    assert request_key(press, "") == request_key(press, "")  # Socket Mode: no raw bytes, the body itself is hashed
    assert request_key({"type": "event_callback", "event_id": "Ev1"}, event_body({}, event_id="Ev1")) == "event:Ev1"
    assert request_key({"type": "url_verification", "challenge": "x"}, "") is None
    command = {"command": "/policy", "trigger_id": "t-1"}
    assert (request_key(command, "x") or "").startswith("command:t-1:")
