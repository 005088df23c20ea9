"""Parent messages through the real python-telegram-bot polling loop and a fake Bot API on 127.0.0.1.

Usage: python benchmarks/bench_telegram.py [--messages N] [--rate R] [--concurrency C] [--rtt S]
Each message comes from its own parent (a varied mix: the dev set's parent questions,
else the intents' examples), answered by one school's bot. Two runs: a burst (all N
available at once: throughput) and a steady stream at R messages a second (latency).
Then a smaller burst with a simulated network round trip on every Bot API call, with
updates handled one at a time and C at a time (one at a time per parent either way), and, as
the baseline, C at a time with sends not taking turns at the one sending lock (so a crash
could double up to C answers instead of one).
Reply time runs from the update being made available by the fake to the fake
receiving the sendMessage that answers it. Prints messages/s, p50, p99. The fake
runs in the same process and shares its CPU with the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.telegram import TelegramAdapter, TelegramSettings  # noqa: E402
from chatbot.config import Settings  # noqa: E402
from chatbot.errors import UserError  # noqa: E402
from chatbot.evaluation import load_cases  # noqa: E402
from chatbot.knowledge import KnowledgeBase  # noqa: E402
from chatbot.understanding.fusion import FusedMatcher, build_matcher  # noqa: E402
from chatbot.runtime import load_kb, open_runtime  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, text_update  # noqa: E402

SCHOOL = "st-lukes"
DEV_SET = ROOT / "eval" / "dev.yaml"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def questions(kb: KnowledgeBase) -> list[str]:
    """Parents' own phrasings from the dev set, else the intents' examples."""
    try:
        texts = [c.text for c in load_cases(DEV_SET) if c.audience == "parent"]
    except (OSError, UserError):
        texts = []
    return texts or [e for i in kb.intents.values() if i.audience in ("parent", "any") for e in i.examples]


async def run(
    kb: KnowledgeBase, matcher: FusedMatcher, texts: list[str], *, rate: float | None, concurrency: int, rtt: float = 0.0,
    one_send_at_a_time: bool = True,
) -> dict[str, float]:
    """One run on a fresh database and fake; rate None pushes everything at once."""
    fake = FakeTelegramAPI(latency=rtt)
    await fake.start()
    errors: list[BaseException] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            telegram = TelegramSettings(token=TOKEN, api_url=fake.api_url, school=SCHOOL)
            settings = Settings(db_path=Path(tmp) / "bench.db")
            async with open_runtime(settings, kb=kb, matcher=matcher) as runtime:
                adapter = TelegramAdapter(
                    settings=telegram, engine=runtime.engine, inbox=runtime.inbox, schools=tuple(runtime.kb.schools),
                    concurrency=concurrency,
                )
                if not one_send_at_a_time:  # the baseline: as many sends in flight as conversations
                    adapter.sending = cast(asyncio.Lock, asyncio.Semaphore(concurrency))

                async def collect(update: object, context: object) -> None:
                    errors.append(getattr(context, "error", None) or RuntimeError("unknown"))

                adapter.application.add_error_handler(collect)
                await adapter.start()
                try:
                    return await measure(fake, texts, rate=rate, errors=errors)
                finally:
                    await adapter.stop()
    finally:
        await fake.close()


async def measure(
    fake: FakeTelegramAPI, texts: list[str], *, rate: float | None, errors: list[BaseException]
) -> dict[str, float]:
    chats = list(range(10_000, 10_000 + len(texts)))
    started = time.monotonic()
    ids = {}
    for index, (chat, text) in enumerate(zip(chats, texts)):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        ids[chat] = fake.push(text_update(chat, text))
    await fake.wait_for(lambda: len({c.chat_id for c in fake.sent()}) >= len(chats), timeout=120, what="every reply")
    finished = time.monotonic()
    first_reply: dict[str, float] = {}
    for call in fake.sent():
        first_reply.setdefault(str(call.chat_id), call.at)
    latencies = [first_reply[str(chat)] - fake.available_at[ids[chat]] for chat in chats]
    if errors:
        raise SystemExit(f"PTB reported {len(errors)} errors, e.g. {errors[0]!r}")
    return {
        "per_second": len(chats) / (finished - started),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="messages a second in the steady run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rtt-messages", type=int, default=200, help="burst size for the simulated round-trip runs")
    parser.add_argument("--rtt", type=float, default=0.05, help="simulated Bot API round trip, seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # urgent concerns in the mix log a warning each
    kb = load_kb(Settings())
    matcher = build_matcher(intents=kb.intents, cache_dir=Settings().cache_dir)
    pool = questions(kb)
    texts = list(itertools.islice(itertools.cycle(pool), args.messages))
    print(f"{args.messages} parent messages ({len(pool)} distinct questions), school {SCHOOL}, fake Bot API on 127.0.0.1")
    for label, rate in (("burst", None), (f"steady {args.rate:g}/s", args.rate)):
        figures = await run(kb, matcher, texts, rate=rate, concurrency=args.concurrency)
        show(f"concurrency {args.concurrency}, {label}", figures)
    print(f"\nwith a simulated {args.rtt * 1000:g} ms Bot API round trip, a burst of {args.rtt_messages}:")
    for concurrency in sorted({1, args.concurrency}):
        figures = await run(kb, matcher, texts[: args.rtt_messages], rate=None, concurrency=concurrency, rtt=args.rtt)
        show(f"concurrency {concurrency}, burst", figures)
    figures = await run(kb, matcher, texts[: args.rtt_messages], rate=None, concurrency=args.concurrency, rtt=args.rtt,
                        one_send_at_a_time=False)  # fmt: skip
    show(f"concurrency {args.concurrency}, no sending lock", figures)


def show(label: str, figures: dict[str, float]) -> None:
    print(
        f"  {label:<28} {figures['per_second']:7.1f} msg/s   p50 {figures['p50_ms']:7.1f} ms   "
        f"p99 {figures['p99_ms']:7.1f} ms   max {figures['max_ms']:7.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
