"""Direct answers to staff get through: a 429, a 5xx or a timeout is retried a bounded number of times.

Real slack-bolt and slack-sdk against the fake Slack. The pauses between tries go
through an injected sleep that only records them, so no test waits for real
(except the timeout test, which needs one real second for the client to give up).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.slack import SlackAdapter
from adapters.slack.answers import Pacing
from chatbot.knowledge import KnowledgeBase
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import ASKED, QUESTION, TEACHER, Bot, answer_text, http_adapter, in_dm, texts
from tests.fakes.slack_api import RESPONSE_URL, FakeSlack

@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def adapter(fake: FakeSlack, runtime: Runtime, sleeps: list[float]) -> AsyncIterator[SlackAdapter]:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    pacing = Pacing(timeout=1, sleep=record)
    slack = http_adapter(fake, runtime, pacing=pacing)
    await slack.start()
    yield slack
    await slack.stop()


def statuses(fake: FakeSlack, method: str) -> list[int]:
    return [c.status for c in fake.attempts if c.method == method]


def said(fake: FakeSlack) -> list[str]:
    """Everything the bot managed to say to anyone: answers, notes, apologies."""
    posted = [c.dump() for c in fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral")]
    return posted + [str(r) for r in fake.responses]


@pytest.mark.parametrize("seconds", [0, 1])
async def test_an_answer_that_meets_a_429_is_sent_again_after_retry_after(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, kb: KnowledgeBase, sleeps: list[float], seconds: int
) -> None:
    fake.ratelimit(retry_after=seconds, method="chat.postMessage")

    assert await bot.event(ASKED, event_id="EvR1") == 200

    [post] = await fake.wait_for("chat.postMessage", where=in_dm)
    await adapter.stop()  # every listener finished: nothing more will be said
    assert answer_text(kb) in texts(post.params["blocks"])
    assert statuses(fake, "chat.postMessage") == [429, 200]
    assert sleeps == [float(seconds)]  # waited as Slack asked, on the injected clock
    assert len(said(fake)) == 1  # the answer, and no apology after it


async def test_an_answer_that_meets_server_errors_is_sent_again(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, kb: KnowledgeBase, sleeps: list[float]
) -> None:
    fake.fail(2, method="chat.postMessage")

    assert await bot.event(ASKED, event_id="EvR2") == 200

    [post] = await fake.wait_for("chat.postMessage", where=in_dm)
    await adapter.stop()
    assert answer_text(kb) in texts(post.params["blocks"])
    assert statuses(fake, "chat.postMessage") == [500, 500, 200]
    assert sleeps == [0.5, 1.0]  # a short doubling pause
    assert len(said(fake)) == 1


async def test_an_answer_slack_does_not_take_in_time_is_sent_again_once(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, kb: KnowledgeBase, sleeps: list[float]
) -> None:
    fake.stall(method="chat.postMessage")  # lost on the way: no answer until the client gives up (1 s here)

    assert await bot.event(ASKED, event_id="EvR3") == 200

    [post] = await fake.wait_for("chat.postMessage", where=in_dm)
    await adapter.stop()
    assert answer_text(kb) in texts(post.params["blocks"])
    assert len(statuses(fake, "chat.postMessage")) == 2 and sleeps == [0.5]
    assert len(said(fake)) == 1  # answered once, and no apology after it


async def test_a_command_answer_on_response_url_is_sent_again_after_a_429(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, kb: KnowledgeBase, sleeps: list[float]
) -> None:
    fake.ratelimit(retry_after=1, method=RESPONSE_URL)
    fake.fail(1, status=503, method=RESPONSE_URL)

    assert await bot.command(user=TEACHER, channel="C0STAFFROOM", text=QUESTION) == 200

    [response] = await fake.wait_for_responses(1)
    await adapter.stop()
    assert answer_text(kb) in texts(response["blocks"]) and response["response_type"] == "ephemeral"
    assert statuses(fake, RESPONSE_URL) == [429, 503]
    assert sleeps == [1.0, 1.0]  # Retry-After, then the second pause of the doubling back-off
    assert len(said(fake)) == 1


async def test_retries_are_bounded_and_a_failed_answer_brings_no_apology(
    bot: Bot, adapter: SlackAdapter, fake: FakeSlack, sleeps: list[float]
) -> None:
    fake.fail(50, method="chat.postMessage")

    assert await bot.event(ASKED, event_id="EvR4") == 200

    await fake.wait_for_attempts("chat.postMessage", 4)
    await adapter.stop()  # the listener has given up by now
    assert statuses(fake, "chat.postMessage") == [500] * 4  # the first try and three more, no storm
    assert sleeps == [0.5, 1.0, 2.0]
    assert said(fake) == []
