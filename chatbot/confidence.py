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
    """For the fused score (understanding/fusion.py); see README for the figures they give."""

    answer: float = 0.45
    margin: float = 0.03
    suggest: float = 0.25
    suggest_window: float = 0.10
    max_options: int = 3
    # A message of one or two content words ("facebook", "my child") is vague:
    # answering it needs a near-certain score, else the user is asked to choose.
    vague_terms: int = 2
    vague_answer: float = 0.80
    vague_margin: float = 0.15
    vague_window: float = 0.30


@dataclass(frozen=True, kw_only=True)
class Decision:
    verdict: Verdict
    intent: str | None
    confidence: float
    options: tuple[str, ...] = ()


def decide(candidates: list[Candidate], thresholds: Thresholds = Thresholds(), *, terms: int = 99) -> Decision:
    """`terms` is how many content words the message had; few words make it vague."""
    if not candidates:
        return Decision(verdict=Verdict.FALLBACK, intent=None, confidence=0.0)
    top = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    vague = terms <= thresholds.vague_terms
    answer_at = thresholds.vague_answer if vague else thresholds.answer
    margin = thresholds.vague_margin if vague else thresholds.margin
    window = thresholds.vague_window if vague else thresholds.suggest_window
    if top.score >= answer_at and top.score - runner_up >= margin:
        return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
    if top.score >= thresholds.suggest:
        close = [c.intent for c in candidates if top.score - c.score <= window]
        close = [i for i in close if i != "out_of_scope"][: thresholds.max_options]
        if top.intent == "out_of_scope" and top.score - runner_up >= thresholds.margin:
            return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
        if len(close) >= 2:
            return Decision(verdict=Verdict.SUGGEST, intent=top.intent, confidence=top.score, options=tuple(close))
        if top.score >= answer_at and top.intent != "out_of_scope":
            return Decision(verdict=Verdict.ANSWER, intent=top.intent, confidence=top.score)
        if close:
            return Decision(verdict=Verdict.SUGGEST, intent=top.intent, confidence=top.score, options=tuple(close))
    return Decision(verdict=Verdict.FALLBACK, intent=top.intent, confidence=top.score)
