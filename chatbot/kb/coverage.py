"""`chatbot kb coverage`: which school answers which intent, and where a silence may be false.

A silent pair is not wrong in itself (most policies are short), but a reviewer should
look at the sections most like the intent before trusting it: that is the
"possible coverage: review" list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from chatbot.kb.similarity import SectionMatch, SectionRanker
from chatbot.knowledge import Intent, KnowledgeBase, School

POLICY_KINDS = ("answer", "flow")  # the kinds a school's policy answers; concerns and meta are the bot's own
REVIEW_MIN_SCORE = 0.12  # below this a section shares little more than common words with the intent


class Coverage(Enum):
    ANSWERED = "answered"
    SILENT = "silent"


@dataclass(frozen=True, kw_only=True)
class CoverageCell:
    """One school and one intent."""

    school_id: str
    intent_id: str
    coverage: Coverage
    citations: int
    review: tuple[SectionMatch, ...]  # for a silent pair: the sections most like the intent

    def as_json(self) -> dict[str, Any]:
        return {
            "school": self.school_id,
            "intent": self.intent_id,
            "coverage": self.coverage.value,
            "citations": self.citations,
            "possible_coverage": [
                {"section": m.section_id, "title": m.title, "score": m.score} for m in self.review
            ],
        }


@dataclass(frozen=True, kw_only=True)
class CoverageReport:
    schools: tuple[School, ...]
    intents: tuple[Intent, ...]
    cells: tuple[CoverageCell, ...]

    def cell(self, school_id: str, intent_id: str) -> CoverageCell:
        return next(c for c in self.cells if c.school_id == school_id and c.intent_id == intent_id)

    def counts(self, school_id: str) -> dict[str, int]:
        mine = [c for c in self.cells if c.school_id == school_id]
        return {kind.value: sum(1 for c in mine if c.coverage is kind) for kind in Coverage}

    def as_json(self) -> dict[str, Any]:
        return {
            "schools": [s.id for s in self.schools],
            "intents": [i.id for i in self.intents],
            "summary": {s.id: self.counts(s.id) for s in self.schools},
            "cells": [c.as_json() for c in self.cells],
        }


def policy_intents(kb: KnowledgeBase) -> tuple[Intent, ...]:
    return tuple(i for i in kb.intents.values() if i.kind in POLICY_KINDS)


def _citation_count(school: School, intent_id: str) -> int:
    answer = school.answers[intent_id]
    cited = set(answer.cites) | {c for outcome in answer.outcomes for c in outcome.cites}
    return len(cited)


def coverage_report(kb: KnowledgeBase, *, schools: list[str] | None = None, suggestions: int = 3) -> CoverageReport:
    """Every chosen school against every policy intent."""
    chosen = tuple(kb.school(s) for s in schools) if schools else tuple(kb.schools.values())
    intents = policy_intents(kb)
    cells: list[CoverageCell] = []
    for school in chosen:
        ranker = SectionRanker(sections=list(school.sections.values()), intents=intents)
        for intent in intents:
            if intent.id in school.answers:
                cells.append(CoverageCell(
                    school_id=school.id, intent_id=intent.id, coverage=Coverage.ANSWERED,
                    citations=_citation_count(school, intent.id), review=(),
                ))
            else:
                review = ranker.rank(intent, top=suggestions, min_score=REVIEW_MIN_SCORE)
                cells.append(CoverageCell(
                    school_id=school.id, intent_id=intent.id, coverage=Coverage.SILENT, citations=0, review=tuple(review),
                ))
    return CoverageReport(schools=chosen, intents=intents, cells=tuple(cells))
