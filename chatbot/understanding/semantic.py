"""Two opinions from sentence embeddings: nearest examples, and a logistic regression.

- Nearest-3: for each intent, the mean cosine similarity of its three examples
  (or stories) closest to the message. It reads meaning, not shared words, so
  "my lad's been getting horrible messages" lands near "my child is being
  bullied online".
- Logistic regression over the same embeddings: learns which directions tell
  neighbouring intents apart. Trained with scikit-learn only when the cache is
  stale; scored here with numpy.

Both read the long, story-like `stories` of each intent as well as its short
`examples`, so a parent's five-sentence post has something like itself to match.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import numpy.typing as npt

from chatbot.knowledge import Intent
from chatbot.understanding.cache import Arrays
from chatbot.understanding.encoder import Embeddings

Scores = npt.NDArray[np.float64]
AUDIENCES = ("parent", "staff")
NEAREST = 3


def training_texts(intents: Mapping[str, Intent]) -> tuple[list[str], list[int]]:
    """Every example and story, with the number of the intent it belongs to."""
    texts: list[str] = []
    owners: list[int] = []
    for number, intent in enumerate(intents.values()):
        for text in (*intent.examples, *intent.stories):
            texts.append(text)
            owners.append(number)
    return texts, owners


class SemanticHeads:
    """Nearest-3 and logistic-regression scores per intent, in the intents' order."""

    def __init__(
        self,
        *,
        intents: Mapping[str, Intent],
        vectors: Embeddings,
        owners: npt.NDArray[np.intp],
        lr_weights: npt.NDArray[np.float64],
        lr_bias: npt.NDArray[np.float64],
    ) -> None:
        self.intent_ids = list(intents)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._owners = owners
        self._lr_weights = lr_weights  # dimensions x intents
        self._lr_bias = lr_bias
        count = len(self.intent_ids)
        widest = max((int((owners == n).sum()) for n in range(count)), default=1)
        # Each intent's rows, padded with an index pointing at a trailing -1 similarity.
        self._members = np.full((count, max(widest, NEAREST)), len(owners), dtype=np.intp)
        for number in range(count):
            rows = np.flatnonzero(owners == number)
            self._members[number, : len(rows)] = rows
        self._counts = np.array([max(1, min(NEAREST, int((owners == n).sum()))) for n in range(count)])
        self.serves = {a: np.array([i.serves(a) for i in intents.values()]) for a in AUDIENCES}

    @classmethod
    def train(cls, *, intents: Mapping[str, Intent], vectors: Embeddings) -> SemanticHeads:
        """Fit the logistic regression (scikit-learn, imported only here)."""
        from sklearn.linear_model import LogisticRegression

        _, owners = training_texts(intents)
        model = LogisticRegression(C=20.0, max_iter=2000)
        model.fit(vectors, owners)
        weights = np.zeros((vectors.shape[1], len(intents)))
        bias = np.full(len(intents), -1e9)
        for column, number in enumerate(model.classes_):
            weights[:, int(number)] = model.coef_[column]
            bias[int(number)] = model.intercept_[column]
        return cls(intents=intents, vectors=vectors, owners=np.array(owners, dtype=np.intp), lr_weights=weights, lr_bias=bias)

    def to_arrays(self) -> Arrays:
        return {"vectors": self._vectors, "owners": self._owners, "lr_weights": self._lr_weights, "lr_bias": self._lr_bias}

    @classmethod
    def from_arrays(cls, *, intents: Mapping[str, Intent], arrays: Arrays) -> SemanticHeads:
        return cls(
            intents=intents, vectors=np.asarray(arrays["vectors"], dtype=np.float32),
            owners=np.asarray(arrays["owners"], dtype=np.intp),
            lr_weights=np.asarray(arrays["lr_weights"], dtype=np.float64),
            lr_bias=np.asarray(arrays["lr_bias"], dtype=np.float64),
        )

    def nearest(self, query: npt.NDArray[np.float32]) -> Scores:
        """Per intent: the mean similarity of its NEAREST closest examples, clipped to [0, 1]."""
        sims = np.append(self._vectors @ query, -1.0).astype(np.float64)
        top = -np.sort(-sims[self._members], axis=1)[:, :NEAREST]
        top = np.where(top < -0.5, 0.0, top)  # padding of intents with fewer examples
        scores: Scores = np.clip(top.sum(axis=1) / self._counts, 0.0, 1.0)
        return scores

    def regression(self, query: npt.NDArray[np.float32], audience: str) -> Scores:
        """Per intent: the regression's probability, among the intents serving `audience`."""
        logits = query.astype(np.float64) @ self._lr_weights + self._lr_bias
        logits[~self.serves[audience]] = -np.inf
        logits -= logits.max()
        probs = np.exp(logits)
        return np.asarray(probs / probs.sum(), dtype=np.float64)
