"""The Slack adapter end to end: real slack-bolt and slack-sdk against a fake Slack on 127.0.0.1.

Requests to the bot are signed for real and go over HTTP to the adapter's own
server (or through a Socket Mode WebSocket); the bot's Web API calls go over HTTP
to the fake, which records them. The core runs for real on a fresh SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import unused_port
from slack_sdk.web.async_client import AsyncWebClient

from adapters.serve import delivering
from adapters.slack import blocks as kit
from adapters.slack import cards
from adapters.slack import OfficeDirectory, SlackAdapter
from chatbot.errors import ConfigError, DeliveryError, RetryLater, Undeliverable
from chatbot.knowledge import KnowledgeBase
from chatbot.messages import Audience, Incoming, OutboxItem
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import (
    FAST,
    FORM,
    LEADS,
    OFFICE_CHANNEL,
    OFFICE_LISTED,
    OFFICE_MEMBER,
    SCHOOL,
    TEACHER,
    TEACHER_DM,
    Bot,
    about,
    card_for,
    http_adapter,
    open_concern,
    slack_settings,
    texts,
)
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    Call,
    FakeSlack,
    block_action,
    command_body,
    event_body,
    view_submission,
)


# -- helpers --------------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.05)


# -- staff questions ----------------------------------------------------------------------------


async def test_policy_command_answers_only_the_asker_with_the_staff_rule_and_citation(
    bot: Bot, fake: FakeSlack, kb: KnowledgeBase
) -> None:
    school = kb.school(SCHOOL)
    answer = school.answers["staff_friending_parents"]
    cited = school.sections[answer.cites[0]]

    started = time.monotonic()
    assert await bot.command(user=TEACHER, channel="C0STAFFROOM", text="can I accept a friend request from a parent?") == 200
    assert time.monotonic() - started < 3.0  # acknowledged within Slack's limit

    [response] = await fake.wait_for_responses(1)
    assert response["response_type"] == "ephemeral"
    words = texts(response["blocks"])
    assert kit.escape(answer.text) in words
    assert f'"{kit.escape(cited.title)}"' in words
    assert kit.escape(cited.text[:60]) in words
    assert fake.called("chat.postMessage") == []  # nothing said in the channel


async def test_logs_say_what_happened_without_the_words(
    bot: Bot, fake: FakeSlack, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    project = logging.getLogger("chatbot")
    level = project.level
    question = "can I accept a friend request from a parent?"

    assert await bot.command(user=TEACHER, channel="C0STAFFROOM", text=question) == 200
    await fake.wait_for_responses(1)

    assert project.level == level  # Bolt names a logger after its app: it must not retune ours
    assert "turn channel=slack school=st-lukes audience=staff" in caplog.text  # the core's own logs still flow
    for secret in (question, kb.school(SCHOOL).answers["staff_friending_parents"].text[:40], TEACHER):
        assert secret not in caplog.text


async def test_direct_message_is_answered_once_even_when_slack_redelivers_it(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, kb: KnowledgeBase
) -> None:
    school = kb.school(SCHOOL)
    answer = school.answers["staff_friending_parents"]
    event = {"type": "message", "channel_type": "im", "channel": TEACHER_DM, "user": TEACHER,
             "text": "can I accept a friend request from a parent?", "ts": "1700000001.000100"}  # fmt: skip

    assert await bot.event(event, event_id="Ev0001") == 200
    [post] = await fake.wait_for("chat.postMessage", where=lambda c: c.channel == TEACHER_DM)
    assert kit.escape(answer.text) in texts(post.params["blocks"])
    assert school.sections[answer.cites[0]].title in texts(post.params["blocks"])

    assert await bot.event(event, event_id="Ev0001", retry=1) == 200  # Slack's retry of the same event
    sentinel = {**event, "text": "thanks", "ts": "1700000002.000100"}  # sent after the retry
    assert await bot.event(sentinel, event_id="Ev0002") == 200
    await fake.wait_for("chat.postMessage", count=2, where=lambda c: c.channel == TEACHER_DM)
    await adapter.stop()  # waits for every listener still running, so a doubled answer would be seen
    assert len(fake.called("chat.postMessage", lambda c: c.channel == TEACHER_DM)) == 2


async def test_mention_in_a_channel_is_answered_in_a_thread(bot: Bot, fake: FakeSlack, kb: KnowledgeBase) -> None:
    answer = kb.school(SCHOOL).answers["staff_friending_parents"]
    event = {"type": "app_mention", "channel": "C0STAFFROOM", "user": TEACHER, "ts": "1700000003.000200",
             "text": f"<@{BOT_USER}> can I accept a friend request from a parent?"}  # fmt: skip

    assert await bot.event(event, event_id="Ev0003") == 200

    [post] = await fake.wait_for("chat.postMessage", where=lambda c: c.channel == "C0STAFFROOM")
    assert post.params["thread_ts"] == "1700000003.000200"
    assert kit.escape(answer.text) in texts(post.params["blocks"])


async def test_a_button_on_an_answer_goes_back_to_the_engine_as_an_action(bot: Bot, fake: FakeSlack) -> None:
    assert await bot.command(user=TEACHER, channel=TEACHER_DM, text="forget", hook="ask") == 200
    [asked] = await fake.wait_for_responses(1)
    buttons = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    keep = next(b for b in buttons if b["text"]["text"] == "No, keep it")
    assert keep["action_id"].startswith("chatbot_choice_")

    payload = block_action(
        user=TEACHER, action_id=keep["action_id"], value=keep["value"], channel=TEACHER_DM,
        message_ts="1700000004.000100", response_url=fake.response_url("choice"), ephemeral=True,
    )  # fmt: skip
    status, _ = await bot.interact(payload)
    assert status == 200

    responses = await fake.wait_for_responses(2)
    assert responses[1]["_hook"] == "choice"
    assert "nothing has been deleted" in texts(responses[1]["blocks"])


# -- the office queue -------------------------------------------------------------------------------


async def test_a_parents_concern_becomes_a_card_in_the_office_channel(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)

    card = await card_for(fake, concern.ref)

    assert card.channel == OFFICE_CHANNEL
    words = texts(card.params["blocks"])
    due = runtime.engine.calendars(SCHOOL).describe_due(concern.due_at)
    for expected in (concern.ref, "bullying", "Normal", due, "a parent or carer on Telegram", "Open, not claimed yet"):
        assert expected in words
    assert "&lt;!channel&gt;" in words and "<!channel>" not in card.dump()  # the parent's words can't ping anyone
    assert "tg-user-4242" not in card.dump() and "tg-chat-4242" not in card.dump()
    assert [(e["text"]["text"], e["value"]) for e in card.elements()] == [
        ("Claim", concern.ref), ("Reply", concern.ref), ("Add note", concern.ref), ("Resolve", concern.ref)
    ]  # fmt: skip

    await eventually(lambda: _posted(adapter, concern.ref, card.answer["ts"]))  # remembered right after the post


async def test_office_claims_replies_notes_and_resolves_from_slack(
    bot: Bot, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    ts = card.answer["ts"]

    def updated(words: str) -> Callable[[Call], bool]:
        return lambda c: c.params.get("ts") == ts and words in texts(c.params["blocks"])

    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.CLAIM, value=concern.ref, card=card) == 200
    await fake.wait_for("chat.update", where=updated(f"Claimed by <@{OFFICE_MEMBER}>"))
    assert (await runtime.concerns.get(concern.ref)).claimed_by == f"slack:{OFFICE_MEMBER}"  # neutral, not Slack markup

    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.REPLY, value=concern.ref, card=card) == 200
    [opened] = await fake.wait_for("views.open")
    assert opened.params["trigger_id"] == f"trigger-{cards.REPLY}-{OFFICE_MEMBER}"
    assert opened.params["view"]["private_metadata"] == concern.ref
    reply = "Thank you for telling us. Mrs Khan will speak to the class today."
    values = {cards.TEXT_BLOCK: {cards.TEXT_INPUT: reply}}
    submission = view_submission(user=OFFICE_MEMBER, view=opened.params["view"], values=values)
    status, body = await bot.interact(submission)
    assert (status, body) == (200, "")

    [to_parent] = await runtime.outbox.items(channel="telegram")
    assert to_parent.payload["chat_id"] == "tg-chat-4242" and reply in to_parent.payload["text"]
    await fake.wait_for("chat.update", where=updated("Replied"))

    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.NOTE, value=concern.ref, card=card) == 200
    [_, note_view] = await fake.wait_for("views.open", count=2)
    values = {cards.TEXT_BLOCK: {cards.TEXT_INPUT: "Rang mum."}}
    note = view_submission(user=OFFICE_MEMBER, view=note_view.params["view"], values=values)
    assert (await bot.interact(note))[0] == 200
    assert [e.detail for e in await runtime.concerns.events(concern.ref) if e.action == "note"] == ["Rang mum."]

    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.RESOLVE, value=concern.ref, card=card) == 200
    [final] = await fake.wait_for("chat.update", where=updated("Resolved"))
    assert [e["text"]["text"] for e in final.elements()] == ["Add note"]
    assert (await runtime.concerns.get(concern.ref)).status == "resolved"
    [_, resolved] = await runtime.outbox.items(channel="telegram")
    assert "resolved" in resolved.payload["text"] and resolved.payload["chat_id"] == "tg-chat-4242"
    assert len(fake.called("chat.postMessage", about(concern.ref))) == 1  # one card, updated in place


async def test_an_urgent_safeguarding_concern_pings_the_leads_and_the_channel(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    said = Incoming(
        channel="telegram", user_id="tg-9", chat_id="tg-9", school_id=SCHOOL, audience=Audience.PARENT,
        text="a man online keeps messaging my daughter and asked her to keep it secret",
    )  # fmt: skip
    reply = await runtime.engine.handle(said)
    assert reply.urgent and reply.concern_ref

    card = await card_for(fake, reply.concern_ref)

    for ping in ("<!channel>", f"<@{LEADS[0]}>", f"<@{LEADS[1]}>"):
        assert ping in card.text and ping in texts(card.params["blocks"])
    assert "Urgent (safeguarding)" in texts(card.params["blocks"])


async def test_someone_outside_the_office_is_refused_and_nothing_leaks_or_changes(
    bot: Bot, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime, summary="A private matter about a named child")
    card = await card_for(fake, concern.ref)

    for action_id in (cards.CLAIM, cards.REPLY, cards.RESOLVE):
        assert await bot.press(user=TEACHER, action_id=action_id, value=concern.ref, card=card, hook=action_id) == 200
    refusals = await fake.wait_for_responses(3)
    forged = view_submission(user=TEACHER, view=cards.reply_modal(concern), values={cards.TEXT_BLOCK: {cards.TEXT_INPUT: "hi"}})
    status, body = await bot.interact(forged)

    assert status == 200 and json.loads(body)["response_action"] == "errors"
    for refusal in refusals:
        assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
        assert refusal["text"] == kit.escape(cards.REFUSAL)
        assert "private matter" not in json.dumps(refusal)
    assert fake.called("views.open") == [] and fake.called("chat.update") == []
    after = await runtime.concerns.get(concern.ref)
    assert (after.status, after.claimed_by) == ("open", None)
    assert [e.action for e in await runtime.concerns.events(concern.ref)] == ["opened"]
    assert await runtime.outbox.items(channel="telegram") == []

    async def all_done() -> bool:  # refused by the office-only middleware, and still settled in the inbox
        return await runtime.inbox.pending("slack") == []

    await eventually(all_done)


async def test_office_users_listed_in_settings_count_and_membership_is_cached(
    bot: Bot, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)

    assert await bot.press(user=OFFICE_LISTED, action_id=cards.CLAIM, value=concern.ref, card=card) == 200
    await eventually(lambda: _claimed_by(runtime, concern.ref, f"slack:{OFFICE_LISTED}"))
    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.CLAIM, value=concern.ref, card=card, hook="late") == 200
    [conflict] = await fake.wait_for_responses(1)

    assert f"already claimed by <@{OFFICE_LISTED}>" in conflict["text"]
    assert await bot.press(user=TEACHER, action_id=cards.CLAIM, value=concern.ref, card=card, hook="t") == 200
    await fake.wait_for_responses(2)
    assert len(fake.called("conversations.members")) == 1


async def _claimed_by(runtime: Runtime, ref: str, who: str) -> bool:
    return (await runtime.concerns.get(ref)).claimed_by == who


async def test_office_membership_falls_back_to_the_last_known_list_when_slack_cannot_say(fake: FakeSlack) -> None:
    now = [0.0]
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    office = OfficeDirectory(client=client, channel=OFFICE_CHANNEL, users=(OFFICE_LISTED,), ttl=60, clock=lambda: now[0])

    assert await office.is_office(OFFICE_MEMBER) and not await office.is_office(TEACHER)
    fake.fail(1, method="conversations.members")
    now[0] = 61.0
    assert await office.is_office(OFFICE_MEMBER)  # Slack failed: the last list stands
    fake.members[OFFICE_CHANNEL] = [BOT_USER]  # they leave the office channel
    now[0] = 70.0
    assert not await office.is_office(OFFICE_MEMBER)  # still stale after the failure, so asked again
    assert await office.is_office(OFFICE_LISTED)
    assert len([c for c in fake.attempts if c.method == "conversations.members"]) == 3

    nobody = OfficeDirectory(client=client, channel="C0UNKNOWN", users=(OFFICE_LISTED,))
    assert not await nobody.is_office(OFFICE_MEMBER) and await nobody.is_office(OFFICE_LISTED)


async def test_a_deleted_card_is_posted_again_and_its_new_place_remembered(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    await eventually(lambda: _posted(adapter, concern.ref))
    fake.error("message_not_found", method="chat.update", times=1)

    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.CLAIM, value=concern.ref, card=card) == 200

    [_, again] = await fake.wait_for("chat.postMessage", count=2, where=about(concern.ref))
    assert f"Claimed by <@{OFFICE_MEMBER}>" in texts(again.params["blocks"])
    await eventually(lambda: _posted(adapter, concern.ref, again.answer["ts"]))


async def test_forgetting_a_parent_blanks_their_card_in_the_office_channel(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime)
    card = await card_for(fake, concern.ref)
    await eventually(lambda: _posted(adapter, concern.ref))

    await runtime.retention.forget_user("telegram", "tg-user-4242")

    def blanked(call: Call) -> bool:
        return call.params.get("ts") == card.answer["ts"] and "deleted" in call.text

    [update] = await fake.wait_for("chat.update", where=blanked)
    assert "unkind comments" not in update.text and not update.params.get("blocks")


async def _posted(adapter: SlackAdapter, ref: str, ts: str | None = None) -> bool:
    """Whether the adapter remembers the concern's card (in its own table), at `ts` if given."""
    place = await adapter.cards.find(ref)
    return place is not None and place.channel == OFFICE_CHANNEL and (ts is None or place.ts == ts)


