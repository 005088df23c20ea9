"""The outbox delivers at least once, enqueues once, and never loses an item to a channel that is down."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from chatbot.destinations import OFFICE_PREFIX, SLACK, TELEGRAM, Destination, Kind
from chatbot.errors import RetryLater, Undeliverable
from chatbot.messages import OutboxItem
from chatbot.outbox import DeliveryLoop, Outbox, enqueue, is_office, office_for, school_of, write_transaction
from chatbot.store import Store

START = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SECRET = "my son Tom Smith, 07700 900123"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()




@pytest.fixture
def outbox(store: Store, clock: Clock) -> Outbox:
    return Outbox(store=store, clock=clock)


async def add(store: Store, clock: Clock, key: str, *, channel: Destination = TELEGRAM, **payload: str) -> bool:
    body = {"chat_id": "42", "text": SECRET, "ref": "C-0001", **payload}

    def go(db: Database) -> bool:
        with write_transaction(db):
            return enqueue(db, channel=channel, kind="message", key=key, payload=body, now=clock())

    return await store.run(go)


async def test_a_key_is_enqueued_once(store: Store, outbox: Outbox, clock: Clock) -> None:
    assert await add(store, clock, "k1") is True
    assert await add(store, clock, "k1") is False
    assert [i.key for i in await outbox.items()] == ["k1"]
    assert await outbox.pending_count(TELEGRAM) == 1
    assert await outbox.pending_count(SLACK) == 0


async def test_an_item_rolls_back_with_its_transaction(store: Store, outbox: Outbox, clock: Clock) -> None:
    def failing_change(db: Database) -> None:
        with write_transaction(db):
            enqueue(db, channel=office_for(None), kind="concern_opened", key="k", payload={"ref": "C-0001"}, now=clock())
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await store.run(failing_change)
    assert await outbox.items() == []


async def test_claim_leases_and_a_lease_expires(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1")
    [first] = await outbox.claim_due(TELEGRAM, limit=10, lease_seconds=30)
    assert first.attempts == 1 and first.payload["chat_id"] == "42"
    [record] = await outbox.items()
    assert record.status == "sending" and record.lease_until == START + timedelta(seconds=30)

    clock.advance(29)
    assert await outbox.claim_due(TELEGRAM, limit=10, lease_seconds=30) == []  # still leased
    clock.advance(2)  # the process holding it crashed: the lease runs out
    [again] = await outbox.claim_due(TELEGRAM, limit=10, lease_seconds=30)
    assert again.id == first.id and again.attempts == 2


async def test_other_channels_are_not_claimed(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1", channel=SLACK)
    assert await outbox.claim_due(TELEGRAM, limit=10, lease_seconds=30) == []
    assert len(await outbox.claim_due(SLACK, limit=10, lease_seconds=30)) == 1


async def test_two_processes_never_claim_the_same_item(tmp_path: Path, clock: Clock) -> None:
    stores = [Store(path=tmp_path / "bot.db"), Store(path=tmp_path / "bot.db")]
    await stores[0].open()
    await stores[1].open()
    try:
        for n in range(60):
            await add(stores[0], clock, f"k{n}")
        a, b = (Outbox(store=s, clock=clock) for s in stores)
        batches = await asyncio.gather(
            *(box.claim_due(TELEGRAM, limit=7, lease_seconds=60) for box in (a, b, a, b, a, b))
        )
        ids = [item.id for batch in batches for item in batch]
        assert len(ids) == 42 and len(set(ids)) == 42
    finally:
        for s in stores:
            await s.close()


async def test_a_failing_channel_delays_delivery_and_delivers_exactly_once(
    store: Store, outbox: Outbox, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await add(store, clock, "k1")
    calls: list[OutboxItem] = []

    async def flaky(item: OutboxItem) -> None:
        calls.append(item)
        if len(calls) <= 3:
            raise ConnectionError(f"could not send {item.payload['text']}")

    loop = DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=flaky, base_delay=1.0, max_delay=300.0)
    caplog.set_level(logging.DEBUG)
    waits = []
    for _ in range(3):
        assert await loop.run_once() == 0
        [record] = await outbox.items()
        assert record.status == "pending"
        assert record.last_error == "ConnectionError"  # the class only: the message quoted the text
        waits.append((record.next_attempt_at - clock()).total_seconds())
        clock.advance(waits[-1] - 0.001)
        assert await loop.run_once() == 0  # not due yet: no attempt
        clock.advance(0.001)
    assert waits == [1.0, 2.0, 4.0]
    assert await loop.run_once() == 1
    assert await loop.run_once() == 0
    [record] = await outbox.items()
    assert record.status == "delivered" and record.attempts == 4 and record.delivered_at == clock()
    assert [c.attempts for c in calls] == [1, 2, 3, 4]
    assert await outbox.pending_count() == 0
    assert SECRET not in caplog.text and "Tom" not in caplog.text
    assert "ConnectionError" in caplog.text


async def test_backoff_doubles_up_to_the_cap(outbox: Outbox) -> None:
    async def never(item: OutboxItem) -> None:
        raise AssertionError

    loop = DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=never, base_delay=2.0, max_delay=60.0)
    assert [loop.backoff(n) for n in (1, 2, 3, 4, 5, 6, 100)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


async def test_retry_later_is_honoured(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1")

    async def rate_limited(item: OutboxItem) -> None:
        raise RetryLater(f"flood control while sending {item.payload['text']}", after=42)

    loop = DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=rate_limited, base_delay=1.0)
    await loop.run_once()
    [record] = await outbox.items()
    assert record.next_attempt_at == START + timedelta(seconds=42)
    assert record.last_error is not None and record.last_error.startswith("RetryLater: flood control")
    assert SECRET not in record.last_error


async def test_undeliverable_marks_dead_and_tells_the_office(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1", ref="C-0007")

    async def blocked(item: OutboxItem) -> None:
        raise Undeliverable("bot was blocked by the user")

    assert await DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=blocked).run_once() == 0
    [dead] = await outbox.items(status="dead")
    assert dead.key == "k1" and dead.last_error == "Undeliverable: bot was blocked by the user"
    [notice] = await outbox.items(channel="office")
    assert notice.kind == "undeliverable" and notice.status == "pending"
    assert notice.payload == {"ref": "C-0007", "channel": "telegram", "kind": "message"}
    assert await outbox.claim_due(TELEGRAM, limit=10, lease_seconds=30) == []  # never retried


async def test_an_undeliverable_office_item_does_not_notify_itself(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1", channel=office_for(None))

    async def gone(item: OutboxItem) -> None:
        raise Undeliverable("channel_not_found")

    await DeliveryLoop(outbox=outbox, destination=office_for(None), deliver=gone).run_once()
    assert [(i.key, i.status) for i in await outbox.items()] == [("k1", "dead")]


async def test_run_once_drains_several_batches(store: Store, outbox: Outbox, clock: Clock) -> None:
    for n in range(25):
        await add(store, clock, f"k{n}")
    seen: list[str] = []

    async def deliver(item: OutboxItem) -> None:
        seen.append(item.key)

    assert await DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=deliver, batch=10).run_once() == 25
    assert seen == [f"k{n}" for n in range(25)]  # oldest first


async def test_a_late_retry_does_not_undo_a_delivery(store: Store, outbox: Outbox, clock: Clock) -> None:
    await add(store, clock, "k1")
    [item] = await outbox.claim_due(TELEGRAM, limit=1, lease_seconds=30)
    await outbox.mark_delivered(item.id)
    await outbox.mark_retry(item.id, error="TimeoutError", after_seconds=5)
    [record] = await outbox.items()
    assert record.status == "delivered"


async def test_run_delivers_in_the_background_until_stopped(store: Store, clock: Clock) -> None:
    outbox = Outbox(store=store)  # real time
    delivered = asyncio.Event()

    async def deliver(item: OutboxItem) -> None:
        delivered.set()

    stop = asyncio.Event()
    loop = DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=deliver, idle_sleep=0.01)
    task = asyncio.create_task(loop.run(stop))
    await add(store, _RealClock(), "k1")
    await asyncio.wait_for(delivered.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert [i.status for i in await outbox.items()] == ["delivered"]


class _RealClock(Clock):
    def __call__(self) -> datetime:
        return datetime.now(timezone.utc)


def test_a_destination_is_stored_as_the_text_older_rows_hold() -> None:
    for text in ("telegram", "slack", "console", "cli", "office", "office:st-lukes"):
        assert str(Destination.parse(text)) == text
    assert Destination.parse("office:orchard") == office_for("orchard") == Destination(Kind.OFFICE, "orchard")
    assert str(office_for("orchard")) == OFFICE_PREFIX + "orchard"
    assert office_for(None) == Destination.office("") == Destination(Kind.OFFICE)
    assert (school_of("office:orchard"), school_of(TELEGRAM), school_of("anything")) == ("orchard", None, None)
    assert is_office("office") and is_office(office_for("roose")) and not is_office("telegram") and not is_office("test")
    for bad in ("", "pigeon", "telegram:orchard", "Telegram"):
        with pytest.raises(ValueError, match="not a destination"):
            Destination.parse(bad)
    with pytest.raises(ValueError):
        Destination(Kind.SLACK, "orchard")


async def test_an_item_needs_a_destination(store: Store, clock: Clock) -> None:
    def go(db: Database) -> bool:
        with write_transaction(db):
            return enqueue(db, channel="telegram", kind="message", key="k", payload={}, now=clock())  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="destination"):
        await store.run(go)


async def test_a_send_and_its_record_happen_under_the_guard(store: Store, outbox: Outbox, clock: Clock) -> None:
    """Whoever takes the guard next (a direct reply to the same platform) finds the item recorded delivered."""
    await add(store, clock, "k1")
    guard = asyncio.Lock()
    held: list[bool] = []
    next_in_line: list[asyncio.Task[list[str]]] = []

    async def statuses_once_free() -> list[str]:
        async with guard:
            return [i.status for i in await outbox.items()]

    async def deliver(item: OutboxItem) -> None:
        held.append(guard.locked())
        next_in_line.append(asyncio.create_task(statuses_once_free()))
        await asyncio.sleep(0)

    assert await DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=deliver, guard=guard).run_once() == 1
    assert held == [True]
    assert await next_in_line[0] == ["delivered"]


async def test_a_hung_send_gives_the_guard_back_and_its_item_is_still_recorded(
    store: Store, outbox: Outbox, clock: Clock
) -> None:
    """A send that hangs past `slow_send` lets the platform's other answers go ahead; when it ends, it is recorded."""
    await add(store, clock, "k1")
    guard, started, answered = asyncio.Lock(), asyncio.Event(), asyncio.Event()

    async def hung_deliver(item: OutboxItem) -> None:
        started.set()
        await answered.wait()

    loop = DeliveryLoop(outbox=outbox, destination=TELEGRAM, deliver=hung_deliver, guard=guard, slow_send=0.01)
    running = asyncio.create_task(loop.run_once())
    await started.wait()
    async with asyncio.timeout(5):
        await guard.acquire()  # another answer's turn, while the first send still hangs
    guard.release()
    answered.set()
    assert await running == 1
    assert [i.status for i in await outbox.items()] == ["delivered"] and not guard.locked()
