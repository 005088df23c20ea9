"""The Telegram adapter end to end: the real python-telegram-bot polling a fake Bot API on 127.0.0.1.

Each test opens a Runtime on its own SQLite file, starts the adapter against the
fake, pushes updates and waits (bounded) for what the bot sends back. An error
handler collects every error PTB sees; each test asserts there were none.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from typer.testing import CliRunner

from adapters.base import DeliveryTiming
from adapters.serve import delivering
from adapters.telegram import TelegramAdapter, TelegramSettings
from adapters.telegram.rendering import MESSAGE_LIMIT, keyboard, render, split_text
from adapters.telegram.transport import SECRET_HEADER
from chatbot import account_replies, replies
from chatbot.actions import PickIntent
from chatbot.flows import photo
from cli.main import app as cli_app
from chatbot.config import RetentionPolicy, Settings
from chatbot.confidence import Verdict
from chatbot.errors import ConfigError, UnknownSchool
from chatbot.inbox import InboxStatus
from chatbot.knowledge import KnowledgeBase
from chatbot.understanding.fusion import FusedMatcher
from chatbot.messages import Button, Citation, Incoming, Reply
from chatbot.outbox import Outbox
from chatbot.runtime import Runtime, open_runtime
from chatbot.store import utcnow
from tests.fakes.telegram_api import (
    BOT_ID,
    BOT_USERNAME,
    TOKEN,
    Call,
    FakeTelegramAPI,
    callback_update,
    edited_update,
    forwarded_update,
    message,
    photo_update,
    sticker_update,
    text_update,
    user,
    voice_update,
)

SCHOOL = "st-lukes"
T = TypeVar("T")


class FrozenClock:
    """The outbox's clock, an hour ahead of every item queued now, moving only when a test says so."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Bot:
    adapter: TelegramAdapter
    runtime: Runtime
    fake: FakeTelegramAPI
    errors: list[BaseException] = field(default_factory=list)
    naps: list[float] = field(default_factory=list)  # each wait a direct reply asked for between tries

    async def say(self, chat_id: int, text: str, **fields: Any) -> list[Call]:
        """Send a text and wait for the chat's next message; returns all messages to the chat."""
        before = len(self.fake.sent(chat_id))
        self.fake.push(text_update(chat_id, text, **fields))
        return await self.fake.wait_sent(chat_id, before + 1)

    async def press(self, chat_id: int, on: Call, action: str, *, user_id: int | None = None) -> list[Call]:
        """Press a button of a message the bot sent; waits for the reply."""
        assert action in on.actions, f"{action!r} is not among the buttons {on.actions}"
        before = len(self.fake.sent(chat_id))
        self.fake.push(callback_update(chat_id, action, on=on, user_id=user_id))
        return await self.fake.wait_sent(chat_id, before + 1)


def telegram_settings(fake: FakeTelegramAPI, **overrides: Any) -> TelegramSettings:
    return TelegramSettings(token=TOKEN, api_url=fake.api_url, **({"school": SCHOOL} | overrides))


@asynccontextmanager
async def running(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher, *, engine: Any = None,
    expect_errors: bool = False, clock: FrozenClock | None = None, **overrides: Any,
) -> AsyncIterator[Bot]:
    """A started adapter on a fresh database; stops it and checks the collected errors.

    A direct reply's waits between tries are recorded in `bot.naps` instead of slept; `clock`, when
    given, is the outbox's (so a test moves time on rather than waiting for it).
    """
    settings = Settings(db_path=tmp_path / "t.db")
    async with open_runtime(settings, kb=kb, matcher=matcher) as opened:
        runtime = opened if clock is None else replace(opened, outbox=Outbox(store=opened.store, clock=clock))
        naps: list[float] = []

        async def nap(seconds: float) -> None:
            naps.append(seconds)
            await asyncio.sleep(0)

        adapter = TelegramAdapter(
            settings=telegram_settings(fake, **overrides), engine=engine or runtime.engine, inbox=runtime.inbox,
            schools=tuple(runtime.kb.schools), timing=DeliveryTiming(idle_sleep=0.05),
            sleep=nap,
        )  # fmt: skip
        bot = Bot(adapter=adapter, runtime=runtime, fake=fake, naps=naps)

        async def collect(update: object, context: Any) -> None:
            bot.errors.append(context.error)

        adapter.application.add_error_handler(collect)
        await adapter.start()
        try:
            async with delivering(runtime.outbox, [adapter]):  # the delivery loops, as `chatbot serve` runs them
                yield bot
        finally:
            await adapter.stop()
        if not expect_errors:
            assert bot.errors == [], f"PTB saw errors: {bot.errors!r}"


