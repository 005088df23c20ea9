"""The floors the product promises on its own copies of the development sets (README has the figures).

A missing set fails rather than skips: the floors must hold in a fresh clone and in CI.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.errors import UserError
from chatbot.evaluation import Report, evaluate, load_cases
from chatbot.knowledge import KnowledgeBase
from chatbot.runtime import open_runtime
from chatbot.understanding.fusion import FusedMatcher

from tests.conftest import REPO

SHORT = REPO / "eval" / "dev.yaml"
NARRATIVE = REPO / "eval" / "dev-narrative.yaml"
PROBES = [REPO / "eval" / f"probe-{name}.yaml" for name in "abcd"]  # written blind by a teammate (eval/README.md)
HELD_OUT = [REPO / "eval" / f"probe-{name}.yaml" for name in "ef"]  # written blind; misses never read


def _report(path: Path, kb: KnowledgeBase, matcher: FusedMatcher, tmp: Path) -> Report:
    async def run() -> Report:
        settings = replace(Settings(), db_path=tmp / "eval.db")
        async with open_runtime(settings, kb=kb, matcher=matcher) as rt:
            return evaluate(rt.engine, load_cases(path))

    return asyncio.run(run())


@pytest.fixture(scope="module")
def short(kb: KnowledgeBase, matcher: FusedMatcher, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _report(SHORT, kb, matcher, tmp_path_factory.mktemp("short"))


@pytest.fixture(scope="module")
def narrative(kb: KnowledgeBase, matcher: FusedMatcher, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _report(NARRATIVE, kb, matcher, tmp_path_factory.mktemp("narrative"))


def test_both_sets_are_in_the_repo() -> None:
    assert SHORT.is_file() and NARRATIVE.is_file() and all(path.is_file() for path in (*PROBES, *HELD_OUT))
    assert len(load_cases(SHORT)) >= 200 and len(load_cases(NARRATIVE)) >= 100


def test_short_questions_floors(short: Report) -> None:
    assert short.accuracy >= 0.93, short.confused_pairs()
    assert short.top3_accuracy >= 0.98
    assert short.out_of_scope_recall >= 0.90


def test_narrative_floors(narrative: Report) -> None:
    assert narrative.accuracy >= 0.85, narrative.confused_pairs()
    assert narrative.top3_accuracy >= 0.95


def test_every_child_at_risk_among_the_short_questions_is_caught(short: Report) -> None:
    missed = [r.case.text[:80] for r in short.results if r.at_risk and r.safeguarding is None]
    assert missed == []
    assert short.safeguarding_recall == 1.0


def test_every_child_at_risk_told_as_a_story_is_caught(narrative: Report) -> None:
    missed = [r.case.text[:80] for r in narrative.results if r.at_risk and r.safeguarding is None]
    assert missed == []


@pytest.mark.parametrize("name", ["short", "narrative"])
def test_false_alarms_are_rare(name: str, request: pytest.FixtureRequest) -> None:
    report: Report = request.getfixturevalue(name)
    assert report.false_urgent_rate <= 0.01
    assert report.check_rate <= 0.05


def test_a_child_at_risk_never_ends_in_a_fallback_or_a_menu(short: Report) -> None:
    at_risk = [r for r in short.results if r.at_risk]
    assert at_risk and all(r.predicted == "concern_safeguarding" for r in at_risk)


@pytest.fixture(scope="module")
def probes(kb: KnowledgeBase, matcher: FusedMatcher, tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    return [_report(path, kb, matcher, tmp_path_factory.mktemp(path.stem)) for path in PROBES]


def test_the_blind_probe_sets_keep_their_floors(probes: list[Report]) -> None:
    """Once unseen, now regression sets: every child at risk caught, few false alarms, most topics right."""
    for path, report in zip(PROBES, probes):
        missed = [r.case.text[:80] for r in report.results if r.at_risk and r.safeguarding is None]
        assert missed == [], path.name
        # probe-d is heavy with hard negatives (grooming documentaries, novels, a parent's own past): its check rate
        # is 0.115, and its one false alarm is a thank-you for a past case the police closed, read as present danger.
        most_checks, most_urgent = (0.12, 0.02) if path.name == "probe-d.yaml" else (0.05, 0.01)
        assert report.false_urgent_rate <= most_urgent and report.check_rate <= most_checks, path.name
        assert report.accuracy >= 0.85 and report.top3_accuracy >= 0.95, (path.name, report.confused_pairs())


@pytest.fixture(scope="module")
def held_out(kb: KnowledgeBase, matcher: FusedMatcher, tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    return [_report(path, kb, matcher, tmp_path_factory.mktemp(path.stem)) for path in HELD_OUT]


def test_the_held_out_sets_keep_what_was_measured(held_out: list[Report]) -> None:
    """Their figures are the honest guide to unseen messages (README); this keeps them from sliding back."""
    for path, report in zip(HELD_OUT, held_out):
        assert report.safeguarding_recall >= 0.83, path.name
        assert report.false_urgent_rate <= 0.05 and report.check_rate <= 0.05, path.name
        assert report.accuracy >= 0.88 and report.top3_accuracy >= 0.95, (path.name, report.confused_pairs())


def test_no_evaluation_sentence_was_taught_to_the_matcher(kb: KnowledgeBase) -> None:
    """The sets measure; a sentence of ten words or more from any of them in intents/ would flatter the figures.

    (Shorter ones coincide by nature: "I don't want to get anyone in trouble".)"""

    def sentences(text: str) -> set[str]:
        parts = (" ".join(re.findall(r"[a-z0-9']+", part.lower())) for part in re.split(r"[.!?\n]+", text))
        return {part for part in parts if len(part.split()) >= 10}

    taught = " | ".join(
        " ".join(re.findall(r"[a-z0-9']+", text.lower())) for i in kb.intents.values() for text in (*i.examples, *i.stories)
    )
    copied = [s for path in (SHORT, NARRATIVE, *PROBES, *HELD_OUT) for case in load_cases(path) for s in sentences(case.text) if s in taught]
    assert copied == []


def test_a_malformed_eval_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "cases.yaml"
    bad.write_text("- text: hi\n  school: orchard\n")
    with pytest.raises(UserError, match=r"cases.yaml:1"):
        load_cases(bad)
