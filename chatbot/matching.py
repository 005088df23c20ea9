"""Rank intents for a message in two stages.

1. Recall: TF-IDF over stemmed canonical words and word pairs, scoring each
   intent by its nearest examples and its centroid, plus a small keyword bonus.
2. Rerank: rapidfuzz's token_sort_ratio between the message and each shortlisted
   intent's examples (character level, so it forgives typos and word forms the
   first stage splits apart). On the development set this second stage lifted
   top-1 accuracy by about five points.

Cheap and synchronous (about a millisecond a message), so the engine calls it
directly. Everything heavy happens once, when the matcher is built.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from rapidfuzz import fuzz, process

from chatbot.knowledge import Intent
from chatbot.normalise import content_terms, words

Vector = dict[str, float]


@dataclass(frozen=True)
class Candidate:
    """One ranked guess: the intent and a score in [0, 1]."""

    intent: str
    score: float


def _features(terms: tuple[str, ...]) -> list[str]:
    """Unigrams plus adjacent-pair bigrams: word order carries meaning ("child post" vs "post child")."""
    feats = list(terms)
    feats.extend(f"{a}_{b}" for a, b in zip(terms, terms[1:]))
    return feats


def _normalised(vec: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {k: w / norm for k, w in vec.items()} if norm else {}


class Matcher:
    """Scores a message against every intent's examples for one audience."""

    TOP_K = 3
    SHORTLIST = 8
    RERANK_WEIGHT = 0.5

    def __init__(self, *, intents: Mapping[str, Intent]) -> None:
        self._intents = dict(intents)
        examples: list[tuple[str, tuple[str, ...]]] = []
        for intent in intents.values():
            for example in intent.examples:
                examples.append((intent.id, content_terms(example)))
        doc_freq: dict[str, int] = defaultdict(int)
        for _, terms in examples:
            for feat in set(_features(terms)):
                doc_freq[feat] += 1
        n_docs = len(examples) or 1
        self._idf = {feat: math.log((1 + n_docs) / (1 + df)) + 1.0 for feat, df in doc_freq.items()}
        self._vocab = sorted({t for _, terms in examples for t in terms})
        self._example_intent: list[str] = []
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        centroids: dict[str, Vector] = defaultdict(lambda: defaultdict(float))
        for idx, (intent_id, terms) in enumerate(examples):
            vec = self._vector(terms, known_only=True)
            self._example_intent.append(intent_id)
            for feat, weight in vec.items():
                self._postings[feat].append((idx, weight))
                centroids[intent_id][feat] += weight
        self._centroids = {i: _normalised(dict(v)) for i, v in centroids.items()}
        self._keywords = {
            intent.id: {tuple(content_terms(k)) for k in intent.keywords if content_terms(k)}
            for intent in intents.values()
        }
        self._canonical_examples = {
            intent.id: [" ".join(words(e)) for e in intent.examples] for intent in intents.values()
        }

    @property
    def vocabulary(self) -> list[str]:
        return self._vocab

    def _vector(self, terms: Iterable[str], *, known_only: bool) -> Vector:
        counts: dict[str, int] = defaultdict(int)
        for feat in _features(tuple(terms)):
            if feat in self._idf or not known_only:
                counts[feat] += 1
        vec = {f: (1.0 + math.log(c)) * self._idf.get(f, 0.0) for f, c in counts.items()}
        return _normalised({f: w for f, w in vec.items() if w > 0})

    @lru_cache(maxsize=16384)
    def _correct(self, term: str) -> str:
        """Map an unknown (probably misspelt) term to the nearest known one."""
        if term in self._idf or len(term) < 4 or term.isdigit():
            return term
        best = process.extractOne(term, self._vocab, scorer=fuzz.ratio, score_cutoff=80)
        return best[0] if best else term

    def terms(self, text: str) -> tuple[str, ...]:
        return tuple(self._correct(t) for t in content_terms(text))

    def rank(self, text: str, *, audience: str, limit: int = 5) -> list[Candidate]:
        """Intents ranked best first, restricted to those that serve `audience`."""
        shortlist = self._recall(text, audience=audience)[: self.SHORTLIST]
        if not shortlist:
            return []
        canonical = " ".join(words(text))
        reranked = []
        for cand in shortlist:
            match = process.extractOne(canonical, self._canonical_examples[cand.intent], scorer=fuzz.token_sort_ratio)
            closeness = match[1] / 100.0 if match else 0.0
            score = (1 - self.RERANK_WEIGHT) * cand.score + self.RERANK_WEIGHT * closeness
            reranked.append(Candidate(cand.intent, score))
        reranked.sort(key=lambda c: c.score, reverse=True)
        return reranked[:limit]

    def _recall(self, text: str, *, audience: str) -> list[Candidate]:
        """First stage: TF-IDF nearest examples and centroids, best first."""
        terms = self.terms(text)
        query = self._vector(terms, known_only=True)
        if not query:
            return []
        dots: dict[int, float] = defaultdict(float)
        for feat, weight in query.items():
            for idx, ex_weight in self._postings.get(feat, ()):
                dots[idx] += weight * ex_weight
        per_intent: dict[str, list[float]] = defaultdict(list)
        for idx, sim in dots.items():
            per_intent[self._example_intent[idx]].append(sim)
        term_set = set(terms)
        scored: list[Candidate] = []
        for intent_id, sims in per_intent.items():
            if not self._intents[intent_id].serves(audience):
                continue
            sims.sort(reverse=True)
            top = sims[: self.TOP_K]
            knn = 0.6 * top[0] + 0.4 * (sum(top) / self.TOP_K)
            centroid = sum(w * self._centroids[intent_id].get(f, 0.0) for f, w in query.items())
            keyword = 0.08 if any(set(k) <= term_set for k in self._keywords[intent_id]) else 0.0
            scored.append(Candidate(intent_id, min(1.0, 0.7 * knn + 0.3 * centroid + keyword)))
        scored.sort(key=lambda c: c.score, reverse=True)
        return scored