async def test_overdue_reminder_is_threaded_under_the_card(adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime) -> None:
    concern = await open_concern(runtime, urgent=True, category="concern_safeguarding")  # due at once
    card = await card_for(fake, concern.ref)

    assert await runtime.concerns.remind_overdue() == 1

    [reminder] = await fake.wait_for("chat.postMessage", where=lambda c: "overdue" in c.text)
    assert reminder.params["thread_ts"] == card.answer["ts"] and concern.ref in reminder.text


async def test_a_reply_to_staff_on_slack_arrives_in_their_dm_and_a_dead_chat_tells_the_office(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    fake.error("is_archived", channel="D0GONE", method="chat.postMessage")
    mine = await open_concern(runtime, channel="slack", user_id=TEACHER, chat_id=TEACHER_DM, audience="staff")
    gone = await open_concern(runtime, channel="slack", user_id="U0LEFT", chat_id="D0GONE", audience="staff")
    gone_card = await card_for(fake, gone.ref)
    await card_for(fake, mine.ref)

    await runtime.concerns.reply(mine.ref, by=f"slack:{OFFICE_MEMBER}", text="We've spoken to the parent.")
    await runtime.concerns.reply(gone.ref, by=f"slack:{OFFICE_MEMBER}", text="Following up.")

    [dm] = await fake.wait_for("chat.postMessage", where=lambda c: c.channel == TEACHER_DM)
    assert "We've spoken to the parent." in dm.text
    [note] = await fake.wait_for("chat.postMessage", where=lambda c: "could not be delivered" in c.text)
    assert note.channel == OFFICE_CHANNEL and note.params["thread_ts"] == gone_card.answer["ts"]
    assert "member of staff" in note.text and "Following up" not in note.dump()


async def test_slack_down_for_a_while_loses_and_doubles_nothing(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    fake.fail(5, method="chat.postMessage")
    concerns = [await open_concern(runtime, summary=f"concern number {n}") for n in range(3)]

    async def drained() -> bool:
        return await runtime.outbox.pending_count("office:st-lukes") == 0

    await eventually(drained)

    failed = [c for c in fake.attempts if c.method == "chat.postMessage" and not c.ok]
    assert len(failed) == 5
    for concern in concerns:
        assert len(fake.called("chat.postMessage", about(concern.ref))) == 1
        assert await _posted(adapter, concern.ref)


async def test_app_home_shows_the_queue_to_the_office_and_a_note_to_everyone_else(
    bot: Bot, fake: FakeSlack, runtime: Runtime
) -> None:
    concern = await open_concern(runtime, summary="Unkind posts in the year 5 chat")
    await card_for(fake, concern.ref)

    for user, event_id in ((OFFICE_MEMBER, "EvH1"), (TEACHER, "EvH2")):
        opened = {"type": "app_home_opened", "user": user, "channel": "D0X", "tab": "home"}
        assert await bot.event(opened, event_id=event_id) == 200
    [office] = await fake.wait_for("views.publish", where=lambda c: c.params["user_id"] == OFFICE_MEMBER)
    [teacher] = await fake.wait_for("views.publish", where=lambda c: c.params["user_id"] == TEACHER)

    office_words = texts(office.params["view"]["blocks"])
    assert "Unclaimed" in office_words and concern.ref in office_words and "Unkind posts" in office_words
    assert "office staff only" in texts(teacher.params["view"]["blocks"])
    assert concern.ref not in teacher.dump() and "Unkind" not in teacher.dump()


# -- signatures, errors, configuration ------------------------------------------------------------


@pytest.mark.parametrize(
    "signing",
    [{"secret": "not-the-secret"}, {"timestamp": int(time.time()) - 6 * 60}],
    ids=["forged", "stale"],
)
async def test_forged_or_stale_requests_are_rejected(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, signing: dict[str, Any]
) -> None:
    body = command_body(user=TEACHER, channel=TEACHER_DM, text="can I accept a friend request from a parent?",
                        response_url=fake.response_url("forged"))  # fmt: skip

    status, _ = await bot.post(body, content_type=FORM, **signing)

    assert status == 401
    assert await bot.command(user=TEACHER, channel=TEACHER_DM, text="help", hook="sentinel") == 200  # a genuine one
    await fake.wait_for_responses(1)
    await adapter.stop()  # waits for every listener still running
    assert [r["_hook"] for r in fake.responses] == ["sentinel"] and fake.called("chat.postMessage") == []


def _chat_item(chat_id: str = "D0SOMEONE") -> OutboxItem:
    return OutboxItem(id=1, channel="slack", kind="message", key="k1", payload={"chat_id": chat_id, "text": "hello"})


async def test_deliver_turns_ratelimits_and_outages_into_retry_later(adapter: SlackAdapter, fake: FakeSlack) -> None:
    fake.ratelimit(retry_after=7, method="chat.postMessage")
    with pytest.raises(RetryLater) as limited:
        await adapter.deliver(_chat_item())
    fake.fail(1, status=503, method="chat.postMessage")
    with pytest.raises(RetryLater) as down:
        await adapter.deliver(_chat_item())

    assert limited.value.after == 7.0
    assert down.value.after is None
    await adapter.deliver(_chat_item())  # and then it works
    assert [c.text for c in fake.called("chat.postMessage")] == ["hello"]


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "account_inactive", "is_archived"])
async def test_deliver_gives_up_on_a_chat_that_is_gone(adapter: SlackAdapter, fake: FakeSlack, code: str) -> None:
    fake.error(code, channel="D0GONE")
    with pytest.raises(Undeliverable):
        await adapter.deliver(_chat_item("D0GONE"))


