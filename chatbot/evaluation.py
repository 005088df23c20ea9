"""`chatbot eval`: measure understanding on a labelled file, through the engine's own reading.

Scores exactly what the bot would do (Engine.understand), so the figures are the
product's, not a side model's.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatbot.engine import Engine
from chatbot.errors import UserError
from chatbot.yamlfile import YamlProblem, load_yaml


@dataclass(frozen=True, kw_only=True)
class Case:
    text: str
    school: str
    audience: str
    intent: str
    urgent: bool


@dataclass(kw_only=True)
class CaseResult:
    case: Case
    predicted: str
    confidence: float
    urgent: bool
    verdict: str


@dataclass(kw_only=True)
class Report:
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return sum(r.predicted == r.case.intent for r in self.results) / max(1, len(self.results))

    def _recall(self, label: str) -> float:
        relevant = [r for r in self.results if r.case.intent == label]
        return sum(r.predicted == label for r in relevant) / max(1, len(relevant))

    @property
    def out_of_scope_recall(self) -> float:
        return self._recall("out_of_scope")

    @property
    def safeguarding_recall(self) -> float:
        relevant = [r for r in self.results if r.case.intent == "concern_safeguarding" or r.case.urgent]
        return sum(r.urgent for r in relevant) / max(1, len(relevant))

    @property
    def false_urgent_rate(self) -> float:
        others = [r for r in self.results if not (r.case.intent == "concern_safeguarding" or r.case.urgent)]
        return sum(r.urgent for r in others) / max(1, len(others))

    def per_intent(self) -> dict[str, dict[str, float]]:
        labels = sorted({r.case.intent for r in self.results} | {r.predicted for r in self.results})
        out: dict[str, dict[str, float]] = {}
        for label in labels:
            tp = sum(r.predicted == label and r.case.intent == label for r in self.results)
            fp = sum(r.predicted == label and r.case.intent != label for r in self.results)
            fn = sum(r.predicted != label and r.case.intent == label for r in self.results)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": float(tp + fn)}
        return out

    def confused_pairs(self, limit: int = 10) -> list[tuple[str, str, int]]:
        pairs = Counter((r.case.intent, r.predicted) for r in self.results if r.predicted != r.case.intent)
        return [(gold, pred, n) for (gold, pred), n in pairs.most_common(limit)]

    def summary(self) -> dict[str, Any]:
        return {
            "cases": len(self.results),
            "accuracy": round(self.accuracy, 4),
            "out_of_scope_recall": round(self.out_of_scope_recall, 4),
            "safeguarding_recall": round(self.safeguarding_recall, 4),
            "false_urgent_rate": round(self.false_urgent_rate, 4),
            "seconds": round(self.seconds, 3),
        }

    def as_dict(self, *, with_cases: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.summary(),
            "per_intent": {k: {m: round(v, 4) for m, v in d.items()} for k, d in self.per_intent().items()},
            "confused_pairs": [{"gold": g, "predicted": p, "count": n} for g, p, n in self.confused_pairs()],
        }
        if with_cases:
            data["cases_detail"] = [
                {"text": r.case.text, "school": r.case.school, "audience": r.case.audience, "gold": r.case.intent,
                 "predicted": r.predicted, "confidence": round(r.confidence, 4), "urgent": r.urgent,
                 "verdict": r.verdict}
                for r in self.results
            ]
        return data


def load_cases(path: Path) -> list[Case]:
    """Read a labelled file in the dev.yaml format; problems are UserErrors naming file and line."""
    try:
        data = load_yaml(path)
    except YamlProblem as err:
        raise UserError(str(err)) from err
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of cases")
    cases = []
    for item in data:
        if not isinstance(item, dict) or not all(k in item for k in ("text", "school", "audience", "intent")):
            line = item.get("__line__", 0) if isinstance(item, dict) else 0
            raise UserError(f"{path}:{line}: each case needs text, school, audience and intent")
        cases.append(
            Case(
                text=str(item["text"]), school=str(item["school"]), audience=str(item["audience"]),
                intent=str(item["intent"]), urgent=bool(item.get("urgent", item["intent"] == "concern_safeguarding")),
            )
        )
    return cases


def evaluate(engine: "Engine", cases: list[Case]) -> Report:
    report = Report()
    started = time.perf_counter()
    for case in cases:
        understanding = engine.understand(case.text, audience=case.audience)
        report.results.append(
            CaseResult(
                case=case, predicted=understanding.intent, confidence=understanding.decision.confidence,
                urgent=understanding.urgent, verdict=understanding.decision.verdict.value,
            )
        )
    report.seconds = time.perf_counter() - started
    return report
