"""The cache of embeddings and trained weights: keyed by model and intents, rebuilt when stale."""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chatbot.knowledge import KnowledgeBase
from chatbot.evaluation import load_cases
from chatbot.matching import Matcher
from chatbot.understanding.cache import ArtifactCache, fingerprint, source_fingerprint
from chatbot.understanding.encoder import SentenceEncoder
from chatbot.understanding.fusion import FusedMatcher, build_matcher

from tests.conftest import DEV_SET, REPO


def test_the_key_changes_with_the_model_and_with_any_example(kb: KnowledgeBase) -> None:
    intents = dict(kb.intents)
    base = fingerprint(model_sha256="a", intents=intents)
    assert fingerprint(model_sha256="a", intents=intents) == base
    assert fingerprint(model_sha256="b", intents=intents) != base
    first = next(iter(intents))
    edited = {**intents, first: replace(intents[first], examples=intents[first].examples + ("one more way to ask",))}
    assert fingerprint(model_sha256="a", intents=edited) != base
    storied = {**intents, first: replace(intents[first], stories=intents[first].stories + ("a new long story",))}
    assert fingerprint(model_sha256="a", intents=storied) != base


def test_entries_round_trip_and_a_new_key_replaces_the_stale_file(tmp_path: Path) -> None:
    cache = ArtifactCache(directory=tmp_path)
    cache.save("heads", "k1", {"vectors": np.eye(3, dtype=np.float32), "names": np.array(["a", "b"])})
    loaded = cache.load("heads", "k1")
    assert loaded is not None and np.array_equal(loaded["vectors"], np.eye(3)) and list(loaded["names"]) == ["a", "b"]
    assert cache.load("heads", "k2") is None
    cache.save("heads", "k2", {"vectors": np.zeros(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heads-k2.npz"]


def test_a_damaged_file_is_rebuilt_not_trusted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "heads-k1.npz").write_bytes(b"PK\x03\x04 broken")
    with caplog.at_level(logging.WARNING):
        assert ArtifactCache(directory=tmp_path).load("heads", "k1") is None
    assert "unreadable" in caplog.text


def test_a_cache_in_a_file_path_logs_and_carries_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        ArtifactCache(directory=blocker).save("heads", "k1", {"a": np.zeros(1)})
    assert "not writable" in caplog.text


def test_a_cold_build_fills_the_cache_and_a_warm_one_gives_the_same_readings(kb: KnowledgeBase, tmp_path: Path) -> None:
    few = {k: kb.intents[k] for k in ("post_photo", "children_accounts_age", "out_of_scope", "concern_safeguarding")}
    encoder = SentenceEncoder()
    cold = build_matcher(intents=few, cache_dir=tmp_path, encoder=encoder)
    assert sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*.npz")) == ["classifier", "lexical", "semantic"]
    warm = build_matcher(intents=few, cache_dir=tmp_path, encoder=encoder)
    text = "my 11 year old keeps asking for tiktok, is she old enough"
    assert cold.read(text, audience="parent") == warm.read(text, audience="parent")
    assert warm.rank(text, audience="parent")[0].intent == "children_accounts_age"


def test_a_warm_start_never_imports_scikit_learn(matcher: FusedMatcher) -> None:
    # The session's matcher fixture has filled the repo's cache; a fresh process must only read it.
    script = (
        "import sys\n"
        "import cli.main\n"  # the `chatbot` command itself imports nothing heavy
        "from chatbot.config import Settings\n"
        "from chatbot.runtime import load_kb\n"
        "from chatbot.understanding.fusion import build_matcher\n"
        "s = Settings()\n"
        "m = build_matcher(intents=load_kb(s).intents, cache_dir=s.cache_dir)\n"
        "m.read('can I post a photo from sports day', audience='parent')\n"
        "print('sklearn' in sys.modules, 'scipy.sparse' in sys.modules and 'sklearn' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "False"


def test_the_lexical_index_read_from_the_cache_ranks_exactly_as_the_built_one(
    kb: KnowledgeBase, matcher: FusedMatcher
) -> None:
    built = Matcher(intents=kb.intents, classifier=matcher.lexical.classifier)
    read = Matcher(intents=kb.intents, classifier=matcher.lexical.classifier, index=built.to_arrays())
    texts = [case.text for case in load_cases(DEV_SET)] + ["", "??", "fb pic of my lad at sportsday"]
    for text in texts:
        for audience in ("parent", "staff"):
            assert read.rank(text, audience=audience) == built.rank(text, audience=audience)
            assert read.terms(text) == built.terms(text)


def test_the_lexical_key_changes_with_the_code_that_builds_the_index(tmp_path: Path) -> None:
    import types

    first = types.ModuleType("first")
    first.__file__ = str(tmp_path / "first.py")
    (tmp_path / "first.py").write_text("PHRASES = {'fb': 'facebook'}\n")
    before = source_fingerprint(first, packages=["numpy"])
    assert source_fingerprint(first, packages=["numpy"]) == before
    (tmp_path / "first.py").write_text("PHRASES = {'fb': 'facebook', 'insta': 'instagram'}\n")
    assert source_fingerprint(first, packages=["numpy"]) != before
