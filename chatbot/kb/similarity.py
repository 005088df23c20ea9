"""Which passages of a policy are most like an intent: the ranking behind coverage and drafting.

An intent is read as everything people were taught to ask under it (summary, label,
keywords, examples, stories). Each phrasing becomes a TF-IDF vector over the project's
own folded, stemmed terms, and the intent is their normalised centroid, so one long
story cannot outweigh forty short questions. A section scores by cosine similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from chatbot.knowledge import Intent, Section
from chatbot.normalise import content_terms


@dataclass(frozen=True, kw_only=True)
class SectionMatch:
    """A section, and how much it resembles the intent (cosine, 0 to 1)."""

    section_id: str
    title: str
    score: float


def intent_phrasings(intent: Intent) -> list[str]:
    """Everything that says what the intent is about."""
    return [intent.summary, intent.label, " ".join(intent.keywords), *intent.examples, *intent.stories]


def _normalised(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


class SectionRanker:
    """Ranks one policy's sections against intents.

    The vocabulary and idf are fitted on the sections and the intents' phrasings together,
    so words parents use and words policies use share one scale.
    """

    def __init__(self, *, sections: Sequence[Section], intents: Sequence[Intent]) -> None:
        # Imported here: every `chatbot` command imports this module, and only `kb` commands need scikit-learn.
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._sections = tuple(sections)
        self._vectorizer = TfidfVectorizer(analyzer=content_terms, sublinear_tf=True)
        corpus = [self._section_text(s) for s in self._sections]
        self._vectorizer.fit(corpus + [p for intent in intents for p in intent_phrasings(intent)])
        self._matrix = _normalised(self._dense(corpus))

    @staticmethod
    def _section_text(section: Section) -> str:
        return f"{section.title}\n{section.text}"

    def _dense(self, texts: list[str]) -> NDArray[np.float64]:
        return np.asarray(self._vectorizer.transform(texts).toarray(), dtype=np.float64)

    def scores(self, intent: Intent) -> NDArray[np.float64]:
        """One score per section, in the order the sections were given."""
        if not self._sections:
            return np.zeros(0)
        centroid = _normalised(self._dense(intent_phrasings(intent))).mean(axis=0)
        return np.asarray(self._matrix @ _normalised(centroid), dtype=np.float64)

    def rank(self, intent: Intent, *, top: int = 3, min_score: float = 0.0) -> list[SectionMatch]:
        """The `top` sections most like the intent, best first, each scoring at least `min_score`."""
        scores = self.scores(intent)
        order = np.argsort(-scores, kind="stable")[:top]
        return [
            SectionMatch(section_id=self._sections[i].id, title=self._sections[i].title, score=round(float(scores[i]), 3))
            for i in order
            if scores[i] >= min_score and scores[i] > 0
        ]
