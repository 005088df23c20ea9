"""Understanding, on one core: the fused matcher beside the lexical-only matcher it grew from.

Usage: python benchmarks/bench_understanding.py [--rounds N] [--skip-startup] [--throughput-only]

- One turn's understanding (Engine.understand: safeguarding net + fused ranking +
  decision) for short questions (eval/dev.yaml) and for messages of 600 to 1,500
  characters (eval/dev-narrative.yaml), p50 and p99, beside the lexical-only
  reading the engine used before (screen + lexical matcher on the first 600
  characters + decision), as a ratio.
- Start-up of `chatbot ask` in a fresh process: cold (empty cache: every example
  embedded, classifiers trained) and warm (cache read), beside a process that
  builds only the lexical matcher (scikit-learn training, as start-up did before).
- Encoder throughput, one by one (one model run per message) beside eight callers
  at once through the micro-batcher (their messages coalesce into shared runs), as a
  ratio: what a replayed backlog gains.
- Peak memory (max RSS) of each of those processes and of this one.
- The text caches stay bounded: memory growth over 3,000 distinct long messages.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.config import Settings  # noqa: E402
from chatbot.confidence import decide  # noqa: E402
from chatbot.engine import Engine  # noqa: E402
from chatbot.evaluation import Case, load_cases  # noqa: E402
from chatbot.matching import Matcher  # noqa: E402
from chatbot.runtime import build_engine, load_kb  # noqa: E402
from chatbot.safety import screen  # noqa: E402
from chatbot.store import Store  # noqa: E402
from chatbot.understanding.batching import MicroBatcher  # noqa: E402
from chatbot.understanding.encoder import SentenceEncoder  # noqa: E402
from chatbot.understanding.fusion import build_matcher  # noqa: E402

MS = 1000.0
OLD_MATCH_CHARS = 600  # what the lexical-only engine read of a long message


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def timed(texts: list[Case], rounds: int, read: Callable[[Case], object]) -> list[float]:
    out = []
    for _ in range(rounds):
        for case in texts:
            t0 = time.perf_counter()
            read(case)
            out.append(time.perf_counter() - t0)
    return out


def throughput(encoder: SentenceEncoder, name: str, texts: list[str], callers: int = 8) -> None:
    """Messages embedded per second: one by one, and `callers` threads at once through the micro-batcher."""
    encoder.embed(texts[:2])  # warm the session
    t0 = time.perf_counter()
    for text in texts:
        encoder.embed([text])
    single = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(lambda text: encoder.embed([text]), texts))
    side_by_side = len(texts) / (time.perf_counter() - t0)
    batcher = MicroBatcher(encoder=encoder)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(batcher.embed_one, texts))
    batched = len(texts) / (time.perf_counter() - t0)
    print(f"encoder throughput, {name} ({len(texts)}): one by one {single:.1f} msg/s; {callers} callers, each "
          f"its own run (as before) {side_by_side:.1f} msg/s; {callers} callers micro-batched {batched:.1f} msg/s "
          f"({batcher.runs} shared runs, largest {batcher.largest}, {batcher.runners} runner(s)); "
          f"batched / one by one x{batched / single:.2f}, batched / own runs x{batched / side_by_side:.2f}")  # fmt: skip


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and max RSS (MiB) of one child process."""
    t0 = time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{argv[:3]} failed: {child.stderr.read().decode()[-800:] if child.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024


def startup(tmp: Path) -> None:
    env = {**os.environ, "CHATBOT_DB": str(tmp / "ask.db"), "CHATBOT_CACHE_DIR": str(tmp / "cache")}
    ask = [str(Path(sys.executable).with_name("chatbot")), "ask", "--school", "orchard", "--audience", "parent",
           "can I post a photo from sports day?"]  # fmt: skip
    lexical = [sys.executable, "-c",
               "from chatbot.config import Settings; from chatbot.runtime import load_kb; "
               "from chatbot.matching import Matcher; "
               "Matcher(intents=load_kb(Settings()).intents).rank('can I post a photo', audience='parent')"]  # fmt: skip
    cold, cold_rss = run_process(ask, env)
    warm = [run_process(ask, env) for _ in range(3)]
    base = [run_process(lexical, env) for _ in range(3)]
    warm_s = statistics.median(w for w, _ in warm)
    base_s = statistics.median(b for b, _ in base)
    print(f"start-up, `chatbot ask` cold (empty cache): {cold:.2f} s, max RSS {cold_rss:.0f} MiB")
    print(f"start-up, `chatbot ask` warm: {warm_s:.2f} s, max RSS {max(r for _, r in warm):.0f} MiB")
    print(f"start-up, lexical matcher only (trained at start, as before): {base_s:.2f} s, "
          f"max RSS {max(r for _, r in base):.0f} MiB; warm/lexical = x{warm_s / base_s:.2f}")  # fmt: skip


def bounded_caches(lexical: Matcher, long_cases: list[Case]) -> None:
    """3,000 distinct long messages through the lexical path: memory must not grow with them."""
    sentences = [s.strip() for c in long_cases for s in c.text.split(".") if len(s.strip()) > 20]
    rng = random.Random(8)
    before = rss_mib()
    for _ in range(3000):
        text = ". ".join(rng.sample(sentences, 12))[:1500]
        lexical.rank(text, audience="parent")
        screen(text)
    print(f"3,000 distinct long messages through the lexical path: max RSS {before:.0f} -> {rss_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--throughput-only", action="store_true", help="only the encoder's throughput")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    short = load_cases(ROOT / "eval" / "dev.yaml")
    long_cases = [c for c in load_cases(ROOT / "eval" / "dev-narrative.yaml") if 600 <= len(c.text) <= 1500]
    settings = Settings()
    kb = load_kb(settings)
    fused = build_matcher(intents=kb.intents, cache_dir=settings.cache_dir)
    if args.throughput_only:
        throughput(fused.encoder, "short", [c.text for c in short][:128])
        throughput(fused.encoder, "600-1,500 chars", [c.text for c in long_cases] * 2)
        return
    lexical = Matcher(intents=kb.intents, classifier=fused.lexical.classifier)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(path=Path(tmp) / "bench.db")
        engine: Engine = build_engine(settings=replace(settings, db_path=Path(tmp) / "bench.db"), kb=kb, store=store,
                                      matcher=fused)[0]  # fmt: skip

        def old_reading(case: Case) -> object:
            snippet = case.text[:OLD_MATCH_CHARS]
            candidates = lexical.rank(snippet, audience=case.audience)
            return screen(case.text), decide(candidates, terms=len(lexical.terms(snippet)))

        print(f"one core; {len(short)} short messages and {len(long_cases)} of 600-1,500 characters, x{args.rounds} rounds")
        for name, cases in (("short", short), ("600-1,500 chars", long_cases)):
            new = timed(cases, args.rounds, lambda c: engine.understand(c.text, audience=c.audience))
            old = timed(cases, args.rounds, old_reading)
            print(f"{name}: fused p50 {statistics.median(new) * MS:.1f} ms, p99 {percentile(new, 99) * MS:.1f} ms; "
                  f"lexical-only p50 {statistics.median(old) * MS:.2f} ms, p99 {percentile(old, 99) * MS:.2f} ms; "
                  f"ratio p50 x{statistics.median(new) / statistics.median(old):.1f}")  # fmt: skip
        throughput(fused.encoder, "short", [c.text for c in short][:128])
        throughput(fused.encoder, "600-1,500 chars", [c.text for c in long_cases] * 2)
        bounded_caches(lexical, long_cases)
        print(f"peak memory of this process (fused + lexical matchers, all turns): {rss_mib():.0f} MiB")
        if not args.skip_startup:
            startup(Path(tmp))


if __name__ == "__main__":
    main()
