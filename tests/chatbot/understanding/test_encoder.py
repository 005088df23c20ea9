"""The sentence encoder: the pinned model file, a tokenizer that matches BERT's, sound embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatbot.errors import ModelError
from chatbot.understanding.encoder import DIMENSIONS, MAX_TOKENS, SentenceEncoder, default_model_path, file_sha256


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_the_shipped_model_is_the_pinned_file() -> None:
    path = default_model_path()
    assert path.is_file()
    assert file_sha256(path) == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


def test_a_model_that_is_not_the_pinned_file_stops_start_up(tmp_path: Path) -> None:
    impostor = tmp_path / "model.onnx"
    impostor.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="not the pinned file"):
        SentenceEncoder(model_path=impostor)


def test_a_missing_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        SentenceEncoder(model_path=tmp_path / "nowhere.onnx")


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        # Known ids of the uncased BERT WordPiece vocabulary all-MiniLM-L6-v2 was trained with.
        ("hello world", [101, 7592, 2088, 102]),
        ("Hello, World!", [101, 7592, 1010, 2088, 999, 102]),
        ("my son's teacher", [101, 2026, 2365, 1005, 1055, 3836, 102]),
        ("Café", [101, 7668, 102]),  # accents stripped, as the model's tokenizer does
    ],
)
def test_the_tokenizer_matches_berts(encoder: SentenceEncoder, text: str, ids: list[int]) -> None:
    assert encoder.token_ids(text) == ids


def test_a_long_message_is_cut_at_the_models_length(encoder: SentenceEncoder) -> None:
    ids = encoder.token_ids("my daughter " * 400)
    assert len(ids) == MAX_TOKENS and ids[0] == 101 and ids[-1] == 102


def test_embeddings_are_unit_vectors_and_read_meaning(encoder: SentenceEncoder) -> None:
    vectors = encoder.embed([
        "can I put photos from sports day on facebook",
        "is it alright to share pictures of the school races online",
        "what is for lunch on tuesday",
    ])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_batching_and_padding_do_not_change_a_vector(encoder: SentenceEncoder) -> None:
    texts = ["short one", "a much longer message about my son and his phone and the class group chat at night"]
    together = encoder.embed(texts)
    apart = np.vstack([encoder.embed([t]) for t in texts])
    assert np.allclose(together, apart, atol=1e-4)
    assert encoder.embed([]).shape == (0, DIMENSIONS)
