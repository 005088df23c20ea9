"""Fusion, not replacement: the lexical matcher and the semantic heads vote together.

score = 0.6 x lexical + 0.1 x logistic regression + 0.3 x nearest-3 examples,
over the intents that serve the asker's audience. Neither kind alone beat the
lexical matcher by much; together they gain a lot, because they fail on
different messages: words a parent didn't use vs. words shared by two topics.

The whole message is embedded (up to the model's 256 tokens): splitting a long
message into sentences measured worse, since a story's topic is spread across it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

import numpy as np

from chatbot.classifier import IntentClassifier
from chatbot.knowledge import Intent
from chatbot.matching import Candidate, Matcher
from chatbot.understanding.batching import MicroBatcher
from chatbot.understanding.cache import ArtifactCache, fingerprint, source_fingerprint
from chatbot.understanding.encoder import SentenceEncoder
from chatbot.understanding.semantic import SemanticHeads, training_texts

log = logging.getLogger(__name__)

SAFEGUARDING = "concern_safeguarding"


@dataclass(frozen=True, kw_only=True)
class Weights:
    lexical: float = 0.6
    regression: float = 0.1
    nearest: float = 0.3


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One message, read: fused candidates best first, and the signals the safeguarding net uses."""

    candidates: list[Candidate]
    terms: int
    safeguarding_score: float  # the fused score of concern_safeguarding
    safeguarding_similarity: float  # nearest-3 similarity to the safeguarding examples and stories


class FusedMatcher:
    """Ranks intents for a message by the fused score; blocking (the engine calls it off the event loop).

    Thread-safe: turns read in several worker threads at once have their messages embedded together.
    """

    def __init__(
        self, *, lexical: Matcher, heads: SemanticHeads, encoder: SentenceEncoder, weights: Weights = Weights()
    ) -> None:
        self.lexical = lexical
        self.heads = heads
        self.encoder = encoder
        self.batcher = MicroBatcher(encoder=encoder)  # turns read side by side share model runs
        self.weights = weights
        self._column = {intent_id: n for n, intent_id in enumerate(heads.intent_ids)}
        self._safeguarding = self._column.get(SAFEGUARDING)

    def terms(self, text: str) -> tuple[str, ...]:
        return self.lexical.terms(text)

    def read(self, text: str, *, audience: str, limit: int = 5) -> Reading:
        query = self.batcher.embed_one(text)
        lexical = np.zeros(len(self._column))
        for candidate in self.lexical.rank(text, audience=audience, limit=len(self._column)):
            lexical[self._column[candidate.intent]] = candidate.score
        nearest = self.heads.nearest(query)
        w = self.weights
        fused = w.lexical * lexical + w.regression * self.heads.regression(query, audience) + w.nearest * nearest
        fused[~self.heads.serves[audience]] = 0.0
        order = np.argsort(-fused)[:limit]
        ids = self.heads.intent_ids
        at = self._safeguarding
        return Reading(
            candidates=[Candidate(ids[i], float(fused[i])) for i in order if fused[i] > 0],
            terms=len(self.lexical.terms(text)),
            safeguarding_score=float(fused[at]) if at is not None else 0.0,
            safeguarding_similarity=float(nearest[at]) if at is not None else 0.0,
        )

    def rank(self, text: str, *, audience: str, limit: int = 5) -> list[Candidate]:
        return self.read(text, audience=audience, limit=limit).candidates


def lexical_view(intents: Mapping[str, Intent], *, with_stories: bool) -> dict[str, Intent]:
    """The intents as the lexical matcher sees them (stories folded into examples, or not)."""
    if not with_stories:
        return dict(intents)
    return {k: replace(i, examples=i.examples + i.stories) for k, i in intents.items()}


LEXICAL_SEES_STORIES = False  # measured: see README "Understanding, measured"


def lexical_code() -> str:
    """The code the lexical index and the classifier are built by (see source_fingerprint)."""
    from chatbot import classifier, lexicon, matching, normalise

    return source_fingerprint(normalise, lexicon, matching, classifier, packages=["snowballstemmer"])


def build_matcher(
    *, intents: Mapping[str, Intent], cache_dir: Path | None, encoder: SentenceEncoder | None = None
) -> FusedMatcher:
    """Load the heads, the classifier and the lexical index from the cache, or build (and cache) them when stale."""
    encoder = encoder or SentenceEncoder(cache_dir=cache_dir)
    cache = ArtifactCache(directory=cache_dir)
    key = fingerprint(model_sha256=encoder.model_sha256, intents=intents, extra=[f"stories={LEXICAL_SEES_STORIES}"])
    lexical_key = fingerprint(
        model_sha256="", intents=intents, extra=[f"stories={LEXICAL_SEES_STORIES}", lexical_code()]
    )
    lexical_intents = lexical_view(intents, with_stories=LEXICAL_SEES_STORIES)
    classifier_arrays = cache.load("classifier", lexical_key)
    if classifier_arrays is None:
        classifier = IntentClassifier.train(lexical_intents)
        cache.save("classifier", lexical_key, classifier.to_arrays())
    else:
        classifier = IntentClassifier.from_arrays(classifier_arrays)
    index = cache.load("lexical", lexical_key)
    lexical = Matcher(intents=lexical_intents, classifier=classifier, index=index)
    if index is None:
        cache.save("lexical", lexical_key, lexical.to_arrays())
    heads_arrays = cache.load("semantic", key)
    if heads_arrays is None:
        log.info("embedding the intents' examples (cache empty or stale); this happens once")
        texts, _ = training_texts(intents)
        heads = SemanticHeads.train(intents=intents, vectors=encoder.embed(texts))
        cache.save("semantic", key, heads.to_arrays())
    else:
        heads = SemanticHeads.from_arrays(intents=intents, arrays=heads_arrays)
    return FusedMatcher(lexical=lexical, heads=heads, encoder=encoder)
