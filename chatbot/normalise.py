"""Fold what people type into comparable tokens: case, punctuation, spelling, text-speak, stems.

Cheap and synchronous: it runs on every message, so results are cached.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from chatbot.lexicon import PHRASES, STOPWORDS, TOKENS

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_AGE = re.compile(r"\b(\d{1,2})\s*(?:-|\s)?\s*(?:yo|y/o|yrs?|years?)(?:\s*-?\s*old)?\b")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_PHRASE_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")\b"
)
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower-case, strip accents and apostrophes, keep letters, digits and single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _APOSTROPHES.sub("", text)
    text = _REPEATS.sub(r"\1\1", text)  # "pleeeease" -> "pleease"
    return _NON_WORD.sub(" ", text).strip()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


SHORT_TEXT = 300  # only texts up to this long are cached: long ones are rarely repeated and cost 100s of KB each


def words(text: str) -> tuple[str, ...]:
    """Canonical words of `text`: folded, phrases and text-speak mapped, stop words kept."""
    return _cached_words(text) if len(text) <= SHORT_TEXT else _words(text)


def content_terms(text: str) -> tuple[str, ...]:
    """Stemmed content words: what the matcher compares."""
    return _cached_terms(text) if len(text) <= SHORT_TEXT else _terms(text)


def _words(text: str) -> tuple[str, ...]:
    folded = fold(text)
    folded = _AGE.sub(r" \1 yearold ", folded)
    folded = _PHRASE_PATTERN.sub(lambda m: PHRASES[m.group(1)], folded)
    out: list[str] = []
    tokens = folded.split()
    for token in tokens:
        if token == "ta":  # "ta!" is thanks; "my son's TA" is a teaching assistant
            out.append("thanks" if len(tokens) <= 3 else "teacher")
            continue
        mapped = TOKENS.get(token)
        if mapped is None:
            mapped = TOKENS.get(stem(token), token)
        if mapped:
            out.extend(mapped.split())
    return tuple(out)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(text) if w not in STOPWORDS and not w.isdigit())


_cached_words = lru_cache(maxsize=8192)(_words)
_cached_terms = lru_cache(maxsize=8192)(_terms)


def is_stopword(word: str) -> bool:
    return word in STOPWORDS
