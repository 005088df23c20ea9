"""Reading one message, with no side effects: the safeguarding band, the ranked topics, the decision.

The engine reads every text this way, and `chatbot eval` scores exactly this reading,
so what is measured is what parents get.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from chatbot.flows.intake import MAX_CONCERN_CHARS
from chatbot.confidence import Decision, Thresholds, Verdict, decide
from chatbot.matching import Candidate
from chatbot.safeguarding import Assessment, Band, NetThresholds, Signal, assess
from chatbot.safety import screen
from chatbot.understanding.fusion import FusedMatcher

SAFEGUARDING = "concern_safeguarding"


@dataclass(frozen=True, kw_only=True)
class Understanding:
    """How a text was read: the safeguarding band, the ranked candidates, the decision.

    The band is assessed with the engine's own thresholds when the text is read,
    so `urgent` and `check` say what this engine would do.
    """

    safeguarding: Assessment
    candidates: list[Candidate]
    decision: Decision

    @property
    def urgent(self) -> bool:
        return self.safeguarding.band is Band.URGENT

    @property
    def check(self) -> bool:
        return self.safeguarding.band is Band.CHECK

    @property
    def intent(self) -> str:
        """The single label this reading amounts to (what the evaluation scores)."""
        if self.safeguarding.band is not Band.NONE:
            return SAFEGUARDING
        if self.decision.verdict is Verdict.FALLBACK or self.decision.intent is None:
            return "out_of_scope"
        return self.decision.intent


def read(
    matcher: FusedMatcher, text: str, *, audience: str, thresholds: Thresholds, net: NetThresholds,
    ruled_out: frozenset[str] = frozenset(),
) -> Understanding:  # fmt: skip
    """Read the whole message (blocking: it embeds the text).

    `ruled_out`: intents the person has already said it is not (a "No" at the safeguarding check).
    """
    text = text[:MAX_CONCERN_CHARS]  # read up to the length a concern may have
    reading = matcher.read(text, audience=audience)
    candidates = [c for c in reading.candidates if c.intent not in ruled_out]
    decision = decide(candidates, thresholds, terms=reading.terms)
    safeguarding = assess(screen(text), reading, net)
    if safeguarding.band is Band.NONE and offered_as_a_close_choice(candidates, decision, net):
        # A child at risk is never one choice in a "did you mean" menu: ask the one check question.
        safeguarding = Assessment(band=Band.CHECK, signal=Signal.SCORE)
    return Understanding(safeguarding=safeguarding, candidates=candidates, decision=decision)


def offered_as_a_close_choice(candidates: list[Candidate], decision: Decision, net: NetThresholds) -> bool:
    """Safeguarding would be a "did you mean" option, within `menu_call` of the leader."""
    if SAFEGUARDING not in decision.options or not candidates:
        return False
    score = next(c.score for c in candidates if c.intent == SAFEGUARDING)
    return candidates[0].score - score <= net.menu_call


def mostly_non_latin(text: str) -> bool:
    """Most letters are not Latin: the bot reads English only, and says so."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 3:
        return False
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters) < 0.5
