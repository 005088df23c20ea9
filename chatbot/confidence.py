"""Turn ranked candidates into a decision: answer, ask "did you mean", or fall back honestly.

A wrong answer said with confidence is the worst outcome, so answering needs both
a good score and a clear lead over the runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chatbot.matching import Candidate


class Verdict(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Tuned on the development set; see README for the figures they give."""

    answer: float = 0.55
    margin: float = 0.05
    suggest: float = 0.40
    suggest_window: float = 0.08
    safeguarding_floor: float = 0.50
    max_options: int = 3


@dataclass(frozen=True, kw_only=True)
class Decision:
    verdict: Verdict
    intent: str | None
    confidence: float
    options: tuple[str, ...] = ()


def decide(candidates: list[Candidate], thresholds: Thresholds = Thresholds()) -> Decision:
    if not candidates:
        return Decision(verdict=Verdict.FALLBACK, intent=None, confidence=0.0)
    top = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if top.score >= thresholds.answer and top.score - runner_up >= thresholds.margin:
        return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
    if top.score >= thresholds.suggest:
        close = [c.intent for c in candidates if top.score - c.score <= thresholds.suggest_window]
        close = [i for i in close if i != "out_of_scope"][: thresholds.max_options]
        if top.intent == "out_of_scope" and top.score - runner_up >= thresholds.margin:
            return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
        if len(close) >= 2:
            return Decision(verdict=Verdict.SUGGEST, intent=top.intent, confidence=top.score, options=tuple(close))
        if top.score >= thresholds.answer and top.intent != "out_of_scope":
            return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
        if close:
            return Decision(verdict=Verdict.SUGGEST, intent=top.intent, confidence=top.score, options=tuple(close))
    return Decision(verdict=Verdict.FALLBACK, intent=top.intent, confidence=top.score)


def safeguarding_suspected(candidates: list[Candidate], thresholds: Thresholds = Thresholds()) -> bool:
    """The matcher's own view: safeguarding leads, even at modest confidence."""
    return bool(candidates) and candidates[0].intent == "concern_safeguarding" and candidates[0].score >= thresholds.safeguarding_floor
