"""The concern queue keeps the open-door promise: stored, audited, delivered, private."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from chatbot.calendar import WorkingCalendar
from chatbot.concerns import Concern, ConcernQueue, EmptyText, format_ref, parse_ref
from chatbot.config import OfficeHours
from chatbot.destinations import TELEGRAM
from chatbot.errors import ConcernConflict, ConcernNotFound, NotAllowed, UserError
from chatbot.outbox import Outbox, OutboxRecord, enqueue
from chatbot.retention import Forgotten, Retention
from chatbot.store import Store

FRIDAY_5PM = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)  # GMT: London time too
MONDAY_CLOSE = datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar(hours=OfficeHours())
SUMMARY = "Jane Doe posted a photo of my daughter Amy; call me on 07700 900123"


class Clock:
    def __init__(self, now: datetime = FRIDAY_5PM) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()




def make_queue(store: Store, clock: Clock) -> ConcernQueue:
    return ConcernQueue(store=store, calendars=lambda school_id: CALENDAR, clock=clock)


@pytest.fixture
def queue(store: Store, clock: Clock) -> ConcernQueue:
    return make_queue(store, clock)


@pytest.fixture
def retention(store: Store, clock: Clock) -> Retention:
    return Retention(store=store, clock=clock)


@pytest.fixture
def outbox(store: Store, clock: Clock) -> Outbox:
    return Outbox(store=store, clock=clock)


async def raise_concern(queue: ConcernQueue, user: str = "u1", **overrides: Any) -> Concern:
    fields: dict[str, Any] = dict(
        school_id="orchard", channel="telegram", user_id=user, chat_id=f"chat-{user}", audience="parent",
        category="concern_photo_removal", summary=SUMMARY, urgent=False,
    )  # fmt: skip
    fields.update(overrides)
    return await queue.open(**fields)


async def kinds(outbox: Outbox, channel: str | None = None) -> list[tuple[str, str]]:
    return [(i.channel, i.kind) for i in await outbox.items(channel=channel)]


# -- opening -----------------------------------------------------------------------------------


async def test_open_stores_the_concern_due_by_the_promise(queue: ConcernQueue, outbox: Outbox) -> None:
    concern = await raise_concern(queue, phone="07700 900123", contact_method="phone")
    assert concern.ref == "C-0001" and concern.status == "open"
    assert concern.created_at == FRIDAY_5PM and concern.due_at == MONDAY_CLOSE
    assert concern.phone == "07700 900123" and concern.consent is True and concern.urgent is False
    [item] = await outbox.items()
    assert (item.channel, item.kind, item.payload, item.key) == ("office:orchard", "concern_opened", {"ref": "C-0001"},
                                                                  "concern_opened:C-0001")  # fmt: skip
    [event] = await queue.events("C-0001")
    assert (event.actor, event.action) == ("telegram:u1", "opened")


async def test_urgent_concerns_are_due_at_once(queue: ConcernQueue, clock: Clock) -> None:
    concern = await raise_concern(queue, urgent=True)
    assert concern.due_at == clock() and concern.is_overdue(clock())


async def test_refs_are_padded_unique_and_grow(queue: ConcernQueue, store: Store) -> None:
    first, second = await raise_concern(queue), await raise_concern(queue)
    assert (first.ref, second.ref) == ("C-0001", "C-0002")
    await store.run(lambda db: db.execute("UPDATE counters SET value = 9999 WHERE name = 'concerns'"))
    assert (await raise_concern(queue)).ref == "C-10000"
    assert format_ref(42) == "C-0042"
    assert [parse_ref(t) for t in ("C-0042", "c-42", " 42 ", "C0042", "C-0000", "nope", "C-")] == [
        42, 42, 42, 42, None, None, None,
    ]  # fmt: skip


async def test_a_purged_ref_is_never_reused(queue: ConcernQueue, retention: Retention, clock: Clock) -> None:
    await raise_concern(queue)
    newest = await raise_concern(queue)
    await queue.resolve(newest.ref, by="office")
    clock.advance(days=1)
    assert (await retention.purge(resolved_before=clock())).concerns == 1
    assert (await raise_concern(queue)).ref == "C-0003"


async def test_concern_words_and_json(queue: ConcernQueue, clock: Clock) -> None:
    concern = await raise_concern(queue)
    assert concern.status_words() == "open, waiting for the office"
    data = concern.as_dict()
    assert json.loads(json.dumps(data))["due_at"] == "2026-11-23T16:30:00.000000+00:00"
    assert data["ref"] == "C-0001" and data["urgent"] is False
    assert not concern.is_overdue(clock()) and concern.is_overdue(MONDAY_CLOSE)


async def test_logs_hold_refs_never_text_names_or_numbers(
    queue: ConcernQueue, retention: Retention, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    concern = await raise_concern(queue, phone="07700 900123")
    await queue.reply(concern.ref, by="Mrs Patel", text="We have taken Amy's photo down")
    await retention.forget_user("telegram", "u1")
    assert "C-0001" in caplog.text
    for secret in ("Jane", "Amy", "07700", "Patel", "photo down"):
        assert secret not in caplog.text


# -- the claim race ----------------------------------------------------------------------------


async def test_two_people_claiming_at_once_from_two_processes(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "bot.db"
    store_a, store_b = Store(path=path), Store(path=path)
    await store_a.open()
    await store_b.open()
    try:
        alice_q, bob_q = make_queue(store_a, clock), make_queue(store_b, clock)
        for _ in range(20):
            concern = await raise_concern(alice_q)
            results = await asyncio.gather(
                alice_q.claim(concern.ref, by="Alice"), bob_q.claim(concern.ref, by="Bob"), return_exceptions=True
            )
            winners = [r for r in results if isinstance(r, Concern)]
            losers = [r for r in results if isinstance(r, BaseException)]
            assert len(winners) == 1 and len(losers) == 1
            winner = winners[0].claimed_by
            assert isinstance(losers[0], ConcernConflict)
            assert str(losers[0]) == f"{concern.ref} is already claimed by {winner}."
            stored = await bob_q.get(concern.ref)
            assert stored.claimed_by == winner and stored.status == "claimed"
            assert [e.action for e in await alice_q.events(concern.ref)] == ["opened", "claimed"]
    finally:
        await store_a.close()
        await store_b.close()


async def test_claiming_again_is_harmless_and_closed_ones_refuse(queue: ConcernQueue, outbox: Outbox) -> None:
    concern = await raise_concern(queue)
    await queue.claim(concern.ref, by="Alice")
    again = await queue.claim(concern.ref, by="Alice")
    assert again.claimed_by == "Alice"
    assert [e.action for e in await queue.events(concern.ref)] == ["opened", "claimed"]
    await queue.resolve(concern.ref, by="Alice")
    with pytest.raises(ConcernConflict, match="resolved; reopen it"):
        await queue.claim(concern.ref, by="Bob")
    with pytest.raises(ConcernNotFound):
        await queue.claim("C-0404", by="Bob")


# -- replies, notes, resolve, reopen ------------------------------------------------------------


async def test_a_reply_reaches_the_parents_channel(queue: ConcernQueue, outbox: Outbox) -> None:
    concern = await raise_concern(queue, channel="slack", user_id="U1", chat_id="D42")
    await queue.claim(concern.ref, by="Alice")
    replied = await queue.reply(concern.ref, by="Alice", text="  We've asked for it to be taken down.  ")
    assert replied.status == "replied"
    [message] = await outbox.items(channel="slack")
    assert message.kind == "message" and message.concern_id == concern.id
    assert message.payload["chat_id"] == "D42" and message.payload["ref"] == concern.ref
    assert "We've asked for it to be taken down." in message.payload["text"]
    assert await kinds(outbox, "office:orchard") == [("office:orchard", "concern_opened")] + [("office:orchard", "concern_updated")] * 2
    reply_event = (await queue.events(concern.ref))[-1]
    assert (reply_event.actor, reply_event.action, reply_event.detail) == (
        "Alice", "replied", "We've asked for it to be taken down.",
    )  # fmt: skip


async def test_an_unclaimed_reply_is_owned_by_whoever_replied(queue: ConcernQueue) -> None:
    concern = await raise_concern(queue)
    replied = await queue.reply(concern.ref, by="Bob", text="Thanks, we're on it.")
    assert replied.claimed_by == "Bob" and replied.status == "replied"


@pytest.mark.parametrize("closing", ["resolve", "withdraw"])
async def test_no_reply_to_a_closed_concern(queue: ConcernQueue, outbox: Outbox, closing: str) -> None:
    concern = await raise_concern(queue)
    if closing == "resolve":
        await queue.resolve(concern.ref, by="Alice")
    else:
        await queue.withdraw(concern.ref, channel="telegram", user_id="u1")
    before = await outbox.items()
    with pytest.raises(ConcernConflict, match="the reply was not sent"):
        await queue.reply(concern.ref, by="Alice", text="Hello")
    assert await outbox.items() == before


async def test_empty_replies_and_notes_are_user_errors(queue: ConcernQueue) -> None:
    concern = await raise_concern(queue)
    with pytest.raises(EmptyText, match="reply is empty"):
        await queue.reply(concern.ref, by="Alice", text="   ")
    with pytest.raises(EmptyText, match="note is empty"):
        await queue.note(concern.ref, by="Alice", text="")
    with pytest.raises(UserError):
        await queue.claim(concern.ref, by=" ")
    assert issubclass(EmptyText, UserError)


async def test_a_note_is_recorded_and_never_sent(queue: ConcernQueue, outbox: Outbox) -> None:
    concern = await raise_concern(queue)
    before = await outbox.items()
    noted = await queue.note(concern.ref, by="Alice", text="Spoke to the class teacher")
    assert noted.status == "open"
    assert (await queue.events(concern.ref))[-1].detail == "Spoke to the class teacher"
    assert await outbox.items() == before


async def test_resolve_tells_the_parent_and_reopen_restarts_the_promise(
    queue: ConcernQueue, outbox: Outbox, clock: Clock
) -> None:
    concern = await raise_concern(queue)
    await queue.claim(concern.ref, by="Alice")
    clock.advance(days=3)  # Monday 17:00
    resolved = await queue.resolve(concern.ref, by="Alice")
    assert resolved.status == "resolved" and resolved.resolved_at == clock()
    [notice] = await outbox.items(channel="telegram")
    assert notice.payload["chat_id"] == "chat-u1" and "resolved" in notice.payload["text"]
    with pytest.raises(ConcernConflict, match="already resolved"):
        await queue.resolve(concern.ref, by="Alice")

    reopened = await queue.reopen(concern.ref, by="Bob")
    assert reopened.status == "open" and reopened.claimed_by is None and reopened.resolved_at is None
    assert reopened.due_at == datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)
    with pytest.raises(ConcernConflict, match="nothing to reopen"):
        await queue.reopen(concern.ref, by="Bob")
    assert [(e.actor, e.action) for e in await queue.events(concern.ref)] == [
        ("telegram:u1", "opened"), ("Alice", "claimed"), ("Alice", "resolved"), ("Bob", "reopened"),
    ]  # fmt: skip
    assert [i.kind for i in await outbox.items(channel="office:orchard")] == ["concern_opened"] + ["concern_updated"] * 3


async def test_the_audit_trail_records_who_did_what_and_when(queue: ConcernQueue, clock: Clock) -> None:
    concern = await raise_concern(queue)
    steps = [
        ("claim", {"by": "Alice"}),
        ("note", {"by": "Alice", "text": "Checked the post"}),
        ("reply", {"by": "Alice", "text": "It has gone"}),
        ("resolve", {"by": "Bob"}),
    ]
    for name, kwargs in steps:
        clock.advance(minutes=5)
        await getattr(queue, name)(concern.ref, **kwargs)
    events = await queue.events(concern.ref)
    assert [(e.actor, e.action, e.detail) for e in events[1:]] == [
        ("Alice", "claimed", ""), ("Alice", "note", "Checked the post"),
        ("Alice", "replied", "It has gone"), ("Bob", "resolved", ""),
    ]  # fmt: skip
    assert [e.at for e in events] == [FRIDAY_5PM + timedelta(minutes=5 * n) for n in range(5)]
    assert all(e.ref == concern.ref for e in events)
    with pytest.raises(ConcernNotFound):
        await queue.events("C-0999")


# -- parents --------------------------------------------------------------------------------------


async def test_a_parent_sees_only_their_own(queue: ConcernQueue) -> None:
    mine = await raise_concern(queue, "u1", summary="mine")
    theirs = await raise_concern(queue, "u2")
    assert [c.ref for c in await queue.for_user("telegram", "u1")] == [mine.ref]
    assert (await queue.get_for_user(mine.ref, channel="telegram", user_id="u1")).summary == "mine"

    with pytest.raises(NotAllowed) as refused:
        await queue.get_for_user(theirs.ref, channel="telegram", user_id="u1")
    with pytest.raises(NotAllowed) as missing:
        await queue.get_for_user("C-0999", channel="telegram", user_id="u1")
    message = str(refused.value)
    for leak in ("u2", "chat-u2", "Jane", "photo", "open", "orchard"):
        assert leak not in message
    assert message == str(missing.value).replace("C-0999", theirs.ref)  # existence is not revealed
    with pytest.raises(NotAllowed):  # the same user id on another platform is another person
        await queue.get_for_user(mine.ref, channel="slack", user_id="u1")


async def test_a_parent_can_withdraw_only_their_own(queue: ConcernQueue, outbox: Outbox) -> None:
    mine = await raise_concern(queue, "u1")
    theirs = await raise_concern(queue, "u2")
    with pytest.raises(NotAllowed):
        await queue.withdraw(theirs.ref, channel="telegram", user_id="u1")
    assert (await queue.get(theirs.ref)).status == "open"

    withdrawn = await queue.withdraw(mine.ref.lower(), channel="telegram", user_id="u1")
    assert withdrawn.status == "withdrawn" and withdrawn.resolved_at is not None
    assert withdrawn.status_words() == "withdrawn"
    assert [i.kind for i in await outbox.items(channel="office:orchard")][-1] == "concern_updated"
    assert (await queue.events(mine.ref))[-1].actor == "telegram:u1"
    with pytest.raises(ConcernConflict, match="already withdrawn"):
        await queue.withdraw(mine.ref, channel="telegram", user_id="u1")


# -- the office's list and reminders ----------------------------------------------------------------


async def test_list_puts_urgent_first_then_due_time(queue: ConcernQueue, clock: Clock) -> None:
    later = await raise_concern(queue, "u1")  # due Monday 16:30
    clock.advance(hours=-2)  # Friday 15:00: due Monday 15:00
    sooner = await raise_concern(queue, "u2", school_id="roose")
    urgent = await raise_concern(queue, "u3", urgent=True)
    await queue.resolve(sooner.ref, by="Alice")
    assert [c.ref for c in await queue.list()] == [urgent.ref, sooner.ref, later.ref]
    assert [c.ref for c in await queue.list(status=["open"])] == [urgent.ref, later.ref]
    assert [c.ref for c in await queue.list(school_id="roose")] == [sooner.ref]
    assert [c.ref for c in await queue.list(overdue=True)] == [urgent.ref]
    with pytest.raises(UserError, match="Unknown status"):
        await queue.list(status=["lost"])


async def test_overdue_reminders_at_most_once_a_day(queue: ConcernQueue, outbox: Outbox, clock: Clock) -> None:
    overdue = await raise_concern(queue, "u1")
    answered = await raise_concern(queue, "u2")
    await queue.reply(answered.ref, by="Alice", text="Done")
    assert await queue.remind_overdue() == 0  # nothing is due before Monday 16:30

    clock.now = MONDAY_CLOSE + timedelta(minutes=1)
    assert await queue.remind_overdue() == 1
    assert await queue.remind_overdue() == 0
    clock.advance(hours=23)
    assert await queue.remind_overdue() == 0
    clock.advance(hours=1)
    assert await queue.remind_overdue() == 1
    reminders = await outbox.items(channel="office:orchard")
    assert [i.payload for i in reminders if i.kind == "concern_overdue"] == [{"ref": overdue.ref}] * 2
    assert (await queue.get(overdue.ref)).reminded_at == clock()


# -- retention and forgetting ----------------------------------------------------------------------


async def count(store: Store, table: str) -> int:
    return int(await store.run(lambda db: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]))


async def test_purge_deletes_old_closed_concerns_with_their_trail(
    queue: ConcernQueue, retention: Retention, store: Store, outbox: Outbox, clock: Clock
) -> None:
    old = await raise_concern(queue, "u1")
    gone = await raise_concern(queue, "u2")
    still_open = await raise_concern(queue, "u3")
    await queue.resolve(old.ref, by="Alice")
    await queue.withdraw(gone.ref, channel="telegram", user_id="u2")
    clock.advance(days=40)
    recent = await raise_concern(queue, "u4")
    await queue.resolve(recent.ref, by="Alice")

    assert (await retention.purge(resolved_before=clock() - timedelta(days=30))).concerns == 2
    assert [c.ref for c in await queue.list(status=None)] == [still_open.ref, recent.ref]
    for ref in (old.ref, gone.ref):
        with pytest.raises(ConcernNotFound):
            await queue.get(ref)
    refs_left = {i.payload.get("ref") for i in await outbox.items()}
    assert refs_left == {still_open.ref, recent.ref}
    assert await count(store, "events") == len(await queue.events(still_open.ref)) + len(await queue.events(recent.ref))


async def test_forget_user_deletes_everything_about_them(
    queue: ConcernQueue, retention: Retention, store: Store, outbox: Outbox, clock: Clock
) -> None:
    first = await raise_concern(queue, "u1")
    await raise_concern(queue, "u1")
    other = await raise_concern(queue, "u2")
    await queue.reply(first.ref, by="Alice", text="Hello")

    def extra(db: Database) -> None:
        db["conversations"].insert({"channel": "telegram", "user_id": "u1", "school_id": "orchard", "flow": "",
                                    "step": "", "data": "{}", "updated_at": "x"})  # fmt: skip
        db["conversations"].insert({"channel": "telegram", "user_id": "u2", "school_id": "orchard", "flow": "",
                                    "step": "", "data": "{}", "updated_at": "x"})  # fmt: skip
        enqueue(db, channel=TELEGRAM, kind="message", key="nudge-u1", payload={"chat_id": "chat-u1", "text": "hi"})
        enqueue(db, channel=TELEGRAM, kind="message", key="nudge-u2", payload={"chat_id": "chat-u2", "text": "hi"})

    await store.run(extra)
    counts = await retention.forget_user("telegram", "u1")
    # u1: events opened x2 + replied; outbox 2 concern_opened + reply + its office update + the unlinked nudge
    assert counts == Forgotten(concerns=2, events=3, outbox=5, conversations=1, kept=())
    assert await queue.for_user("telegram", "u1") == []
    assert [c.ref for c in await queue.list(status=None)] == [other.ref]
    assert {i.key for i in await outbox.items()} == {f"concern_opened:{other.ref}", "nudge-u2"}
    assert await count(store, "conversations") == 1
    assert await retention.forget_user("telegram", "u1") == Forgotten(
        concerns=0, events=0, outbox=0, conversations=0, kept=()
    )


# -- restarts ------------------------------------------------------------------------------------------


async def test_everything_survives_a_restart(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "bot.db"
    store = Store(path=path)
    queue = make_queue(store, clock)
    concern = await raise_concern(queue)
    await queue.claim(concern.ref, by="Alice")
    await queue.reply(concern.ref, by="Alice", text="On it")
    before_items = await Outbox(store=store, clock=clock).items()
    await store.close()

    reopened = Store(path=path)
    try:
        queue = make_queue(reopened, clock)
        again = await queue.get(concern.ref)
        assert again == (await queue.list(status=["replied"]))[0]
        assert (again.status, again.claimed_by, again.summary) == ("replied", "Alice", SUMMARY)
        assert [e.action for e in await queue.events(concern.ref)] == ["opened", "claimed", "replied"]
        after_items: list[OutboxRecord] = await Outbox(store=reopened, clock=clock).items()
        assert after_items == before_items and len(after_items) == 4
        assert (await raise_concern(queue, "u2")).ref == "C-0002"
    finally:
        await reopened.close()


async def test_forgetting_a_concern_shown_in_the_office_asks_the_office_to_blank_its_card(
    queue: ConcernQueue, retention: Retention, outbox: Outbox
) -> None:
    shown = await raise_concern(queue, "u1")
    await raise_concern(queue, "u1")  # never delivered to the office: nothing to blank
    [card] = [i for i in await outbox.items(channel="office:orchard") if i.payload.get("ref") == shown.ref]
    await outbox.mark_delivered(card.id)  # the office shows it (where is the adapter's business)

    await retention.forget_user("telegram", "u1")

    removed = [i for i in await outbox.items(channel="office:orchard") if i.kind == "concern_removed"]
    assert [i.payload for i in removed] == [{"ref": shown.ref}]  # just the ref: no summary, no platform detail


async def test_an_office_acting_for_one_school_cannot_touch_another_schools_concern(
    queue: ConcernQueue, outbox: Outbox
) -> None:
    orchard = await raise_concern(queue)
    roose = await raise_concern(queue, "u2", school_id="roose")
    assert [i.channel for i in await outbox.items()] == ["office:orchard", "office:roose"]
    before = await outbox.items()
    attempts = (
        queue.claim(orchard.ref, by="Roose office", school="roose"),
        queue.reply(orchard.ref, by="Roose office", text="hello", school="roose"),
        queue.note(orchard.ref, by="Roose office", text="hello", school="roose"),
        queue.resolve(orchard.ref, by="Roose office", school="roose"),
        queue.get(orchard.ref, school="roose"),
    )
    for attempt in attempts:
        with pytest.raises(ConcernNotFound, match=f"There is no concern {orchard.ref}"):
            await attempt
    assert [e.action for e in await queue.events(orchard.ref)] == ["opened"] and await outbox.items() == before
    assert (await queue.claim(roose.ref, by="Roose office", school="roose")).claimed_by == "Roose office"
