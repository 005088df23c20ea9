"""How fast the concern queue takes concerns, and that a crash loses none of them.

Default mode raises 1,000 concerns at once through ConcernQueue.open on a temporary
file database and checks every one is stored with exactly one "concern_opened"
outbox item. `--kill-test` runs a child process (`--burst`) that opens concerns in
a loop and prints each ref once open() has returned, SIGKILLs it mid-burst, and then
checks that every acknowledged ref survived with exactly one outbox item, and that
draining the office outbox delivers each item exactly once.

    .venv/bin/python benchmarks/bench_concerns.py [--count 1000] [--kill-test [--kill-after 500]]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlite_utils import Database  # noqa: E402

from chatbot.calendar import WorkingCalendar  # noqa: E402
from chatbot.concerns import ConcernQueue  # noqa: E402
from chatbot.config import OfficeHours  # noqa: E402
from chatbot.messages import OutboxItem  # noqa: E402
from chatbot.outbox import DeliveryLoop, Outbox, office_for  # noqa: E402
from chatbot.store import Store  # noqa: E402

CALENDAR = WorkingCalendar(hours=OfficeHours())


def make_queue(store: Store) -> ConcernQueue:
    return ConcernQueue(store=store, calendars=lambda school_id: CALENDAR)


async def open_one(queue: ConcernQueue, n: int) -> str:
    concern = await queue.open(
        school_id="orchard", channel="telegram", user_id=f"user-{n}", chat_id=f"chat-{n}", audience="parent",
        category="concern_bullying", summary=f"benchmark concern {n}", urgent=n % 50 == 0,
    )  # fmt: skip
    return concern.ref


async def outbox_counts(store: Store) -> tuple[set[str], Counter[str]]:
    """Stored refs, and how many concern_opened items name each ref."""

    def read(db: Database) -> tuple[set[str], Counter[str]]:
        refs = {row[0] for row in db.execute("SELECT ref FROM concerns").fetchall()}
        opened: Counter[str] = Counter()
        for (ref,) in db.execute(
            "SELECT json_extract(payload, '$.ref') FROM outbox WHERE channel = 'office:orchard' AND kind = 'concern_opened'"
        ).fetchall():
            opened[ref] += 1
        return refs, opened

    return await store.run(read)


# -- throughput -----------------------------------------------------------------------------


@dataclass
class BenchReport:
    count: int
    seconds: float
    p50_ms: float
    p99_ms: float
    sequential_p50_ms: float
    sequential_p99_ms: float
    problems: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


async def bench(db_path: Path, count: int, *, baseline: bool = False, sequential_count: int = 2000) -> BenchReport:
    """`baseline`: the old store, one transaction per call and SQLite's automatic checkpoint on requests."""
    store = Store(path=db_path, batch_limit=1, checkpoint_every=0) if baseline else Store(path=db_path)
    await store.open()
    if baseline:
        await store.run(lambda db: db.execute("PRAGMA wal_autocheckpoint = 1000"))
    queue = make_queue(store)
    try:

        async def timed(n: int) -> tuple[str, float]:
            start = time.perf_counter()
            ref = await open_one(queue, n)
            return ref, time.perf_counter() - start

        start = time.perf_counter()
        results = await asyncio.gather(*(timed(n) for n in range(count)))
        seconds = time.perf_counter() - start
        latencies = [lat * 1000 for _, lat in results]

        sequential = []
        for n in range(count, count + sequential_count):
            t0 = time.perf_counter()
            await open_one(queue, n)
            sequential.append((time.perf_counter() - t0) * 1000)

        refs, opened = await outbox_counts(store)
        acked = [ref for ref, _ in results]
        problems = []
        if len(set(acked)) != count:
            problems.append(f"refs not unique: {count - len(set(acked))} duplicates")
        if missing := set(acked) - refs:
            problems.append(f"{len(missing)} acknowledged concerns missing")
        if wrong := {ref: n for ref, n in opened.items() if n != 1} | {ref: 0 for ref in refs if ref not in opened}:
            problems.append(f"{len(wrong)} concerns without exactly one concern_opened item")
        if len(refs) != count + len(sequential):
            problems.append(f"stored {len(refs)} concerns, expected {count + len(sequential)}")
        return BenchReport(
            count=count, seconds=seconds,
            p50_ms=statistics.median(latencies), p99_ms=_percentile(latencies, 99),
            sequential_p50_ms=statistics.median(sequential), sequential_p99_ms=_percentile(sequential, 99),
            problems=problems,
        )  # fmt: skip
    finally:
        await store.close()


# -- the SIGKILL fault test -------------------------------------------------------------------


async def burst(db_path: Path, workers: int) -> None:
    """Child mode: open concerns until killed, printing each ref once it is acknowledged."""
    store = Store(path=db_path)
    await store.open()
    queue = make_queue(store)
    counter = iter(range(10**9))

    async def worker() -> None:
        while True:
            ref = await open_one(queue, next(counter))
            sys.stdout.write(ref + "\n")
            sys.stdout.flush()

    await asyncio.gather(*(worker() for _ in range(workers)))


