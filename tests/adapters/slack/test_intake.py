"""Slack requests survive a crash: stored in the inbox before the ack, done after handling, replayed at start.

Real slack-bolt over real HTTP with signed requests. A restart is a new adapter on
the same database; a handling failure (Slack refusing the answer) stands in for a
crash between the ack and the answer: either way the request is left pending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from adapters.slack import SlackAdapter
from chatbot.inbox import MAX_ATTEMPTS, InboxStatus
from chatbot.knowledge import KnowledgeBase
from chatbot.runtime import Runtime
from tests.adapters.slack.workspace import ASKED, QUESTION, TEACHER, Bot, answer_text, http_adapter, in_dm, texts
from tests.fakes.slack_api import RESPONSE_URL, FakeSlack


@asynccontextmanager
async def running(fake: FakeSlack, runtime: Runtime) -> AsyncIterator[tuple[Bot, SlackAdapter]]:
    """One run of the bot: started (replaying what the last run left), then stopped."""
    slack = http_adapter(fake, runtime)
    await slack.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Bot(url=f"http://127.0.0.1:{slack.http_port}/slack/events", session=session, fake=fake), slack
    finally:
        await slack.stop()  # waits for every listener still running


def tries(fake: FakeSlack, method: str = "chat.postMessage") -> int:
    return len([c for c in fake.attempts if c.method == method])


async def test_an_event_left_unanswered_is_answered_once_after_a_restart(
    fake: FakeSlack, runtime: Runtime, kb: KnowledgeBase
) -> None:
    fake.error("fatal_error", method="chat.postMessage")  # Slack refuses the answer: it is never posted
    async with running(fake, runtime) as (bot, _):
        assert await bot.event(ASKED, event_id="EvI1") == 200
        await fake.wait_for_attempts("chat.postMessage", 1)
        assert await bot.event(ASKED, event_id="EvI1", retry=1) == 200  # Slack's retry: already stored
    [stored] = await runtime.inbox.pending("slack")
    assert (stored.key, stored.attempts) == ("event:EvI1", 1)  # stored, and not done: it was never answered
    assert tries(fake) == 1  # the retry ran nothing

    fake.rules.clear()  # Slack is fine again
    async with running(fake, runtime):
        [post] = await fake.wait_for("chat.postMessage", where=in_dm)

    assert answer_text(kb) in texts(post.params["blocks"])
    assert len(fake.called("chat.postMessage", in_dm)) == 1
    counts = await runtime.inbox.counts("slack")
    assert (counts[InboxStatus.PENDING], counts[InboxStatus.DONE]) == (0, 1)
    assert (await runtime.inbox.pending("slack")) == []


async def test_a_slash_command_left_unanswered_is_answered_after_a_restart(
    fake: FakeSlack, runtime: Runtime, kb: KnowledgeBase
) -> None:
    fake.fail(1, status=404, method=RESPONSE_URL)  # not retried: the answer is lost
    async with running(fake, runtime) as (bot, _):
        assert await bot.command(user=TEACHER, channel="C0STAFFROOM", text=QUESTION, hook="late") == 200
        await fake.wait_for_attempts(RESPONSE_URL, 1)
    [stored] = await runtime.inbox.pending("slack")
    assert stored.key.startswith("command:")

    async with running(fake, runtime):
        [response] = await fake.wait_for_responses(1)

    assert response["_hook"] == "late" and answer_text(kb) in texts(response["blocks"])
    assert (await runtime.inbox.pending("slack")) == []


async def test_a_request_that_fails_every_time_is_set_aside_after_three_tries(
    fake: FakeSlack, runtime: Runtime
) -> None:
    fake.error("fatal_error", method="chat.postMessage")
    async with running(fake, runtime) as (bot, _):
        assert await bot.event(ASKED, event_id="EvI3") == 200
        await fake.wait_for_attempts("chat.postMessage", 1)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        async with running(fake, runtime):
            await fake.wait_for_attempts("chat.postMessage", attempt)

    async with running(fake, runtime):
        pass  # this start sets it aside instead of trying again

    assert tries(fake) == MAX_ATTEMPTS
    counts = await runtime.inbox.counts("slack")
    assert (counts[InboxStatus.PENDING], counts[InboxStatus.FAILED]) == (0, 1)


async def test_a_database_that_cannot_be_written_still_gets_the_request_handled(
    fake: FakeSlack, runtime: Runtime
) -> None:
    async with running(fake, runtime) as (bot, _):
        await runtime.store.run(lambda db: db.execute("PRAGMA query_only = 1"))  # as a read-only file behaves
        try:
            assert await bot.event(ASKED, event_id="EvI4") == 200
            [post] = await fake.wait_for("chat.postMessage", where=in_dm)
        finally:
            await runtime.store.run(lambda db: db.execute("PRAGMA query_only = 0"))

    assert post.params.get("blocks")  # answered from memory (the engine says what it can)
    assert sum((await runtime.inbox.counts("slack")).values()) == 0  # nothing could be stored


async def test_a_request_no_listener_takes_is_not_kept_pending(fake: FakeSlack, runtime: Runtime) -> None:
    async with running(fake, runtime) as (bot, _):
        reaction = {"type": "reaction_added", "user": TEACHER, "reaction": "thumbsup", "item": {"type": "message"}}
        assert await bot.event(reaction, event_id="EvI5") == 404  # Bolt's "unhandled request"

    counts = await runtime.inbox.counts("slack")
    assert (counts[InboxStatus.PENDING], counts[InboxStatus.DONE]) == (0, 1)  # not replayed at every start
