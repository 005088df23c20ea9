"""The safeguarding net's bands: any one signal can raise it; the screen never goes unheard."""

from __future__ import annotations

import pytest

from chatbot.matching import Candidate
from chatbot.safeguarding import Band, NetThresholds, Signal, assess
from chatbot.safety import SafetyFinding
from chatbot.understanding.fusion import Reading

NET = NetThresholds()


def reading(*ranked: tuple[str, float], similarity: float = 0.3, terms: int = 8) -> Reading:
    candidates = [Candidate(intent, score) for intent, score in ranked]
    score = next((s for i, s in ranked if i == "concern_safeguarding"), 0.0)
    return Reading(candidates=candidates, terms=terms, safeguarding_score=score, safeguarding_similarity=similarity)


def test_the_screen_and_a_reading_that_agrees_mean_urgent() -> None:
    found = assess(SafetyFinding("adult_contacting_child"), reading(("concern_safeguarding", 0.6), ("post_photo", 0.2)), NET)
    assert (found.band, found.signal, found.category) == (Band.URGENT, Signal.SCREEN, "adult_contacting_child")


def test_a_screen_hit_the_reading_disagrees_with_is_asked_about_not_dropped() -> None:
    found = assess(SafetyFinding("violence_or_danger"), reading(("out_of_scope", 0.5), ("post_photo", 0.2)), NET)
    assert found.band is Band.CHECK


def test_words_of_self_harm_are_always_urgent() -> None:
    found = assess(SafetyFinding("self_harm"), reading(("concern_bullying", 0.7)), NET)
    assert found.band is Band.URGENT


def test_a_strong_safeguarding_reading_is_urgent_without_the_screen() -> None:
    assert assess(None, reading(("concern_safeguarding", 0.62), ("concern_bullying", 0.3)), NET).band is Band.URGENT


def test_safeguarding_leading_at_a_modest_score_is_asked_about() -> None:
    found = assess(None, reading(("concern_safeguarding", 0.3), ("concern_bullying", 0.25)), NET)
    assert (found.band, found.signal) == (Band.CHECK, Signal.SCORE)
    found = assess(None, reading(("concern_safeguarding", 0.45), ("concern_bullying", 0.44)), NET)
    assert found.band is Band.CHECK


def test_a_low_lead_by_a_hair_is_a_coin_toss_not_a_question() -> None:
    found = assess(None, reading(("concern_safeguarding", 0.3), ("staff_friending_parents", 0.29)), NET)
    assert found.band is Band.NONE


def test_closeness_to_the_safeguarding_examples_can_raise_the_band_alone() -> None:
    found = assess(None, reading(("children_accounts_age", 0.5), similarity=NET.check_similarity + 0.01), NET)
    assert (found.band, found.signal) == (Band.CHECK, Signal.SIMILARITY)
    found = assess(None, reading(("children_accounts_age", 0.5), similarity=NET.urgent_similarity), NET)
    assert found.band is Band.URGENT


@pytest.mark.parametrize("terms", [1, 2])
def test_a_vague_message_is_left_to_the_screen(terms: int) -> None:
    assert assess(None, reading(("concern_safeguarding", 0.9), similarity=0.9, terms=terms), NET).band is Band.NONE


def test_a_policy_question_raises_nothing() -> None:
    assert assess(None, reading(("post_photo", 0.8), ("concern_safeguarding", 0.2)), NET).band is Band.NONE