@pytest.fixture
async def bot(fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher) -> AsyncIterator[Bot]:
    async with running(fake, tmp_path, kb, matcher) as started:
        yield started


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 5.0, what: str = "") -> T:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def delivered(bot: Bot) -> list[int]:
    """Waits until every telegram outbox item is delivered; returns their attempt counts."""

    async def done() -> list[int] | None:
        items = await bot.runtime.outbox.items(channel="telegram")
        return [i.attempts for i in items] if items and all(i.status == "delivered" for i in items) else None

    return await eventually(done, what="the outbox to be delivered")


# -- the conversation -------------------------------------------------------------------------


async def test_photo_question_goes_through_the_guided_check_to_a_cited_answer(bot: Bot, kb: KnowledgeBase) -> None:
    chat = 1001
    sent = await bot.say(chat, "can i post a pic from sports day on fb?")
    question = sent[-1]
    assert question.text == html.escape(photo.QUESTIONS["oc"].text, quote=False)
    assert question.params["parse_mode"] == "HTML"
    assert question.actions == ["f:oc:yes", "f:oc:no", "f:oc:unsure"]

    sent = await bot.press(chat, question, "f:oc:yes")
    await bot.fake.wait_for(lambda: bot.fake.called("answerCallbackQuery"), what="answerCallbackQuery")
    event_question = sent[-1]
    assert event_question.actions == ["f:ev:yes", "f:ev:no"]
    sent = await bot.press(chat, event_question, "f:ev:yes")
    sent = await bot.press(chat, sent[-1], "f:pm:no")

    answer = sent[-1]
    outcome = kb.school(SCHOOL).answers["post_photo"].outcome_for(
        {"other_children": "yes", "school_event": "yes", "permission": "no"}
    )
    assert outcome is not None
    assert html.escape(outcome.text, quote=False) in answer.text
    title = kb.school(SCHOOL).sections[outcome.cites[0]].title
    assert f"📖 <b>{html.escape(title, quote=False)}</b>" in answer.text
    assert "<blockquote>" in answer.text and answer.buttons == []
    assert len(bot.fake.called("answerCallbackQuery")) == 3
    # each answered question's keyboard was taken off the message it was on
    await bot.fake.wait_for(lambda: len(bot.fake.called("editMessageReplyMarkup")) == 3, what="keyboards removed")
    edited = {int(c.params["message_id"]) for c in bot.fake.called("editMessageReplyMarkup")}
    assert edited == {question.result["message_id"], event_question.result["message_id"], sent[-2].result["message_id"]}


SUGGEST_PROBES = ("whatsapp group", "comment about a teacher", "facebook", "school", "teacher", "photo", "post", "rules")


def a_suggestion(bot: Bot, kb: KnowledgeBase) -> tuple[str, str]:
    """A message the engine answers with "did you mean" today, and an offered intent the school answers."""
    for probe in SUGGEST_PROBES:
        decision = bot.runtime.engine.understand(probe, audience="parent").decision
        answered = [i for i in decision.options if i in kb.school(SCHOOL).answers and not kb.intent(i).id.startswith("concern_")]
        if decision.verdict is Verdict.SUGGEST and answered:
            return probe, answered[0]
    raise AssertionError(f"none of {SUGGEST_PROBES} yields a suggestion with an answered option any more")


