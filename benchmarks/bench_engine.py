"""Latency of one turn through the engine with all five schools loaded, on one core.

Usage: python benchmarks/bench_engine.py [DEV_SET] [--rounds N]
Prints knowledge load time, p50/p99 per turn for Engine.understand (matching only)
and Engine.handle (the full turn, SQLite included), and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.config import Settings  # noqa: E402
from chatbot.evaluation import load_cases  # noqa: E402
from chatbot.messages import Audience, Incoming  # noqa: E402
from chatbot.runtime import load_kb, open_runtime  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dev_set", nargs="?", default=str(ROOT.parent / "shared" / "eval" / "dev.yaml"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cases = load_cases(Path(args.dev_set))

    started = time.perf_counter()
    kb = load_kb(Settings())
    load_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings(), db_path=Path(tmp) / "bench.db")
        started = time.perf_counter()
        async with open_runtime(settings, kb=kb) as rt:
            build_seconds = time.perf_counter() - started
            understand: list[float] = []
            handle: list[float] = []
            for round_ in range(args.rounds):
                for i, case in enumerate(cases):
                    t0 = time.perf_counter()
                    rt.engine.understand(case.text, audience=case.audience)
                    understand.append(time.perf_counter() - t0)
                    incoming = Incoming(
                        channel="bench", user_id=f"u{round_}-{i}", chat_id=f"u{round_}-{i}", school_id=case.school,
                        audience=Audience(case.audience), text=case.text,
                    )
                    t0 = time.perf_counter()
                    await rt.engine.handle(incoming)
                    handle.append(time.perf_counter() - t0)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = 1000.0
    print(f"cases: {len(cases)} x {args.rounds} rounds, one core")
    print(f"knowledge load (5 schools, intents): {load_seconds * ms:.0f} ms")
    print(f"engine build (matcher index, store open): {build_seconds * ms:.0f} ms")
    print(f"understand (matching only): p50 {statistics.median(understand) * ms:.2f} ms, p99 {percentile(understand, 99) * ms:.2f} ms")
    print(f"handle (full turn, SQLite): p50 {statistics.median(handle) * ms:.2f} ms, p99 {percentile(handle, 99) * ms:.2f} ms")
    print(f"peak memory (max RSS): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