@dataclass
class KillReport:
    acked: list[str]
    returncode: int | None
    stored: int
    missing: list[str]
    wrong_outbox: dict[str, int]
    delivered: Counter[str]
    expected_keys: set[str]
    integrity: str
    drain_seconds: float

    @property
    def problems(self) -> list[str]:
        found = []
        if self.returncode != -signal.SIGKILL:
            found.append(f"child exited with {self.returncode}, not by SIGKILL")
        if self.missing:
            found.append(f"{len(self.missing)} acknowledged concerns lost: {self.missing[:5]}")
        if self.wrong_outbox:
            found.append(f"{len(self.wrong_outbox)} concerns without exactly one outbox item")
        if set(self.delivered) != self.expected_keys:
            found.append("delivered keys differ from the outbox's keys")
        if twice := [key for key, n in self.delivered.items() if n != 1]:
            found.append(f"{len(twice)} items delivered more than once")
        if self.integrity != "ok":
            found.append(f"integrity_check: {self.integrity}")
        return found


def _run_child(db_path: Path, kill_after: int, timeout: float) -> tuple[list[str], int | None]:
    """Start the burst child, SIGKILL it after `kill_after` acknowledgements, return them all."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--burst", "--db", str(db_path)],
        stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    watchdog = threading.Timer(timeout, proc.kill)  # a hung child must not hang the test
    watchdog.start()
    acked: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):
                acked.append(line.strip())
            if len(acked) >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                break
        for line in proc.stdout:  # written (and so acknowledged) before it died
            if line.endswith("\n"):
                acked.append(line.strip())
        return acked, proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def _verify(db_path: Path, acked: list[str], returncode: int | None) -> KillReport:
    store = Store(path=db_path)
    await store.open()
    try:
        integrity = str(await store.run(lambda db: db.execute("PRAGMA integrity_check").fetchone()[0]))
        refs, opened = await outbox_counts(store)
        wrong = {ref: opened.get(ref, 0) for ref in refs | set(acked) if opened.get(ref, 0) != 1}
        wrong |= {ref: n for ref, n in opened.items() if ref not in refs}
        outbox = Outbox(store=store)
        expected = {item.key for item in await outbox.items(channel="office:orchard")}
        delivered: Counter[str] = Counter()

        async def deliver(item: OutboxItem) -> None:
            delivered[item.key] += 1

        loop = DeliveryLoop(outbox=outbox, destination=office_for("orchard"), deliver=deliver, batch=100)
        start = time.perf_counter()
        while await outbox.pending_count(office_for("orchard")):
            await loop.run_once()
        await loop.run_once()  # a second pass must find nothing to send again
        drain_seconds = time.perf_counter() - start
        return KillReport(
            acked=acked, returncode=returncode, stored=len(refs), missing=sorted(set(acked) - refs),
            wrong_outbox=wrong, delivered=delivered, expected_keys=expected, integrity=integrity,
            drain_seconds=drain_seconds,
        )  # fmt: skip
    finally:
        await store.close()


def kill_test(db_path: Path, *, kill_after: int, timeout: float = 60.0) -> KillReport:
    """Crash a writer mid-burst, then check what it acknowledged and drain the office outbox."""

    async def prepare() -> None:  # migrate first, so the child never races a schema change
        store = Store(path=db_path)
        await store.open()
        await store.close()

    asyncio.run(prepare())
    acked, returncode = _run_child(db_path, kill_after, timeout)
    return asyncio.run(_verify(db_path, acked, returncode))


# -- command line -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="concerns to raise at once (default 1000)")
    parser.add_argument("--kill-test", action="store_true", help="also run the SIGKILL fault test")
    parser.add_argument("--kill-after", type=int, default=500, help="acknowledged refs before the SIGKILL")
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=4, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.burst:
        asyncio.run(burst(args.db, args.workers))
        return 0

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-concerns-") as tmp:
        base = asyncio.run(bench(Path(tmp) / "baseline.db", args.count, baseline=True))
        report = asyncio.run(bench(Path(tmp) / "bench.db", args.count))
        for name, r in (("baseline (a transaction per call, automatic checkpoint)", base), ("group commit", report)):
            print(f"{name}: {r.count} concerns at once in {r.seconds:.2f}s: {r.per_second:,.0f} concerns/s")
            print(f"  time to open one under that load: p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
            print(f"  one at a time (2,000): p50 {r.sequential_p50_ms:.2f} ms, p99 {r.sequential_p99_ms:.2f} ms")
        print(f"ratio: concerns/s x{report.per_second / base.per_second:.2f}; "
              f"one-at-a-time p99 x{base.sequential_p99_ms / report.sequential_p99_ms:.2f} faster")
        problems += base.problems + report.problems
        if args.kill_test:
            start = time.perf_counter()
            kill = kill_test(Path(tmp) / "kill.db", kill_after=args.kill_after)
            print(
                f"kill test: {len(kill.acked)} refs acknowledged before SIGKILL, {kill.stored} stored "
                f"({kill.stored - len(set(kill.acked))} committed but not yet acknowledged), "
                f"{len(kill.missing)} lost, integrity {kill.integrity}"
            )
            print(
                f"  office outbox drained: {sum(kill.delivered.values())} deliveries of {len(kill.expected_keys)} items "
                f"in {kill.drain_seconds:.2f}s; max per key {max(kill.delivered.values(), default=0)}; "
                f"whole test {time.perf_counter() - start:.1f}s"
            )
            problems += kill.problems
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
