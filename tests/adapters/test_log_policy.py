"""No secret and no personal text in any log line, at the most verbose level.

A realistic session runs through the real adapters and libraries against the fakes:
parents on Telegram (a question, a concern with a phone number, an urgent report),
staff and the office on Slack (a question, /policy, claim, reply), plus a forged
Slack request and one signed too long ago, whose bodies Bolt would log. Every logger,
the libraries' included, is set to DEBUG. A second handler without the policy sees
the same records, to prove the needles would be caught if they leaked.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from adapters.log_policy import PHONE, Redactor, capturing
from adapters.serve import delivering
from adapters.slack import SlackAdapter
from adapters.slack import cards
from chatbot.knowledge import KnowledgeBase
from chatbot.understanding.fusion import FusedMatcher
from tests.adapters.slack.workspace import (
    FAST,
    FORM,
    OFFICE_CHANNEL,
    OFFICE_MEMBER,
    TEACHER,
    TEACHER_DM,
    Bot as SlackBot,
    card_for,
    slack_settings,
)
from tests.adapters.telegram.test_adapter import running
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, interactive_body, view_submission
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

PARENT = 7401
PHOTO_QUESTION = "Can I post the photo of Amelia Thornton from sports day on Facebook?"
CONCERN = "my son is being picked on every day at lunchtime by Jaxon Whitfield, who posts cruel memes about him"
PHONE_NUMBER = "07700 900461"
URGENT = "Persephone told me a man called Desmond keeps messaging her asking for photos and to meet up"
STAFF_QUESTION = "can I accept a friend request from Ottoline Barraclough, a parent in my class?"
OFFICE_REPLY = "Mrs Quennell will ring you this afternoon about the memes."
FORGED = "my phone is 07700 900733 and Bartholomew Finch is the one doing it"
NEEDLES = (
    "Amelia", "Thornton", "Jaxon", "Whitfield", "cruel memes", "Persephone", "Desmond", "Ottoline", "Barraclough",
    "Quennell", "ring you this afternoon", "Bartholomew", "Finch", "07700", "900461", "900733",
    TOKEN, BOT_TOKEN, APP_TOKEN, SIGNING_SECRET,
)  # fmt: skip


async def telegram_session(tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher) -> None:
    fake = FakeTelegramAPI()
    await fake.start()
    try:
        async with running(fake, tmp_path, kb, matcher) as bot:
            await bot.say(PARENT, PHOTO_QUESTION)
            await bot.say(PARENT, "/cancel")
            offer = (await bot.say(PARENT, CONCERN))[-1]
            how = (await bot.press(PARENT, offer, "f:consent:yes"))[-1]
            ask_number = (await bot.press(PARENT, how, "f:contact:phone"))[-1]
            assert "number" in ask_number.text
            lodged = (await bot.say(PARENT, PHONE_NUMBER))[-1]
            assert "C-0001" in lodged.text
            urgent = (await bot.say(PARENT, URGENT))[-1]
            assert "999" in urgent.text
    finally:
        await fake.close()


async def slack_session(tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher) -> None:
    from chatbot.config import Settings
    from chatbot.runtime import open_runtime

    fake = FakeSlack()
    fake.members[OFFICE_CHANNEL] = ["UBOT0001", OFFICE_MEMBER]
    await fake.start()
    try:
        async with open_runtime(Settings(db_path=tmp_path / "slack.db"), kb=kb, matcher=matcher) as runtime:
            adapter = SlackAdapter(settings=slack_settings(fake), runtime=runtime, http_port=unused_port(), timing=FAST)
            await adapter.start()
            try:
                async with delivering(runtime.outbox, [adapter]), aiohttp.ClientSession() as session:
                    bot = SlackBot(url=f"http://127.0.0.1:{adapter.http_port}/slack/events", session=session, fake=fake)
                    event = {"type": "message", "channel_type": "im", "channel": TEACHER_DM, "user": TEACHER,
                             "text": STAFF_QUESTION, "ts": "1700000001.000100"}  # fmt: skip
                    assert await bot.event(event, event_id="Ev0LOG1") == 200
                    await fake.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == TEACHER_DM)
                    assert await bot.command(user=TEACHER, channel="C0STAFF", text=STAFF_QUESTION) == 200
                    await fake.wait_for_responses(1)

                    concern = await runtime.concerns.open(
                        school_id="st-lukes", channel="telegram", user_id="tg-1", chat_id="tg-1", audience="parent",
                        category="concern_bullying", summary=CONCERN, urgent=False, contact_method="phone",
                        phone=PHONE_NUMBER,
                    )  # fmt: skip
                    card = await card_for(fake, concern.ref)
                    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.CLAIM, value=concern.ref, card=card) == 200
                    assert await bot.press(user=OFFICE_MEMBER, action_id=cards.REPLY, value=concern.ref, card=card) == 200
                    [opened] = await fake.wait_for("views.open")
                    values = {cards.TEXT_BLOCK: {cards.TEXT_INPUT: OFFICE_REPLY}}
                    submission = view_submission(user=OFFICE_MEMBER, view=opened.params["view"], values=values)
                    assert (await bot.interact(submission))[0] == 200

                    # Anyone can post to the endpoint: Bolt logs a failed signature's whole body.
                    forged = interactive_body(view_submission(
                        user=TEACHER, view=opened.params["view"], values={cards.TEXT_BLOCK: {cards.TEXT_INPUT: FORGED}}
                    ))  # fmt: skip
                    assert (await bot.post(forged, content_type=FORM, secret="not-the-secret"))[0] == 401
                    late = int(time.time()) - 600  # a button pressed, or a request replayed, too late
                    assert (await bot.post(forged, content_type=FORM, timestamp=late))[0] == 401
                    assert [e.detail for e in await runtime.concerns.events(concern.ref) if e.action == "replied"] == [
                        OFFICE_REPLY
                    ]
            finally:
                await adapter.stop()
    finally:
        await fake.close()


async def test_a_verbose_session_logs_no_text_names_numbers_or_tokens(
    tmp_path: Path, kb: KnowledgeBase, matcher: FusedMatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    kept, raw = io.StringIO(), io.StringIO()
    policed, unpoliced = logging.StreamHandler(kept), logging.StreamHandler(raw)
    logging.getLogger().addHandler(unpoliced)
    try:
        with capturing(policed, secrets=[TOKEN, BOT_TOKEN, APP_TOKEN, SIGNING_SECRET]):
            await telegram_session(tmp_path, kb, matcher)
            await slack_session(tmp_path, kb, matcher)
    finally:
        logging.getLogger().removeHandler(unpoliced)

    log, control = kept.getvalue(), raw.getvalue()
    assert "concern C-0001 opened" in log and "urgent concern" in log  # the policed log still tells the story
    leaked_without_policy = [n for n in NEEDLES if n in control]
    assert {TOKEN, "Bartholomew", "cruel memes", "Persephone", "900461"} <= set(leaked_without_policy)
    assert [n for n in NEEDLES if n in log] == []
    assert PHONE.search(log) is None


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("POST https://api.telegram.org/bot7012345678:AAHk3xQ9fZ_pLmN0vR8sT2uW4yB6cD1eF3g/getMe", "7012345678"),
        ("auth xoxb-1234-5678-AbCdEfGhIjKl", "xoxb-1234"),
        ("socket xapp-1-A0APP-123-abcdef", "xapp-1"),
        ("ring me on +44 7700 900123 please", "7700"),
        ("or 020 7946 0958", "7946"),
        ("or 07700900123", "07700900123"),
    ],
)
def test_tokens_and_phone_numbers_are_masked_in_any_record(text: str, masked: str) -> None:
    record = logging.LogRecord("chatbot.x", logging.ERROR, __file__, 1, "%s", (text,), None)
    assert Redactor().filter(record)
    assert masked not in record.getMessage()


def test_refs_ids_and_counts_survive_masking() -> None:
    text = "turn channel=telegram school=orchard intent=post_photo concern C-0042 update 123456789 took 12.5 ms"
    record = logging.LogRecord("chatbot.engine", logging.INFO, __file__, 1, text, None, None)
    assert Redactor().filter(record) and record.getMessage() == text


def test_a_library_below_warning_is_dropped_and_a_body_is_cut() -> None:
    quiet = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: POST %s", ("x",), None)
    assert not Redactor().filter(quiet)
    body = "A global middleware (m) skipped calling either `next()` without providing a response for the request ({'text': 'hi'})"
    loud = logging.LogRecord("adapters.slack.bolt:AsyncApp", logging.WARNING, __file__, 1, body, None, None)
    assert Redactor().filter(loud) and "hi" not in loud.getMessage().split("skipped")[1]


def test_serve_logging_filters_every_record_and_knows_the_configured_secrets() -> None:
    from dataclasses import replace

    from adapters.log_policy import CHATTY_LIBRARIES, configure_logging, platform_secrets
    from chatbot.config import Settings

    settings = replace(Settings(), platforms={
        "telegram": {"token": "555000:live-token-value", "webhook_secret": "hook-secret-value"},
        "slack": {"bot_token": "xoxb-live", "signing_secret": "sign-secret-value", "office_channel": "C0OFFICE"},
    })  # fmt: skip
    secrets = set(platform_secrets(settings)) - {None}
    assert {"555000:live-token-value", "hook-secret-value", "xoxb-live", "sign-secret-value"} <= secrets

    root = logging.getLogger()
    before, root_level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    try:
        configure_logging(verbose=True, secrets=secrets)
        [added] = [h for h in root.handlers if h not in before]
        assert root.level == logging.DEBUG and logging.getLogger("httpx").level == logging.WARNING
        record = logging.LogRecord("chatbot.x", logging.INFO, __file__, 1, "sig %s", ("sign-secret-value",), None)
        assert added.filter(record) and record.getMessage() == "sig [redacted]"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
