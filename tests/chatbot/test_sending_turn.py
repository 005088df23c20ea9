"""A turn at the sending lock: held for a healthy send, given back for waits and hung sends."""

from __future__ import annotations

import asyncio

import pytest

from chatbot.sending_turn import SendingTurn


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


async def test_a_healthy_send_keeps_the_lock_until_the_turn_ends() -> None:
    lock = asyncio.Lock()

    async def send() -> bool:
        return lock.locked()

    async with SendingTurn(lock=lock, sleep=no_wait, slow_after=5) as turn:
        assert await turn.send(send())
        assert lock.locked()
    assert not lock.locked()


async def test_a_send_past_the_slow_mark_gives_the_lock_back_and_still_returns_its_result() -> None:
    lock, answer = asyncio.Lock(), asyncio.Event()

    async def hung_send() -> str:
        await answer.wait()
        return "sent"

    async with SendingTurn(lock=lock, sleep=no_wait, slow_after=0.01) as turn:
        sending = asyncio.create_task(turn.send(hung_send()))
        async with asyncio.timeout(5):
            await lock.acquire()  # another answer takes its turn while this one hangs
        lock.release()
        answer.set()
        assert await sending == "sent"
    assert not lock.locked()


async def test_a_wait_is_spent_without_the_lock() -> None:
    lock = asyncio.Lock()
    held_during: list[bool] = []

    async def sleep(seconds: float) -> None:
        held_during.append(lock.locked())

    async with SendingTurn(lock=lock, sleep=sleep) as turn:
        await turn.wait(1.0)
        assert lock.locked()  # taken again to try once more
    assert held_during == [False]


async def test_a_cancelled_sender_cancels_its_send() -> None:
    lock, started = asyncio.Lock(), asyncio.Event()

    async def hung_send() -> None:
        started.set()
        await asyncio.Event().wait()

    attempt = asyncio.ensure_future(hung_send())
    async with SendingTurn(lock=lock, sleep=no_wait, slow_after=5) as turn:
        sending = asyncio.create_task(turn.send(attempt))
        await started.wait()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
    assert attempt.cancelled() and not lock.locked()
