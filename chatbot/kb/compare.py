"""How close a draft comes to a reviewed knowledge file: the measure of `chatbot kb draft`.

Drafted sections are cut differently from hand-made ones, so clauses are compared
by their words: a draft citation matches a reviewed one when one passage contains
the other, or most of the shorter one's words are in the longer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.kb.draft import Draft
from chatbot.knowledge import School

SAME_CLAUSE_SHARE = 0.6


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def same_clause(a: str, b: str) -> bool:
    fa, fb = " ".join(a.lower().split()), " ".join(b.lower().split())
    if fa in fb or fb in fa:
        return True
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= SAME_CLAUSE_SHARE


@dataclass(frozen=True, kw_only=True)
class IntentComparison:
    intent_id: str
    reviewed_answers: bool
    draft_answers: bool
    cites_a_reviewed_clause: bool  # only meaningful when both answer


@dataclass(frozen=True, kw_only=True)
class Comparison:
    school_id: str
    rows: tuple[IntentComparison, ...]
    seconds: float

    @property
    def reviewed_answered(self) -> int:
        return sum(r.reviewed_answers for r in self.rows)

    @property
    def cite_hits(self) -> int:
        """Intents the reviewed file answers whose draft cites a clause that answer cites."""
        return sum(r.cites_a_reviewed_clause for r in self.rows)

    @property
    def agreement(self) -> int:
        """Intents where draft and reviewed file agree on answered versus silent."""
        return sum(r.reviewed_answers == r.draft_answers for r in self.rows)


def compare(draft: Draft, reviewed: School, intent_ids: list[str]) -> Comparison:
    drafted = {a.intent_id: a for a in draft.answers}
    texts = {s.id: s.text for s in draft.sections}
    rows = []
    for intent_id in intent_ids:
        answer = reviewed.answers.get(intent_id)
        mine = drafted.get(intent_id)
        hit = False
        if answer is not None and mine is not None:
            cited = [reviewed.sections[c].text for c in answer.cites]
            hit = any(same_clause(texts[m.section_id], r) for m in mine.cites for r in cited)
        rows.append(IntentComparison(
            intent_id=intent_id, reviewed_answers=answer is not None, draft_answers=mine is not None, cites_a_reviewed_clause=hit,
        ))  # fmt: skip
    return Comparison(school_id=reviewed.id, rows=tuple(rows), seconds=draft.seconds)
