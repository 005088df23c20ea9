"""5-fold cross-validation over the intents' own examples and stories: the honest guide to unseen messages.

Usage: python benchmarks/crossval_understanding.py [--folds 5]

Each fold holds out a fifth of every intent's examples and stories, builds the
lexical matcher and the semantic heads from the rest, and reads the held-out
ones as if a person had sent them (as a parent: staff-only intents are read
with the staff audience). Reported for the lexical-only matcher and the fused
one: top-1 and top-3 of the ranking, and top-1 of the decision (a fallback
counts as out_of_scope), for the short examples and the long stories apart.
The embeddings are the cached ones (a held-out text's vector does not depend
on the others), so no text is embedded twice.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.classifier import IntentClassifier  # noqa: E402
from chatbot.config import Settings  # noqa: E402
from chatbot.confidence import Thresholds, Verdict, decide  # noqa: E402
from chatbot.matching import Candidate, Matcher  # noqa: E402
from chatbot.runtime import load_kb  # noqa: E402
from chatbot.understanding.encoder import Embeddings  # noqa: E402
from chatbot.understanding.fusion import FusedMatcher, build_matcher  # noqa: E402
from chatbot.understanding.semantic import SemanticHeads, training_texts  # noqa: E402


class _Known:
    """Stands in for the encoder: hands back the cached vector of a text it has seen."""

    def __init__(self, texts: list[str], vectors: Embeddings) -> None:
        self._rows = {t: i for i, t in enumerate(texts)}
        self._vectors = vectors

    def embed(self, texts: list[str]) -> Embeddings:
        return self._vectors[[self._rows[t] for t in texts]]


def _label(candidates: list[Candidate], terms: int) -> str:
    decision = decide(candidates, Thresholds(), terms=terms)
    return "out_of_scope" if decision.verdict is Verdict.FALLBACK or decision.intent is None else decision.intent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    intents = load_kb(settings).intents
    full = build_matcher(intents=intents, cache_dir=settings.cache_dir)
    texts, owners = training_texts(intents)
    vectors = full.heads.to_arrays()["vectors"].astype(np.float32)
    known = _Known(texts, vectors)
    rng = random.Random(5)
    fold_of: dict[tuple[str, str], int] = {}
    for intent in intents.values():
        for group in (intent.examples, intent.stories):
            order = list(group)
            rng.shuffle(order)
            for n, text in enumerate(order):
                fold_of[(intent.id, text)] = n % args.folds
    tallies: dict[str, list[int]] = {}
    for fold in range(args.folds):
        kept = {
            k: replace(i, examples=tuple(e for e in i.examples if fold_of[(k, e)] != fold) or i.examples[:1],
                       stories=tuple(s for s in i.stories if fold_of[(k, s)] != fold))
            for k, i in intents.items()
        }  # fmt: skip
        kept_texts, kept_owners = training_texts(kept)
        heads = SemanticHeads.train(intents=kept, vectors=known.embed(kept_texts))
        lexical = Matcher(intents=kept, classifier=IntentClassifier.train(kept))
        fused = FusedMatcher(lexical=lexical, heads=heads, encoder=known)  # type: ignore[arg-type]
        for intent in intents.values():
            audience = "staff" if intent.audience == "staff" else "parent"
            for kind, group in (("short", intent.examples), ("story", intent.stories)):
                for text in group:
                    if fold_of[(intent.id, text)] != fold:
                        continue
                    reading = fused.read(text, audience=audience)
                    old = lexical.rank(text[:600], audience=audience)
                    for name, ranked, label in (
                        ("fused", reading.candidates, _label(reading.candidates, reading.terms)),
                        ("lexical", old, _label(old, len(lexical.terms(text[:600])))),
                    ):
                        ids = [c.intent for c in ranked[:3]]
                        tally = tallies.setdefault(f"{name} {kind}", [0, 0, 0, 0])
                        tally[0] += 1
                        tally[1] += ids[:1] == [intent.id]
                        tally[2] += intent.id in ids
                        tally[3] += label == intent.id
        print(f"fold {fold + 1}/{args.folds} done", file=sys.stderr)
    print(f"{args.folds}-fold cross-validation over the intents' own examples and stories")
    for key in sorted(tallies):
        n, top1, top3, decided = tallies[key]
        print(f"{key:<14} n={n:<5} ranking top-1 {top1 / n:.3f}  top-3 {top3 / n:.3f}  decision top-1 {decided / n:.3f}")


if __name__ == "__main__":
    main()
