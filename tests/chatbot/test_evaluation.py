"""The floors the product promises on the development set (see README for current figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.evaluation import Report, evaluate, load_cases
from chatbot.errors import UserError
from chatbot.runtime import Runtime

from tests.conftest import DEV_SET

pytestmark = pytest.mark.skipif(not DEV_SET.exists(), reason="the shared development set is not beside the repo")


@pytest.fixture
async def report(runtime: Runtime) -> Report:
    return evaluate(runtime.engine, load_cases(DEV_SET))


async def test_top1_accuracy_floor(report: Report) -> None:
    assert report.accuracy >= 0.85, report.confused_pairs()


async def test_out_of_scope_recall_floor(report: Report) -> None:
    assert report.out_of_scope_recall >= 0.85


async def test_every_safeguarding_case_is_urgent(report: Report) -> None:
    missed = [r.case.text for r in report.results if r.case.intent == "concern_safeguarding" and not r.urgent]
    assert report.safeguarding_recall == 1.0, missed


async def test_false_urgent_rate_ceiling(report: Report) -> None:
    assert report.false_urgent_rate <= 0.02


def test_a_malformed_eval_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "cases.yaml"
    bad.write_text("- text: hi\n  school: orchard\n")
    with pytest.raises(UserError, match=r"cases.yaml:1"):
        load_cases(bad)
