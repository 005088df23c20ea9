"""The encoder's optimised graph kept in the cache: same readings, and a bad copy is rebuilt, never trusted."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from chatbot.understanding.cache import ArtifactCache
from chatbot.understanding.encoder import SentenceEncoder
from chatbot.understanding.session import NAME, cache_key

TEXTS = ["can I post a photo from sports day?", "my son's teacher added him on Facebook, is that allowed?"]


@pytest.fixture(scope="module")
def plain() -> SentenceEncoder:
    return SentenceEncoder()  # no cache: optimised in memory, as before


def graph_files(directory: Path) -> list[str]:
    return sorted(p.suffix for p in directory.glob(f"{NAME}-*") if p.suffix in (".onnx", ".bin"))


def test_the_optimised_graph_is_kept_and_a_warm_encoder_reads_exactly_as_a_fresh_one(
    plain: SentenceEncoder, tmp_path: Path
) -> None:
    cold = SentenceEncoder(cache_dir=tmp_path)
    assert graph_files(tmp_path) == [".bin", ".onnx"]
    assert not list(tmp_path.glob(".*"))  # no scratch left behind
    warm = SentenceEncoder(cache_dir=tmp_path)
    expected = plain.embed(TEXTS)
    assert np.array_equal(cold.embed(TEXTS), expected)
    assert np.array_equal(warm.embed(TEXTS), expected)


def test_a_damaged_graph_is_rebuilt_not_trusted(plain: SentenceEncoder, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    SentenceEncoder(cache_dir=tmp_path)
    weights = tmp_path / f"{NAME}-{cache_key(plain.model_sha256)}.bin"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a half-written copy
    with caplog.at_level(logging.WARNING):
        rebuilt = SentenceEncoder(cache_dir=tmp_path)
    assert "rebuilding" in caplog.text
    assert np.array_equal(rebuilt.embed(TEXTS), plain.embed(TEXTS))
    assert weights.stat().st_size > 1_000_000  # written whole again


def test_a_graph_that_reads_the_probe_differently_is_rebuilt(
    plain: SentenceEncoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    SentenceEncoder(cache_dir=tmp_path)
    key = cache_key(plain.model_sha256)
    cache = ArtifactCache(directory=tmp_path)
    stored = cache.load(f"{NAME}-probe", key)
    assert stored is not None
    cache.save(f"{NAME}-probe", key, {"hidden": np.asarray(stored["hidden"]) + 0.5})
    with caplog.at_level(logging.WARNING):
        rebuilt = SentenceEncoder(cache_dir=tmp_path)
    assert "reads the probe differently" in caplog.text
    assert np.array_equal(rebuilt.embed(TEXTS), plain.embed(TEXTS))


def test_a_cache_that_cannot_be_written_costs_speed_not_start_up(
    plain: SentenceEncoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file-not-a-directory"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING):
        encoder = SentenceEncoder(cache_dir=blocker)
    assert "not writable" in caplog.text
    assert np.array_equal(encoder.embed(TEXTS), plain.embed(TEXTS))
