"""A writer killed mid-burst loses nothing it acknowledged, and its outbox drains exactly once.

Runs the benchmark's SIGKILL check (benchmarks/bench_concerns.py) with about 200
concerns: a correctness test, not a timing one.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_concerns.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_concerns", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_concerns", module)
    spec.loader.exec_module(module)
    return module


def test_sigkill_mid_burst_loses_no_acknowledged_concern(tmp_path: Path) -> None:
    bench = load_bench()
    report = bench.kill_test(tmp_path / "kill.db", kill_after=200, timeout=60.0)

    assert report.returncode == -signal.SIGKILL
    assert len(report.acked) >= 200
    assert len(set(report.acked)) == len(report.acked)  # refs are unique
    assert report.missing == []  # every acknowledged ref survived
    assert report.stored >= len(report.acked)  # at most a few committed but not yet acknowledged
    assert report.wrong_outbox == {}  # each concern has exactly one concern_opened item
    assert report.integrity == "ok"
    assert set(report.delivered) == report.expected_keys and len(report.expected_keys) == report.stored
    assert set(report.delivered.values()) == {1}  # each delivered exactly once
    assert report.problems == []