async def test_deliver_backs_off_on_other_errors_and_unreachable_slack(
    fake: FakeSlack, runtime: Runtime, adapter: SlackAdapter
) -> None:
    fake.error("invalid_auth", method="chat.postMessage")
    with pytest.raises(DeliveryError) as err:
        await adapter.deliver(_chat_item())
    assert not isinstance(err.value, (Undeliverable, RetryLater))

    nowhere = replace(slack_settings(fake), api_url=f"http://127.0.0.1:{unused_port()}/api/")
    offline = SlackAdapter(settings=nowhere, runtime=runtime, timing=FAST)
    with pytest.raises(RetryLater):
        await offline.deliver(_chat_item())


async def test_socket_mode_runs_the_same_listeners(fake: FakeSlack, runtime: Runtime, kb: KnowledgeBase) -> None:
    socket_settings = slack_settings(fake, app_token=APP_TOKEN, signing_secret=None)
    slack = SlackAdapter(settings=socket_settings, runtime=runtime, timing=FAST)
    await slack.start()
    try:
        await fake.wait_for_socket()
        event = {"type": "message", "channel_type": "im", "channel": TEACHER_DM, "user": TEACHER,
                 "text": "can I accept a friend request from a parent?", "ts": "1700000009.000100"}  # fmt: skip
        await fake.send_envelope("events_api", json.loads(event_body(event, event_id="EvS1")), envelope_id="env-1")

        await fake.wait_for_ack("env-1")
        [post] = await fake.wait_for("chat.postMessage", where=lambda c: c.channel == TEACHER_DM)
    finally:
        await slack.stop()
    assert kit.escape(kb.school(SCHOOL).answers["staff_friending_parents"].text) in texts(post.params["blocks"])


