"""`chatbot eval`: measure understanding on a labelled file, through the engine's own reading.

Scores exactly what the bot would do (Engine.understand), so the figures are the
product's, not a side model's.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    top3: tuple[str, ...] = ()
    safeguarding: str | None = None  # "urgent", "check" or None

    @property
    def at_risk(self) -> bool:
        return self.case.intent == "concern_safeguarding" or self.case.urgent

    @property
    def right(self) -> bool:
        return self.predicted == self.case.intent

    @property
    def within_one_tap(self) -> bool:
        """Right, or the right intent among the three best: one tap away on a "did you mean"."""
        return self.right or (self.case.intent in self.top3 and self.case.intent != "out_of_scope")


HISTOGRAM_BINS = 10


@dataclass(kw_only=True)
class Report:
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    def _share(self, hits: list[bool]) -> float:
        return sum(hits) / max(1, len(hits))

    @property
    def accuracy(self) -> float:
        return self._share([r.right for r in self.results])

    @property
    def top3_accuracy(self) -> float:
        return self._share([r.within_one_tap for r in self.results])

    def _recall(self, label: str) -> float:
        return self._share([r.predicted == label for r in self.results if r.case.intent == label])

    @property
    def out_of_scope_recall(self) -> float:
        return self._recall("out_of_scope")

    @property
    def safeguarding_recall(self) -> float:
        """Children at risk caught by the net: urgent, or asked about."""
        return self._share([r.safeguarding is not None for r in self.results if r.at_risk])

    @property
    def false_urgent_rate(self) -> float:
        return self._share([r.urgent for r in self.results if not r.at_risk])

    @property
    def check_rate(self) -> float:
        """How often the safeguarding question is asked of messages that are not about a child at risk."""
        return self._share([r.safeguarding == "check" for r in self.results if not r.at_risk])

    def confidence_histogram(self) -> dict[str, list[int]]:
        """Counts of confidence in ten bins from 0 to 1, for right and for wrong answers (as `rasa test nlu`)."""
        bins: dict[str, list[int]] = {"right": [0] * HISTOGRAM_BINS, "wrong": [0] * HISTOGRAM_BINS}
        for r in self.results:
            index = min(HISTOGRAM_BINS - 1, max(0, int(r.confidence * HISTOGRAM_BINS)))
            bins["right" if r.right else "wrong"][index] += 1
        return bins

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

    def confusion(self) -> tuple[list[str], list[list[int]]]:
        """Labels and counts[gold][predicted], every label that occurs on either side."""
        labels = sorted({r.case.intent for r in self.results} | {r.predicted for r in self.results})
        index = {label: n for n, label in enumerate(labels)}
        counts = [[0] * len(labels) for _ in labels]
        for r in self.results:
            counts[index[r.case.intent]][index[r.predicted]] += 1
        return labels, counts

    def confused_pairs(self, limit: int = 10) -> list[tuple[str, str, int]]:
        pairs = Counter((r.case.intent, r.predicted) for r in self.results if r.predicted != r.case.intent)
        return [(gold, pred, n) for (gold, pred), n in pairs.most_common(limit)]

    def summary(self) -> dict[str, Any]:
        return {
            "cases": len(self.results),
            "accuracy": round(self.accuracy, 4),
            "top3_accuracy": round(self.top3_accuracy, 4),
            "out_of_scope_recall": round(self.out_of_scope_recall, 4),
            "safeguarding_recall": round(self.safeguarding_recall, 4),
            "false_urgent_rate": round(self.false_urgent_rate, 4),
            "check_rate": round(self.check_rate, 4),
            "confidence_histogram": self.confidence_histogram(),
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
                 "top3": list(r.top3), "safeguarding": r.safeguarding, "verdict": r.verdict}
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
    """Blocking (it embeds every case): async callers run it with asyncio.to_thread."""
    report = Report()
    started = time.perf_counter()
    for case in cases:
        understanding = engine.understand(case.text, audience=case.audience)
        band = understanding.safeguarding.band
        report.results.append(
            CaseResult(
                case=case, predicted=understanding.intent, confidence=understanding.decision.confidence,
                urgent=understanding.urgent, verdict=understanding.decision.verdict.value,
                top3=tuple(c.intent for c in understanding.candidates[:3]),
                safeguarding=None if band.value == "none" else band.value,
            )
        )
    report.seconds = time.perf_counter() - started
    return report
