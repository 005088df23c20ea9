"""Rank intents for a message in two stages.

1. Recall: TF-IDF over stemmed canonical words and word pairs, scoring each
   intent by its nearest examples and its centroid, plus a small keyword bonus;
   the linear classifier (classifier.py) adds its own top candidates.
2. Rerank: rapidfuzz's token-sort similarity between the message and each
   shortlisted intent's examples (character level, so it forgives typos and word
   forms the first stage splits apart), blended half and half with the
   classifier's score. Each example's words are sorted once, at build, so the
   rerank is a plain `fuzz.ratio` against the sorted message (same figures,
   about 9x faster than token_sort_ratio re-sorting every example each time).
   Each stage was kept because it lifted cross-validated accuracy.

Cheap and synchronous (about a millisecond a message), so the engine calls it
directly. Everything heavy happens once, when the matcher is built.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from scipy.sparse import csr_matrix, diags

from chatbot.classifier import IntentClassifier
from chatbot.knowledge import Intent
from chatbot.normalise import content_terms, words

Vector = dict[str, float]
Arrays = dict[str, npt.NDArray[np.generic]]
SEPARATOR = "\x1f"  # between a keyword's terms in the cache (never inside a term)


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


def _sorted_words(text: str) -> str:
    """Canonical words in sorted order: what token_sort_ratio compares."""
    return " ".join(sorted(words(text)))


def _strings(values: Iterable[str]) -> npt.NDArray[np.str_]:
    listed = list(values)
    return np.array(listed, dtype=str) if listed else np.zeros(0, dtype="<U1")


def _sparse(name: str, matrix: csr_matrix) -> Arrays:
    return {
        f"{name}_data": matrix.data, f"{name}_indices": matrix.indices, f"{name}_indptr": matrix.indptr,
        f"{name}_shape": np.array(matrix.shape, dtype=np.intp),
    }  # fmt: skip


def _unsparse(name: str, arrays: Arrays) -> csr_matrix:
    shape = tuple(int(n) for n in arrays[f"{name}_shape"])
    return csr_matrix((arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"]), shape=shape)


def _normalised(vec: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {k: w / norm for k, w in vec.items()} if norm else {}


class Matcher:
    """Scores a message against every intent's examples for one audience."""

    TOP_K = 3
    SHORTLIST = 8
    RERANK_WEIGHT = 0.5
    CLASSIFIER_WEIGHT = 0.5

    def __init__(
        self, *, intents: Mapping[str, Intent], classifier: IntentClassifier | None = None, index: Arrays | None = None
    ) -> None:
        """`classifier`: trained weights from the cache; without it they are trained here.

        `index`: what `to_arrays` gave for the same intents (kept in the cache), so a warm
        start skips normalising every example again (most of the build); without it, built here.
        """
        self._intents = dict(intents)
        self._intent_ids = list(intents)
        if index is None:
            self._build(intents)
        else:
            self._load(index)
        self._serves = {
            audience: np.array([i.serves(audience) for i in intents.values()]) for audience in ("parent", "staff")
        }
        self.classifier = classifier or IntentClassifier.train(self._intents)

    def _build(self, intents: Mapping[str, Intent]) -> None:
        examples: list[tuple[int, tuple[str, ...]]] = []
        for number, intent in enumerate(intents.values()):
            for example in intent.examples:
                examples.append((number, content_terms(example)))
        doc_freq: dict[str, int] = defaultdict(int)
        for _, terms in examples:
            for feat in set(_features(terms)):
                doc_freq[feat] += 1
        n_docs = len(examples) or 1
        self._idf = {feat: math.log((1 + n_docs) / (1 + df)) + 1.0 for feat, df in doc_freq.items()}
        self._column = {feat: j for j, feat in enumerate(self._idf)}
        self._vocab = sorted({t for _, terms in examples for t in terms})
        rows, cols, vals = [], [], []
        for row, (_, terms) in enumerate(examples):
            for feat, weight in self._vector(terms).items():
                rows.append(row)
                cols.append(self._column[feat])
                vals.append(weight)
        shape = (len(examples), len(self._column))
        self._examples = csr_matrix((vals, (rows, cols)), shape=shape)
        owner = np.array([number for number, _ in examples], dtype=np.intp)
        membership = csr_matrix(
            (np.ones(len(examples)), (owner, np.arange(len(examples)))), shape=(len(self._intent_ids), len(examples))
        )
        sums = csr_matrix(membership @ self._examples)
        norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self._centroids = csr_matrix(diags(1.0 / norms) @ sums)
        # Each intent's example rows, padded with an index pointing at a trailing zero.
        widest = max((int((owner == n).sum()) for n in range(len(self._intent_ids))), default=1)
        self._members = np.full((len(self._intent_ids), widest), len(examples), dtype=np.intp)
        for number in range(len(self._intent_ids)):
            members = np.flatnonzero(owner == number)
            self._members[number, : len(members)] = members
        self._keywords = [
            {tuple(content_terms(k)) for k in intent.keywords if content_terms(k)} for intent in intents.values()
        ]
        self._sorted_examples = {
            intent.id: sorted({_sorted_words(e) for e in intent.examples}) for intent in intents.values()
        }

    def to_arrays(self) -> Arrays:
        """The built index as plain arrays (no pickles) for the cache."""
        keywords = [(n, SEPARATOR.join(k)) for n, kws in enumerate(self._keywords) for k in sorted(kws)]
        examples = [(n, text) for n, i in enumerate(self._intent_ids) for text in self._sorted_examples[i]]
        return {
            "features": _strings(self._idf), "idf": np.fromiter(self._idf.values(), dtype=np.float64),
            "vocab": _strings(self._vocab), **_sparse("examples", self._examples),
            **_sparse("centroids", self._centroids), "members": self._members,
            "keyword_owner": np.array([n for n, _ in keywords], dtype=np.intp),
            "keyword_terms": _strings(k for _, k in keywords),
            "sorted_owner": np.array([n for n, _ in examples], dtype=np.intp),
            "sorted_text": _strings(t for _, t in examples),
        }  # fmt: skip

    def _load(self, arrays: Arrays) -> None:
        features = [str(f) for f in arrays["features"]]
        self._idf = dict(zip(features, np.asarray(arrays["idf"], dtype=np.float64).tolist()))
        self._column = {feat: j for j, feat in enumerate(features)}
        self._vocab = [str(t) for t in arrays["vocab"]]
        self._examples = _unsparse("examples", arrays)
        self._centroids = _unsparse("centroids", arrays)
        self._members = np.asarray(arrays["members"], dtype=np.intp)
        self._keywords = [set() for _ in self._intent_ids]
        for number, terms in zip(arrays["keyword_owner"].tolist(), arrays["keyword_terms"].tolist()):
            self._keywords[number].add(tuple(str(terms).split(SEPARATOR)))
        self._sorted_examples = {intent_id: [] for intent_id in self._intent_ids}
        for number, text in zip(arrays["sorted_owner"].tolist(), arrays["sorted_text"].tolist()):
            self._sorted_examples[self._intent_ids[number]].append(str(text))

    def _vector(self, terms: Iterable[str]) -> Vector:
        """Sublinear TF-IDF over known features, L2-normalised."""
        counts: dict[str, int] = defaultdict(int)
        for feat in _features(tuple(terms)):
            if feat in self._idf:
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
        recalled = {c.intent: c.score for c in self._recall(text, audience=audience)[: self.SHORTLIST]}
        if not recalled:
            return []
        opinion = {i: s for i, s in self.classifier.scores(text).items() if self._intents[i].serves(audience)}
        for intent_id in sorted(opinion, key=opinion.__getitem__, reverse=True)[:4]:
            recalled.setdefault(intent_id, 0.0)
        query = _sorted_words(text)
        reranked = []
        for intent_id, recall_score in recalled.items():
            match = process.extractOne(query, self._sorted_examples[intent_id], scorer=fuzz.ratio)
            closeness = match[1] / 100.0 if match else 0.0
            lexical = (1 - self.RERANK_WEIGHT) * recall_score + self.RERANK_WEIGHT * closeness
            score = (1 - self.CLASSIFIER_WEIGHT) * lexical + self.CLASSIFIER_WEIGHT * opinion.get(intent_id, 0.0)
            reranked.append(Candidate(intent_id, score))
        reranked.sort(key=lambda c: c.score, reverse=True)
        return reranked[:limit]

    def _recall(self, text: str, *, audience: str) -> list[Candidate]:
        """First stage: TF-IDF nearest examples and centroids, best first (sparse algebra)."""
        terms = self.terms(text)
        query = self._vector(terms)
        if not query:
            return []
        vec = np.zeros(len(self._column))
        for feat, weight in query.items():
            vec[self._column[feat]] = weight
        sims = np.append(self._examples @ vec, 0.0)
        nearest = -np.sort(-sims[self._members], axis=1)[:, : self.TOP_K]
        knn = 0.6 * nearest[:, 0] + 0.4 * nearest.sum(axis=1) / self.TOP_K
        centroid = self._centroids @ vec
        term_set = set(terms)
        keyword = np.array([0.08 if any(set(k) <= term_set for k in kws) else 0.0 for kws in self._keywords])
        scores = np.minimum(1.0, 0.7 * knn + 0.3 * centroid + keyword)
        scores[~self._serves.get(audience, self._serves["parent"])] = 0.0
        order = np.argsort(-scores)
        return [Candidate(self._intent_ids[i], float(scores[i])) for i in order if scores[i] > 0]