async def test_the_school_must_be_clear(fake: FakeSlack, runtime: Runtime) -> None:
    with pytest.raises(ConfigError, match="SLACK_SCHOOL"):
        SlackAdapter(settings=slack_settings(fake, school=None), runtime=runtime)
    with pytest.raises(ConfigError, match="nowhere"):
        SlackAdapter(settings=slack_settings(fake, school="nowhere"), runtime=runtime)

    one = replace(runtime, kb=replace(runtime.kb, schools={"orchard": runtime.kb.school("orchard")}))
    assert SlackAdapter(settings=slack_settings(fake, school=None), runtime=one).school_id == "orchard"


@pytest.mark.parametrize(
    ("changes", "port", "message"),
    [
        ({"office_channel": "#office"}, 1, "channel id"),
        ({"office_channel": None}, 1, "SLACK_OFFICE_CHANNEL"),
        ({"safeguarding_leads": ("@mrs.khan",)}, 1, "SLACK_SAFEGUARDING_LEADS"),
        ({"signing_secret": None}, 1, "SLACK_SIGNING_SECRET"),
        ({}, None, "SLACK_APP_TOKEN"),
    ],
)
async def test_configuration_mistakes_fail_at_start_with_a_clear_message(
    fake: FakeSlack, runtime: Runtime, changes: dict[str, Any], port: int | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        slack = SlackAdapter(settings=slack_settings(fake, **changes), runtime=runtime, http_port=port)
        await slack.start()


@pytest.mark.parametrize("code", ["msg_too_long", "invalid_blocks"])
async def test_a_card_slack_refuses_is_replaced_by_a_plain_card_not_retried_for_ever(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime, code: str
) -> None:
    fake.error(code, method="chat.postMessage", times=1)
    concern = await open_concern(runtime, urgent=True, category="concern_safeguarding")

    plain = await card_for(fake, concern.ref)
    assert "chatbot queue show " + concern.ref in plain.text
    assert "<!channel>" in plain.text  # the safeguarding lead is still pinged
    assert not plain.params.get("blocks")
    await eventually(lambda: _posted(adapter, concern.ref, plain.answer["ts"]))
    assert len([c for c in fake.attempts if c.method == "chat.postMessage" and about(concern.ref)(c)]) == 2


async def test_an_urgent_card_full_of_markup_and_lines_posts_in_full(
    adapter: SlackAdapter, fake: FakeSlack, runtime: Runtime
) -> None:
    """The fake refuses a section over 3,000 characters, as Slack does: the card must fit after escaping."""
    summary = "\n".join(f"<{n}> & <!here> & more" for n in range(500))
    concern = await open_concern(runtime, urgent=True, category="concern_safeguarding", summary=summary)

    card = await card_for(fake, concern.ref)

    assert card.params.get("blocks") and "Urgent (safeguarding)" in texts(card.params["blocks"])
    assert "&lt;0&gt; &amp; &lt;!here&gt;" in texts(card.params["blocks"])
    assert [c for c in fake.attempts if c.method == "chat.postMessage" and not c.ok] == []


async def test_a_card_an_older_version_remembered_on_the_concern_is_moved_and_updated_in_place(
    fake: FakeSlack, runtime: Runtime
) -> None:
    """Before the adapter had its own table, the card's ts lived in concerns.office_post_ref."""
    concern = await open_concern(runtime)
    old_ts = "1700000000.999999"

    def as_an_older_version_left_it(db: Any) -> None:
        db.execute("UPDATE concerns SET office_post_ref = ? WHERE ref = ?", [old_ts, concern.ref])
        db.execute("UPDATE outbox SET status = 'delivered' WHERE channel = 'office:st-lukes'")

    await runtime.store.run(as_an_older_version_left_it)
    slack = http_adapter(fake, runtime)
    await slack.start()
    try:
        async with delivering(runtime.outbox, [slack]):  # the delivery loops, as `chatbot serve` runs them
            assert await _posted(slack, concern.ref, old_ts)
            await runtime.concerns.claim(concern.ref, by=f"slack:{OFFICE_MEMBER}")
            [update] = await fake.wait_for("chat.update", where=lambda c: c.params.get("ts") == old_ts)
    finally:
        await slack.stop()

    assert update.channel == OFFICE_CHANNEL and f"Claimed by <@{OFFICE_MEMBER}>" in texts(update.params["blocks"])
    assert fake.called("chat.postMessage") == []  # updated in place, not posted again
    left = await runtime.store.run(lambda db: db.execute("SELECT office_post_ref FROM concerns").fetchall())
    assert left == [(None,)]  # moved, not copied at every start