async def test_did_you_mean_offers_buttons_and_a_choice_answers_it(bot: Bot, kb: KnowledgeBase) -> None:
    probe, intent = a_suggestion(bot, kb)
    chat = 1002
    offer = (await bot.say(chat, probe))[-1]
    assert offer.text == html.escape(replies.did_you_mean(), quote=False)
    assert f"i:{intent}" in offer.actions and offer.actions[-1] == "none"

    answer = (await bot.press(chat, offer, f"i:{intent}"))[-1]
    school_answer = kb.school(SCHOOL).answers[intent]
    assert html.escape(" ".join(school_answer.text.split()[:8]), quote=False) in answer.text
    if school_answer.cites:
        assert f"📖 <b>{html.escape(kb.school(SCHOOL).sections[school_answer.cites[0]].title, quote=False)}</b>" in answer.text


async def test_a_concern_reaches_the_queue_and_the_office_reply_reaches_the_parent(bot: Bot, tmp_path: Path) -> None:
    chat = 1003
    consent = (await bot.say(chat, "my son is being bullied at lunchtime every day by two boys in his class"))[-1]
    contact = (await bot.press(chat, consent, "f:consent:yes"))[-1]
    lodged = (await bot.press(chat, contact, "f:contact:chat"))[-1]

    [concern] = await bot.runtime.concerns.for_user("telegram", str(chat))
    assert concern.ref in lodged.text
    assert (concern.category, concern.status, concern.chat_id, concern.urgent) == ("concern_bullying", "open", str(chat), False)

    # the office replies through the real CLI, on the same database file, from another thread
    result = await asyncio.to_thread(
        CliRunner().invoke, cli_app,
        ["queue", "reply", concern.ref, "We've spoken to the lunchtime staff & will call you.", "--as", "Mrs Patel"],
        env={"CHATBOT_DB": str(tmp_path / "t.db")},
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    sent = await bot.fake.wait_sent(chat, 4)
    assert f"The school has replied about your concern {concern.ref}" in sent[-1].text
    assert "lunchtime staff &amp; will call you." in sent[-1].text
    assert await delivered(bot) == [1]


async def test_an_urgent_message_gets_emergency_advice_and_an_urgent_concern(bot: Bot) -> None:
    chat = 1004
    reply = (await bot.say(chat, "someone is sending my daughter sexual messages and asked to meet her"))[-1]
    assert "999" in reply.text
    [concern] = await bot.runtime.concerns.for_user("telegram", str(chat))
    assert concern.urgent and concern.category == "concern_safeguarding"
    assert concern.ref in reply.text


async def test_the_same_update_delivered_twice_is_answered_once(bot: Bot) -> None:
    chat = 1005
    update = text_update(chat, "is it ok to moan about the school on facebook")
    bot.fake.push(update)
    bot.fake.push(update)  # Telegram sends it again: same update_id
    bot.fake.push(text_update(chat, "/privacy"))
    # one person's updates are handled in order, so once /privacy is answered the duplicate has been seen
    await bot.fake.wait_for(lambda: any("What I keep" in c.text for c in bot.fake.sent(chat)), what="privacy reply")
    texts = [c.text for c in bot.fake.sent(chat)]
    assert len(texts) == 2 and "📖" in texts[0]


async def test_commands_and_a_deep_link_choose_the_school(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    async with running(fake, tmp_path, kb, matcher, school=None) as bot:
        greeting = (await bot.say(1006, "/start orchard"))[-1]
        assert html.escape(replies.greeting(kb.school("orchard"), "parent"), quote=False) == greeting.text

        choice = (await bot.say(1007, "/start"))[-1]
        assert "s:roose" in choice.actions
        chosen = (await bot.press(1007, choice, "s:roose"))[-1]
        assert chosen.text == html.escape(replies.greeting(kb.school("roose"), "parent"), quote=False)

        privacy = (await bot.say(1007, f"/privacy@{BOT_USERNAME}"))[-1]
        assert privacy.text == html.escape(account_replies.privacy(kb.school("roose"), RetentionPolicy()), quote=False)
        assert "haven't raised any concerns" in (await bot.say(1007, "/concerns"))[-1].text
        assert "stopped that" in (await bot.say(1007, "/cancel"))[-1].text
        help_text = (await bot.say(1007, "/help"))[-1].text
        assert help_text == html.escape(replies.help_text(kb.school("roose"), "parent"), quote=False)
        forget = (await bot.say(1007, "/forget"))[-1]
        assert "Done: I've deleted" in (await bot.press(1007, forget, "forget:yes"))[-1].text
        assert "s:roose" in (await bot.say(1007, "hello"))[-1].actions  # the school was forgotten too
        commands = fake.called("setMyCommands")
        assert commands and "concerns" in commands[0].params["commands"]


async def test_one_school_bot_passes_its_school_and_ignores_deep_link_switches(bot: Bot, kb: KnowledgeBase) -> None:
    greeting = (await bot.say(1008, "/start orchard"))[-1]
    assert greeting.text == html.escape(replies.greeting(kb.school(SCHOOL), "parent"), quote=False)


# -- delivery: the outbox and the delivery loop -----------------------------------------------


async def _office_reply(bot: Bot, chat: int) -> str:
    concern = await bot.runtime.concerns.open(
        school_id=SCHOOL, channel="telegram", user_id=str(chat), chat_id=str(chat), audience="parent",
        category="concern_complaint", summary="a complaint", urgent=False,
    )  # fmt: skip
    await bot.runtime.concerns.reply(concern.ref, by="Mrs Patel", text="Thank you, we will call you on Monday.")
    return concern.ref


async def test_a_rate_limited_delivery_is_retried_after_retry_after(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    chat, clock = 1101, FrozenClock()
    async with running(fake, tmp_path, kb, matcher, clock=clock) as bot:
        bot.fake.rate_limit_next(chat, retry_after=7)
        ref = await _office_reply(bot, chat)

        async def waiting() -> list[datetime] | None:
            items = await bot.runtime.outbox.items(channel="telegram")
            return [i.next_attempt_at for i in items] if [i.status for i in items] == ["pending"] and items[0].attempts else None

        # the loop met the 429 and set the next try exactly Telegram's retry_after later, on the outbox's clock
        assert await eventually(waiting, what="the item to wait for its retry") == [clock.now + timedelta(seconds=7)]
        assert [c.status for c in bot.fake.sent(chat, ok=None)] == [429]
        clock.advance(7)
        await bot.fake.wait_sent(chat, 1)
        attempts = bot.fake.sent(chat, ok=None)
        assert [c.status for c in attempts] == [429, 200]
        assert ref in attempts[1].text
        assert await delivered(bot) == [2]


async def test_a_user_who_blocked_the_bot_makes_the_item_dead_and_tells_the_office(bot: Bot) -> None:
    chat, sentinel = 1102, 1105
    bot.fake.block(chat)
    ref = await _office_reply(bot, chat)

    async def dead() -> bool:
        return [i.status for i in await bot.runtime.outbox.items(channel="telegram")] == ["dead"]

    await eventually(dead, what="the item to be dead")
    office = [i for i in await bot.runtime.outbox.items(channel="office:st-lukes") if i.kind == "undeliverable"]
    assert [i.payload["ref"] for i in office] == [ref]
    # a blocked user's own message: the reply is refused too, quietly (no error, no apology)
    handled = (await bot.runtime.inbox.counts("telegram"))[InboxStatus.DONE]
    bot.fake.push(text_update(chat, "is it ok to moan about the school on facebook"))

    async def answered() -> bool:
        return (await bot.runtime.inbox.counts("telegram"))[InboxStatus.DONE] == handled + 1

    await eventually(answered, what="the blocked user's message to be handled")
    # sentinel: a later office reply to someone else gets through, so the delivery loop has run on since
    await _office_reply(bot, sentinel)
    await bot.fake.wait_sent(sentinel, 1)
    # no retry storm: over the whole test, one refused try for the office reply and one for the direct answer
    assert [c.status for c in bot.fake.sent(chat, ok=None)] == [403, 403]
    assert bot.naps == []

    async def recorded() -> bool:  # the fake sees the send a moment before the loop records it
        return [i.status for i in await bot.runtime.outbox.items(channel="telegram")] == ["dead", "delivered"]

    await eventually(recorded, what="the sentinel to be recorded delivered")


async def test_a_rate_limited_direct_reply_waits_once_and_is_sent(bot: Bot) -> None:
    chat = 1103
    bot.fake.rate_limit_next(chat, retry_after=9)
    bot.fake.push(text_update(chat, "is it ok to moan about the school on facebook"))
    await bot.fake.wait_sent(chat, 1, timeout=5)
    attempts = bot.fake.sent(chat, ok=None)
    assert [c.status for c in attempts] == [429, 200]
    assert bot.naps == [9.0]  # waited exactly as long as Telegram asked, once
    assert "📖" in attempts[1].text



async def test_other_answers_may_be_sent_while_a_refused_reply_waits(bot: Bot) -> None:
    """The sending lock is let go during a Retry-After wait: one parent's 429 does not hold up the rest."""
    chat = 1104
    locked_while_waiting: list[bool] = []

    async def wait(seconds: float) -> None:
        locked_while_waiting.append(bot.adapter.sending.locked())

    bot.adapter.sleep = wait
    bot.fake.rate_limit_next(chat, retry_after=9)
    bot.fake.push(text_update(chat, "is it ok to moan about the school on facebook"))
    await bot.fake.wait_sent(chat, 1, timeout=5)
    assert locked_while_waiting == [False]

async def test_a_hung_send_does_not_hold_up_another_parents_answer(bot: Bot) -> None:
    """A send that hangs gives its turn at the sending lock back; it is still sent once, not again."""
    stuck, other = 1105, 1106
    bot.adapter.slow_send = 0.1
    release = bot.fake.hang(stuck)
    bot.fake.push(text_update(stuck, "is it ok to moan about the school on facebook"))
    await bot.fake.wait_for(lambda: bot.fake.sent(stuck, ok=None), what="the hung send to arrive")
    bot.fake.push(text_update(other, "can I post a photo from sports day?"))
    await bot.fake.wait_sent(other, 1, timeout=4)  # well inside the client's 5 s timeout on the hung send
    assert not release.is_set()
    release.set()
    await bot.fake.wait_sent(stuck, 1)
    assert len(bot.fake.sent(stuck, ok=None)) == 1  # delivered by its one try: no retry, no double


# -- webhook mode -------------------------------------------------------------------------


async def test_the_webhook_checks_the_secret_on_every_request(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    secret = "s3cret_TOKEN-1"
    hook: dict[str, Any] = dict(mode="webhook", webhook_url="https://bot.example.org/telegram", webhook_secret=secret, webhook_port=0)
    async with running(fake, tmp_path, kb, matcher, **hook) as bot:
        assert (fake.webhook["url"], fake.webhook["secret_token"]) == ("https://bot.example.org/telegram", secret)
        address = bot.adapter.webhook_address
        assert address is not None
        url = f"http://127.0.0.1:{address[1]}/telegram"
        chat = 1201
        update = text_update(chat, "is it ok to moan about the school on facebook") | {"update_id": 50}
        async with aiohttp.ClientSession() as http:
            async def post(body: Any, headers: dict[str, str]) -> int:
                async with http.post(url, json=body, headers=headers) as response:
                    return response.status

            assert await post(text_update(chat, "/help") | {"update_id": 48}, {}) == 403
            assert await post(text_update(chat, "/help") | {"update_id": 49}, {SECRET_HEADER: secret + "x"}) == 403
            assert await post(["not", "an", "update"], {SECRET_HEADER: secret}) == 400
            assert await post(update, {SECRET_HEADER: secret}) == 200
            assert await post(update, {SECRET_HEADER: secret}) == 200  # a retried delivery
            assert await post(text_update(chat, "/privacy") | {"update_id": 51}, {SECRET_HEADER: secret}) == 200
        await fake.wait_for(lambda: any("What I keep" in c.text for c in fake.sent(chat)), what="privacy reply")
        texts = [c.text for c in fake.sent(chat)]
        assert len(texts) == 2 and "📖" in texts[0]
        assert not fake.called("getUpdates", ok=None)


# -- things the bot can't read ----------------------------------------------------------------


async def test_non_text_messages_get_a_kind_answer(bot: Bot) -> None:
    chat = 1301
    cases = [
        (photo_update(chat), replies.unsupported("photo")),
        (sticker_update(chat), replies.unsupported("sticker")),
        (voice_update(chat), replies.unsupported("voice")),
        (edited_update(chat, "can i post a pic from sports day on fb?"), replies.EDITED),
        (forwarded_update(chat, "can i post a pic from sports day on fb?"), replies.FORWARDED),
        (photo_update(chat, caption="can i post a pic from sports day on fb?"), photo.QUESTIONS["oc"].text),
    ]
    for number, (update, expected) in enumerate(cases, start=1):
        bot.fake.push(update)
        sent = await bot.fake.wait_sent(chat, number)
        assert sent[-1].text == html.escape(expected, quote=False)


async def test_a_forwarded_message_suggesting_a_child_at_risk_is_still_escalated(bot: Bot) -> None:
    chat = 1303
    bot.fake.push(forwarded_update(chat, "a man keeps messaging my daughter asking her to send photos of herself"))
    [sent] = await bot.fake.wait_sent(chat, 1)
    assert "999" in sent.text
    urgent = [c for c in await bot.runtime.concerns.list() if c.urgent]
    assert len(urgent) == 1 and urgent[0].channel == "telegram"


async def test_an_album_without_a_caption_is_answered_once(bot: Bot) -> None:
    chat = 1302
    for _ in range(3):
        bot.fake.push(photo_update(chat, media_group_id="album-1"))
    bot.fake.push(text_update(chat, "/privacy"))
    await bot.fake.wait_for(lambda: any("What I keep" in c.text for c in bot.fake.sent(chat)), what="privacy reply")
    assert len(bot.fake.sent(chat)) == 2


# -- group chats ------------------------------------------------------------------------------


async def test_a_group_chat_does_not_collect_concerns(bot: Bot, kb: KnowledgeBase) -> None:
    group, parent, other, worried = -100500, 501, 502, 503
    bullying = "my son is being bullied at lunchtime every day by two boys in his class"
    bot.fake.push({"message": message(group, user_id=parent, text=bullying)})  # not addressed to the bot
    bot.fake.push({"message": message(group, user_id=parent, new_chat_members=[user(BOT_ID) | {"is_bot": True}])})
    sent = await bot.say(group, f"@{BOT_USERNAME} {bullying}", user_id=parent)
    assert len(sent) == 1  # only the addressed message was answered
    private = sent[-1]
    assert private.text == html.escape(replies.GROUP_PRIVATE, quote=False)
    assert private.buttons == [{"text": "Message me privately", "url": f"https://t.me/{BOT_USERNAME}?start={SCHOOL}"}]
    assert '"message_id"' in private.params["reply_parameters"]
    assert await bot.runtime.concerns.for_user("telegram", str(parent)) == []
    conversation = await bot.runtime.engine.conversations.get("telegram", str(parent))
    assert not conversation.in_flow  # the intake it began was dropped: nothing waits for a "yes"

    # a policy question in reply to the bot is answered normally, with its citation
    answer = (await bot.say(group, "is it ok to moan about the school on facebook", user_id=other,
                            reply_to_message=private.result))[-1]  # fmt: skip
    assert "📖" in answer.text and "Message me privately" not in str(answer.buttons)

    # urgent: the emergency advice, no questions, and any later reply goes privately, never to the group
    urgent = (await bot.say(group, f"@{BOT_USERNAME} someone is sending my daughter sexual messages and asked to meet her",
                            user_id=worried))[-1]  # fmt: skip
    assert "999" in urgent.text and html.escape(replies.GROUP_URGENT, quote=False) in urgent.text
    assert [b.get("url") for b in urgent.buttons] == [f"https://t.me/{BOT_USERNAME}?start={SCHOOL}"]
    [concern] = await bot.runtime.concerns.for_user("telegram", str(worried))
    assert concern.urgent and concern.chat_id == str(worried)

    # /concerns in the group is redirected too; a command for another bot is ignored
    bot.fake.push({"message": message(group, user_id=other, text="/help@someone_else_bot")})
    redirected = (await bot.say(group, "/concerns", user_id=other))[-1]
    assert redirected.text == html.escape(replies.GROUP_PRIVATE, quote=False)
    assert len(bot.fake.sent(group)) == 4


# -- errors -----------------------------------------------------------------------------------


class Failing:
    """An engine stand-in that raises, to see what the parent gets when the core fails."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def handle(self, incoming: Incoming) -> Reply:
        raise self.error


async def test_a_user_error_is_shown_kindly(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    error = UnknownSchool("nowhere", ["orchard"])
    async with running(fake, tmp_path, kb, matcher, engine=Failing(error)) as bot:
        reply = (await bot.say(1401, "hello"))[-1]
        assert reply.text == html.escape(str(error), quote=False)


async def test_a_crash_is_logged_without_text_and_the_parent_gets_an_apology(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(fake, tmp_path, kb, matcher, engine=Failing(RuntimeError("boom"))) as bot:
        reply = (await bot.say(1402, "my secret question about Jane Smith"))[-1]
        assert reply.text == replies.APOLOGY
        assert bot.errors == []  # the core's error boundary caught it: nothing escaped into PTB
    assert "RuntimeError" in caplog.text and "Jane Smith" not in caplog.text


async def test_an_unknown_configured_school_is_refused(
    fake: FakeTelegramAPI, tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    settings = Settings(db_path=tmp_path / "t.db")
    async with open_runtime(settings, kb=kb, matcher=matcher) as runtime:
        with pytest.raises(ConfigError, match="nowhere"):
            TelegramAdapter(
                settings=telegram_settings(fake, school="nowhere"), engine=runtime.engine, inbox=runtime.inbox,
                schools=tuple(runtime.kb.schools),
            )  # fmt: skip


# -- rendering (pure) ---------------------------------------------------------------------------


def test_render_escapes_everything_and_fits_telegram_limits() -> None:
    long = ("Fish & chips <b>not bold</b> 😀 " * 400).strip()
    cite = Citation(school_id="x", section_id="s", title="Rules <&> you", text="Quote & <i>clause</i> " * 100)
    parts = render(Reply(text=long, citations=(cite,)))
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for p in parts)
    assert "<b>not bold</b>" not in "".join(parts) and "&lt;b&gt;not bold&lt;/b&gt;" in parts[0]
    assert "\n\n📖 <b>Rules &lt;&amp;&gt; you</b>\n<blockquote>Quote &amp; &lt;i&gt;clause" in parts[-1]
    assert parts[-1].endswith(" …</blockquote>")
    assert html.unescape(" ".join(split_text(long))) == long
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_keyboard_leaves_out_callback_data_over_64_bytes() -> None:
    markup = keyboard((Button(label="ok", action=PickIntent("post_photo")), Button(label="too long", action=PickIntent("x" * 65))))
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["i:post_photo"]]
    assert keyboard(()) is None


@pytest.mark.parametrize("status", [500, 502])
async def test_a_direct_reply_that_meets_server_errors_is_tried_again_and_sent_without_an_apology(
    bot: Bot, status: int
) -> None:
    chat = 1104
    bot.fake.fail("sendMessage", chat_id=chat, error_code=status, description="Internal Server Error", times=2)
    bot.fake.push(text_update(chat, "is it ok to moan about the school on facebook"))
    await bot.fake.wait_sent(chat, 1, timeout=10)
    attempts = bot.fake.sent(chat, ok=None)
    assert [c.status for c in attempts] == [status, status, 200]
    assert bot.naps == [0.25, 0.5]  # a short back-off, doubled
    assert "📖" in attempts[-1].text
    assert all(replies.APOLOGY not in c.text for c in bot.fake.sent(chat))
