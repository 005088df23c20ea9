"""Schools kept apart: an office sees and acts on its own school's concerns only.

Telegram serves every school, so concerns for schools with no office here (or with
another office) reach the queue. Through real Bolt and signed requests, another
school's office never receives them (cards, threads, App Home) and can't act on
them (claim, reply, note, resolve, even with a forged ref).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from adapters.serve import delivering, name_undrained
from adapters.slack import SlackAdapter, SlackSettings, cards, offices_from, slack_settings
from chatbot.concerns import Concern
from chatbot.config import Settings
from chatbot.destinations import SLACK
from chatbot.errors import ConfigError
from chatbot.outbox import office_for
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import FAST, FORM, OFFICE_CHANNEL, OFFICE_MEMBER, Bot, card_for
from tests.adapters.slack.workspace import slack_settings as single_office_settings
from tests.fakes.slack_api import BOT_TOKEN, BOT_USER, SIGNING_SECRET, Call, FakeSlack, block_action
from tests.fakes.slack_api import interactive_body, view_submission

ORCHARD_CHANNEL, STL_CHANNEL = "C0ORCH", "C0STL"
ORCHARD_STAFF, STL_STAFF, TRUST_HEAD = "U0ORCH1", "U0STL1", "U0HEAD"
ORCHARD_TEXT = "Someone at Orchard shared my daughter's photo; call me on 07700 900555"
STL_TEXT = "A St Luke's parent group keeps posting about my son"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    slack.members |= {OFFICE_CHANNEL: [BOT_USER, OFFICE_MEMBER], ORCHARD_CHANNEL: [BOT_USER, ORCHARD_STAFF],
                      STL_CHANNEL: [BOT_USER, STL_STAFF]}  # fmt: skip
    await slack.start()
    yield slack
    await slack.close()


def two_offices(fake: FakeSlack) -> SlackSettings:
    return SlackSettings(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url,
        office_channels=(f"orchard:{ORCHARD_CHANNEL}", f"st-lukes:{STL_CHANNEL}"),
        office_users=(f"orchard:{TRUST_HEAD}", f"st-lukes:{TRUST_HEAD}"), safeguarding_leads=("orchard:U0DSLORCH",),
    )  # fmt: skip


@asynccontextmanager
async def started(settings: SlackSettings, runtime: Runtime, fake: FakeSlack) -> AsyncIterator[tuple[SlackAdapter, Bot]]:
    """A running adapter with its delivery loops (as `chatbot serve` runs them); stopped on exit."""
    adapter = SlackAdapter(settings=settings, runtime=runtime, http_port=unused_port(), timing=FAST)
    await adapter.start()
    session = aiohttp.ClientSession()
    try:
        async with delivering(runtime.outbox, [adapter]):
            yield adapter, Bot(url=f"http://127.0.0.1:{adapter.http_port}/slack/events", session=session, fake=fake)
    finally:
        await adapter.stop()
        await session.close()


async def raise_for(runtime: Runtime, school: str, summary: str, **extra: object) -> Concern:
    fields: dict[str, object] = dict(
        school_id=school, channel="telegram", user_id=f"tg-{school}", chat_id=f"tg-{school}", audience="parent",
        category="concern_photo_removal", summary=summary, urgent=False,
    )  # fmt: skip
    return await runtime.concerns.open(**(fields | extra))  # type: ignore[arg-type]


def press(bot: Bot, *, user: str, action_id: str, ref: str, channel: str) -> str:
    return interactive_body(block_action(
        user=user, action_id=action_id, value=ref, channel=channel, message_ts="1700000000.000100",
        response_url=bot.fake.response_url(f"{user}-{action_id}"), trigger_id=f"trigger-{user}-{action_id}",
    ))  # fmt: skip


async def submit(bot: Bot, *, user: str, concern: Concern, text: str, note: bool = False) -> tuple[int, str]:
    view = (cards.note_modal if note else cards.reply_modal)(concern)
    payload = view_submission(user=user, view=view, values={cards.TEXT_BLOCK: {cards.TEXT_INPUT: text}})
    return await bot.post(interactive_body(payload), content_type=FORM)


def calls_mentioning(fake: FakeSlack, words: str) -> list[Call]:
    return [c for c in fake.attempts if words in json.dumps(c.params)]


async def home_of(bot: Bot, fake: FakeSlack, user: str) -> str:
    opened = {"type": "app_home_opened", "user": user, "channel": "D0X", "tab": "home"}
    assert await bot.event(opened, event_id=f"Ev-home-{user}") == 200
    [view] = await fake.wait_for("views.publish", where=lambda c: c.params["user_id"] == user)
    return json.dumps(view.params["view"])


async def test_a_st_lukes_office_neither_receives_nor_acts_on_orchards_concerns(
    fake: FakeSlack, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(single_office_settings(fake), runtime, fake) as (adapter, bot):
        orchard = await raise_for(runtime, "orchard", ORCHARD_TEXT, phone="07700 900555", contact_method="phone")
        own = await raise_for(runtime, "st-lukes", STL_TEXT)
        await card_for(fake, own.ref)

        attempts = [
            press(bot, user=OFFICE_MEMBER, action_id=action, ref=orchard.ref, channel=OFFICE_CHANNEL)
            for action in (cards.CLAIM, cards.REPLY, cards.NOTE, cards.RESOLVE)
        ]
        for body in attempts:
            assert (await bot.post(body, content_type=FORM))[0] == 200
        refusals = await fake.wait_for_responses(len(attempts))
        assert all(r["text"] == f"There is no concern {orchard.ref}." for r in refusals)
        status, answer = await submit(bot, user=OFFICE_MEMBER, concern=orchard, text="We have removed it.")
        assert status == 200 and json.loads(answer)["response_action"] == "errors"
        assert (await submit(bot, user=OFFICE_MEMBER, concern=orchard, text="note", note=True))[0] == 200
        home = await home_of(bot, fake, OFFICE_MEMBER)

    assert own.ref in home and orchard.ref not in home
    assert calls_mentioning(fake, orchard.ref) == [] and calls_mentioning(fake, "900555") == []
    assert [e.action for e in await runtime.concerns.events(orchard.ref)] == ["opened"]
    assert (await runtime.concerns.get(orchard.ref)).status == "open"
    assert await runtime.outbox.items(channel="telegram") == []
    assert fake.called("views.open") == []
    # Orchard's item stays queued, named at start-up and in `chatbot queue list`
    assert await runtime.outbox.waiting() == {office_for("orchard"): 1}
    caplog.set_level(logging.WARNING, logger="adapters.serve")
    assert await name_undrained(runtime, [adapter]) == {office_for("orchard"): 1}
    assert "office item(s) for orchard stay queued" in caplog.text


async def test_one_workspace_keeps_each_school_in_its_own_office(fake: FakeSlack, runtime: Runtime) -> None:
    async with started(two_offices(fake), runtime, fake) as (adapter, bot):
        assert adapter.destinations == (SLACK, office_for("orchard"), office_for("st-lukes"))
        orchard = await raise_for(runtime, "orchard", ORCHARD_TEXT, urgent=True)
        stl = await raise_for(runtime, "st-lukes", STL_TEXT)
        orchard_card, stl_card = await card_for(fake, orchard.ref), await card_for(fake, stl.ref)
        assert orchard_card.params["channel"] == ORCHARD_CHANNEL and stl_card.params["channel"] == STL_CHANNEL
        assert "U0DSLORCH" in json.dumps(orchard_card.params) and "U0DSLORCH" not in json.dumps(stl_card.params)
        homes = {user: await home_of(bot, fake, user) for user in (ORCHARD_STAFF, STL_STAFF, TRUST_HEAD)}

        # Orchard's office presses on St Luke's concern: from its own channel, and from St Luke's
        for channel in (ORCHARD_CHANNEL, STL_CHANNEL):
            body = press(bot, user=ORCHARD_STAFF, action_id=cards.CLAIM, ref=stl.ref, channel=channel)
            assert (await bot.post(body, content_type=FORM))[0] == 200
        # St Luke's office replies to Orchard's concern through a forged modal
        status, answer = await submit(bot, user=STL_STAFF, concern=orchard, text="Not yours to answer")
        assert status == 200 and json.loads(answer)["errors"][cards.TEXT_BLOCK] == cards.REFUSAL
        # each office can act on its own; the trust's head on both
        mine = press(bot, user=ORCHARD_STAFF, action_id=cards.CLAIM, ref=orchard.ref, channel=ORCHARD_CHANNEL)
        assert (await bot.post(mine, content_type=FORM))[0] == 200
        assert (await submit(bot, user=TRUST_HEAD, concern=stl, text="We'll call you today."))[0] == 200
        refusals = await fake.wait_for_responses(2)

    assert [r["text"] for r in refusals] == [cards.REFUSAL] * 2
    assert [e.action for e in await runtime.concerns.events(orchard.ref)] == ["opened", "claimed"]
    assert [e.action for e in await runtime.concerns.events(stl.ref)] == ["opened", "replied"]
    for channel, other in ((ORCHARD_CHANNEL, stl.ref), (STL_CHANNEL, orchard.ref)):
        assert [c for c in fake.attempts if c.params.get("channel") == channel and other in json.dumps(c.params)] == []
    assert orchard.ref in homes[ORCHARD_STAFF] and stl.ref not in homes[ORCHARD_STAFF]
    assert stl.ref in homes[STL_STAFF] and orchard.ref not in homes[STL_STAFF]
    assert orchard.ref in homes[TRUST_HEAD] and stl.ref in homes[TRUST_HEAD]


def test_office_channels_come_from_the_environment_or_the_config_file(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_OFFICE_CHANNELS": "orchard:C01AA,st-lukes:C02BB",
           "SLACK_OFFICE_USERS": "orchard:U01AA", "SLACK_SAFEGUARDING_LEADS": "st-lukes:U02BB"}  # fmt: skip
    from_env = slack_settings(Settings(), env)
    assert from_env is not None
    offices = offices_from(from_env, ["orchard", "st-lukes", "roose"])
    assert {s: (o.channel, o.users, o.leads) for s, o in offices.items()} == {
        "orchard": ("C01AA", ("U01AA",), ()), "st-lukes": ("C02BB", (), ("U02BB",)),
    }  # fmt: skip
    mapping = replace(Settings(), platforms={"slack": {"bot_token": "xoxb-1", "office_channels": {"roose": "C09ZZ"}}})
    from_file = slack_settings(mapping, {})
    assert from_file is not None and offices_from(from_file, ["roose", "orchard"])["roose"].channel == "C09ZZ"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"office_users": ("U01AA",)}, "say whose U01AA is"),
        ({"office_channels": ("nowhere:C03CC",)}, "not a school I know"),
        ({"office_channels": ("orchard:C01AA", "st-lukes:C01AA")}, "its own office channel"),
        ({"office_channels": ("C01AA",)}, "pairs a school with its channel"),
        ({"office_channel": "C05EE"}, "not both"),
        ({"safeguarding_leads": ("roose:U03CC",)}, "no office channel here"),
    ],
)
def test_office_settings_that_would_mix_schools_are_refused(changes: dict[str, object], message: str) -> None:
    base = SlackSettings(bot_token="xoxb-1", office_channels=("orchard:C01AA", "st-lukes:C02BB"))
    with pytest.raises(ConfigError, match=message):
        offices_from(replace(base, **changes), ["orchard", "st-lukes", "roose"])  # type: ignore[arg-type]
