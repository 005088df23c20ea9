"""Safeguarding records are kept; everything else goes when asked; unsent text expires."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chatbot import account_replies
from chatbot.config import RetentionPolicy, Settings, load_settings
from chatbot.conversations import Conversation, ConversationStore
from chatbot.errors import ConfigError, NotAllowed
from chatbot.knowledge import KnowledgeBase
from chatbot.understanding.fusion import FusedMatcher
from chatbot.messages import Audience, Incoming, InputKind, Reply
from chatbot.retention import Retention, years_before
from chatbot.runtime import Runtime, open_runtime
from chatbot.store import Store

AT_RISK = "a man keeps messaging my daughter on snapchat asking her to send pictures and meet him"
BULLYING = "my son is being picked on every day at lunchtime by two boys in his class and it is getting worse"


def say(text: str, user: str = "mum1") -> Incoming:
    return Incoming(channel="cli", user_id=user, chat_id=f"chat-{user}", school_id="orchard",
                    audience=Audience.PARENT, text=text)  # fmt: skip


def press(action: str, user: str = "mum1") -> Incoming:
    return Incoming(channel="cli", user_id=user, chat_id=f"chat-{user}", school_id="orchard",
                    audience=Audience.PARENT, kind=InputKind.ACTION, action=action)  # fmt: skip


def command(name: str, user: str = "mum1") -> Incoming:
    return Incoming(channel="cli", user_id=user, chat_id=f"chat-{user}", school_id="orchard",
                    audience=Audience.PARENT, kind=InputKind.COMMAND, command=name)  # fmt: skip


def button(reply: Reply, label_start: str) -> str:
    matches = [b.payload for b in reply.buttons if b.label.lower().startswith(label_start.lower())]
    assert matches, f"no button {label_start!r} in {[b.label for b in reply.buttons]}"
    return matches[0]


async def raise_bullying_concern(runtime: Runtime, user: str = "mum1") -> str:
    offer = await runtime.engine.handle(say(BULLYING, user))
    how = await runtime.engine.handle(press(button(offer, "yes"), user))
    lodged = await runtime.engine.handle(press(button(how, "reply here"), user))
    assert lodged.concern_ref is not None
    return lodged.concern_ref


async def table_count(store: Store, sql: str, params: list[str]) -> int:
    return int(await store.run(lambda db: db.execute(sql, params).fetchone()[0]))


# -- /forget keeps the safeguarding record ---------------------------------------------------------------


async def test_forget_keeps_an_urgent_report_its_trail_and_its_unsent_alert(runtime: Runtime) -> None:
    engine = runtime.engine
    urgent = await engine.handle(say(AT_RISK))
    assert urgent.urgent and urgent.concern_ref is not None
    ordinary = await raise_bullying_concern(runtime)
    alert_before = [i for i in await runtime.outbox.items(channel="office:orchard") if i.payload.get("ref") == urgent.concern_ref]
    assert [i.kind for i in alert_before] == ["concern_opened"] and alert_before[0].status == "pending"

    confirm = await engine.handle(command("forget"))
    assert urgent.concern_ref in confirm.text and "legal duty" in confirm.text
    done = await engine.handle(press(button(confirm, "yes")))

    assert urgent.concern_ref in done.text and "legal duty to keep child-protection records" in done.text
    assert "25 years" in done.text
    kept = await runtime.concerns.get(urgent.concern_ref)
    assert kept.summary == AT_RISK and kept.status == "open" and kept.safeguarding
    assert [e.action for e in await runtime.concerns.events(kept.ref)] == ["opened", "forget_refused"]
    alert_after = [i for i in await runtime.outbox.items(channel="office:orchard") if i.payload.get("ref") == kept.ref]
    assert alert_after[:1] == alert_before  # the unsent alert to the safeguarding lead is still waiting
    assert [c.ref for c in await runtime.concerns.for_user("cli", "mum1")] == [kept.ref]
    assert ordinary not in {c.ref for c in await runtime.concerns.list(status=None)}
    conversations = await table_count(runtime.store, "SELECT COUNT(*) FROM conversations WHERE user_id = ?", ["mum1"])
    assert conversations == 0


async def test_forget_without_a_safeguarding_report_deletes_everything(runtime: Runtime) -> None:
    await raise_bullying_concern(runtime)
    confirm = await runtime.engine.handle(command("forget"))
    assert "can't delete" not in confirm.text
    done = await runtime.engine.handle(press(button(confirm, "yes")))
    assert done.text == account_replies.forgotten(runtime.kb.school("orchard"), (), runtime.retention.policy)
    assert await runtime.concerns.for_user("cli", "mum1") == []
    events = await table_count(runtime.store, "SELECT COUNT(*) FROM events", [])
    assert events == 0


async def test_a_safeguarding_report_cannot_be_withdrawn(runtime: Runtime) -> None:
    urgent = await runtime.engine.handle(say(AT_RISK))
    ordinary = await raise_bullying_concern(runtime)
    assert urgent.concern_ref is not None

    status = await runtime.engine.handle(command("concerns"))
    assert urgent.concern_ref in status.text
    assert [b.payload for b in status.buttons] == [f"w:{ordinary}"]  # no withdraw button for the report

    refused = await runtime.engine.handle(press(f"w:{urgent.concern_ref}"))
    assert "can't be withdrawn" in refused.text and "legal duty" in refused.text
    with pytest.raises(NotAllowed, match="can't be withdrawn"):
        await runtime.concerns.withdraw(urgent.concern_ref, channel="cli", user_id="mum1")
    assert (await runtime.concerns.get(urgent.concern_ref)).status == "open"
    office_queue = await runtime.concerns.list(status=["open"], school_id="orchard")
    assert urgent.concern_ref in {c.ref for c in office_queue}
    withdrawn = await runtime.engine.handle(press(f"w:{ordinary}"))
    assert "has been withdrawn" in withdrawn.text


async def test_a_report_confirmed_at_the_check_is_kept_like_an_urgent_one(runtime: Runtime) -> None:
    """Choosing "a child may be at risk" (the check's yes, or the intent's button) escalates as urgent."""
    reply = await runtime.engine.handle(press("i:concern_safeguarding"))
    assert reply.urgent and reply.concern_ref is not None
    forgotten = await runtime.retention.forget_user("cli", "mum1")
    assert forgotten.kept == (reply.concern_ref,) and forgotten.concerns == 0


# -- the bulk purge ----------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_bulk_purge_keeps_safeguarding_records_unless_told_and_past_retention(runtime: Runtime) -> None:
    urgent = await runtime.engine.handle(say(AT_RISK))
    ordinary = await raise_bullying_concern(runtime, user="dad2")
    assert urgent.concern_ref is not None
    for ref in (urgent.concern_ref, ordinary):
        await runtime.concerns.resolve(ref, by="Mrs Shah")
    later = datetime.now(timezone.utc) + timedelta(days=1)

    purged = await runtime.retention.purge(resolved_before=later)
    assert (purged.concerns, purged.safeguarding, purged.safeguarding_kept) == (1, 0, 1)
    assert (await runtime.concerns.get(urgent.concern_ref)).status == "resolved"

    flagged = await runtime.retention.purge(resolved_before=later, include_safeguarding=True)
    assert (flagged.concerns, flagged.safeguarding_kept) == (0, 1)  # closed today: well inside 25 years

    policy = runtime.retention.policy
    far_future = Retention(store=runtime.store, policy=policy, clock=Clock(later + timedelta(days=366 * 25)))
    assert (await far_future.purge(resolved_before=far_future.clock())).safeguarding_kept == 1  # still no flag
    gone = await far_future.purge(resolved_before=far_future.clock(), include_safeguarding=True)
    assert (gone.concerns, gone.safeguarding, gone.safeguarding_kept) == (1, 1, 0)
    assert await runtime.concerns.list(status=None) == []


def test_years_before_handles_leap_days() -> None:
    assert years_before(datetime(2028, 2, 29, tzinfo=timezone.utc), 25) == datetime(2003, 2, 28, tzinfo=timezone.utc)
    assert years_before(datetime(2026, 6, 1, tzinfo=timezone.utc), 25) == datetime(2001, 6, 1, tzinfo=timezone.utc)


# -- unsent text expires -------------------------------------------------------------------------------------


async def test_unsent_concern_text_is_cleared_after_a_day(runtime: Runtime) -> None:
    offer = await runtime.engine.handle(say(BULLYING))
    assert offer.buttons  # the consent question: the text waits in the conversation
    conversations = ConversationStore(store=runtime.store)
    assert (await conversations.get("cli", "mum1")).data["summary"] == BULLYING

    now = datetime.now(timezone.utc)
    assert await Retention(store=runtime.store, clock=Clock(now + timedelta(hours=23))).expire_unsent_text() == 0
    assert await Retention(store=runtime.store, clock=Clock(now + timedelta(hours=25))).expire_unsent_text() == 1

    after = await conversations.get("cli", "mum1")
    assert after == Conversation(channel="cli", user_id="mum1", school_id="orchard", audience="parent")
    raw = await runtime.store.run(lambda db: list(db.query("SELECT data, flow FROM conversations")))
    assert BULLYING not in json.dumps(raw)
    late = await runtime.engine.handle(press(button(offer, "yes")))
    assert "expired" in late.text  # the old button no longer lodges anything
    assert await runtime.concerns.for_user("cli", "mum1") == []


async def test_expiry_follows_the_configured_hours(store: Store) -> None:
    conversations = ConversationStore(store=store)
    await conversations.save(Conversation(channel="t", user_id="u", school_id="orchard").at("intake", "describe"))
    now = datetime.now(timezone.utc)
    short = RetentionPolicy(unsent_text_hours=2)
    assert await Retention(store=store, policy=short, clock=Clock(now + timedelta(hours=1))).expire_unsent_text() == 0
    assert await Retention(store=store, policy=short, clock=Clock(now + timedelta(hours=3))).expire_unsent_text() == 1


# -- /privacy says what the code does --------------------------------------------------------------------------


async def test_privacy_states_the_configured_retention(settings: Settings, kb: KnowledgeBase, matcher: FusedMatcher) -> None:
    policy = RetentionPolicy(unsent_text_hours=48, safeguarding_years=30)
    async with open_runtime(replace(settings, retention=policy), kb=kb, matcher=matcher) as rt:
        text = (await rt.engine.handle(command("privacy"))).text
    assert "after 2 days at most" in text and "30 years after they are closed" in text
    assert "Only that school's office staff see it" in text and kb.school("orchard").name in text
    assert "/forget" in text and "never hold your messages" in text


def test_retention_is_read_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "chatbot.yaml"
    config.write_text("retention: {unsent_text_hours: 12, safeguarding_years: 40}\n")
    assert load_settings(config, env={}).retention == RetentionPolicy(unsent_text_hours=12, safeguarding_years=40)
    assert load_settings(env={"CHATBOT_CONFIG": str(tmp_path / "absent.yaml")}).retention == RetentionPolicy()
    config.write_text("retention: {safeguarding_years: 0}\n")
    with pytest.raises(ConfigError, match="safeguarding_years"):
        load_settings(config, env={})
    config.write_text("retention: {unsent_text_hours: soon}\n")
    with pytest.raises(ConfigError, match="must be numbers"):
        load_settings(config, env={})
