"""Micro-batching: concurrent embed calls share model runs, and read exactly as one at a time."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Sequence

import numpy as np
import pytest

from chatbot.understanding.batching import MicroBatcher, Vector
from chatbot.understanding.encoder import Embeddings, SentenceEncoder

TEXTS = [
    "can I post a photo from sports day?",
    "hi",
    "my son's teacher added him on Facebook, is that allowed?",
    "a man online keeps asking my daughter to send him photos of herself and she is scared",
    "is my 11-year-old allowed Instagram",
    "other parents are slagging off the head in the class WhatsApp group, should I join in?",
]
LONG = (
    "A man online keeps asking my daughter to send him photos of herself. She is eleven and scared, and he says "
    "he knows which school she goes to. I don't know what to do, the police number is busy and my husband is away "
    "until Friday, so I'm writing here because I saw the school has this bot on its website."
)
WAIT = 30.0  # seconds: a generous bound on a condition, never a timing assertion


class GatedEncoder:
    """The real encoder behind a gate: the first run waits until the test opens it; records each run's size."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.gate = threading.Event()
        self.started = threading.Event()
        self.sizes: list[int] = []
        self.fail_with: Exception | None = None

    def token_ids(self, text: str) -> list[int]:
        return self.encoder.token_ids(text)

    def embed(self, texts: Sequence[str]) -> Embeddings:
        self.sizes.append(len(texts))
        self.started.set()
        assert self.gate.wait(WAIT)
        if self.fail_with is not None:
            raise self.fail_with
        return self.encoder.embed(texts)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def start_waiting(batcher: MicroBatcher, pool: ThreadPoolExecutor, texts: list[str]) -> list[Future[Vector]]:
    """Submit texts one by one, each once the previous one is queued behind the running batch."""
    futures = []
    pause = threading.Event()  # never set: its wait is a short poll interval
    for text in texts:
        queued = batcher.waiting
        futures.append(pool.submit(batcher.embed_one, text))
        for _ in range(int(WAIT * 100)):
            if batcher.waiting > queued:
                break
            pause.wait(0.01)
        else:
            pytest.fail("a call never queued behind the running batch")
    return futures


def test_concurrent_calls_run_as_one_batch_and_read_as_single_calls(encoder: SentenceEncoder) -> None:
    gated = GatedEncoder(encoder)
    batcher = MicroBatcher(encoder=gated, runners=1)
    with ThreadPoolExecutor(len(TEXTS)) as pool:
        first = pool.submit(batcher.embed_one, TEXTS[0])
        assert gated.started.wait(WAIT)  # the first call found the encoder idle: it runs alone, at once
        rest = start_waiting(batcher, pool, TEXTS[1:])
        gated.gate.set()
        vectors = [first.result(WAIT)] + [f.result(WAIT) for f in rest]
    assert gated.sizes == [1, len(TEXTS) - 1]  # the five that arrived meanwhile ran together
    single = np.stack([encoder.embed([text])[0] for text in TEXTS])
    np.testing.assert_allclose(np.stack(vectors), single, atol=1e-5)
    assert not np.allclose(vectors[1], vectors[2])  # each caller got its own row back


def test_a_long_message_runs_at_once_beside_a_running_batch_not_behind_it(encoder: SentenceEncoder) -> None:
    assert len(encoder.token_ids(LONG)) > MicroBatcher(encoder=encoder).coalesce_tokens >= max(
        len(encoder.token_ids(text)) for text in TEXTS
    )
    gated = GatedEncoder(encoder)
    batcher = MicroBatcher(encoder=gated, runners=1)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(batcher.embed_one, TEXTS[0])
        assert gated.started.wait(WAIT)
        long = pool.submit(batcher.embed_one, LONG)
        for _ in range(int(WAIT * 100)):  # the long message reaches the encoder while the short one is held
            if len(gated.sizes) == 2:
                break
            threading.Event().wait(0.01)
        assert gated.sizes == [1, 1] and batcher.waiting == 0
        gated.gate.set()
        np.testing.assert_allclose(long.result(WAIT), encoder.embed([LONG])[0], atol=1e-6)
        first.result(WAIT)


def test_a_batch_is_bounded(encoder: SentenceEncoder) -> None:
    gated = GatedEncoder(encoder)
    batcher = MicroBatcher(encoder=gated, runners=1, max_batch=2)
    with ThreadPoolExecutor(len(TEXTS)) as pool:
        first = pool.submit(batcher.embed_one, TEXTS[0])
        assert gated.started.wait(WAIT)
        rest = start_waiting(batcher, pool, TEXTS[1:])
        gated.gate.set()
        vectors = [first.result(WAIT)] + [f.result(WAIT) for f in rest]
    assert gated.sizes == [1, 2, 2, 1]
    np.testing.assert_allclose(np.stack(vectors), encoder.embed(TEXTS), atol=1e-5)


def test_a_failed_run_raises_in_every_caller_of_that_batch_and_the_next_batch_still_runs(
    encoder: SentenceEncoder,
) -> None:
    gated = GatedEncoder(encoder)
    gated.fail_with = RuntimeError("model run failed")
    batcher = MicroBatcher(encoder=gated, runners=1)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.embed_one, TEXTS[0])
        assert gated.started.wait(WAIT)
        rest = start_waiting(batcher, pool, TEXTS[1:4])
        gated.gate.set()
        for future in [first, *rest]:
            with pytest.raises(RuntimeError, match="model run failed"):
                future.result(WAIT)
    gated.fail_with = None
    np.testing.assert_allclose(batcher.embed_one(TEXTS[0]), encoder.embed([TEXTS[0]])[0], atol=1e-6)
    assert batcher.idle


def test_many_threads_at_once_each_get_their_own_answer(encoder: SentenceEncoder) -> None:
    batcher = MicroBatcher(encoder=encoder, runners=2, max_batch=4)
    texts = [f"{text} ({n})" for n in range(4) for text in TEXTS]
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(batcher.embed_one, texts))
    np.testing.assert_allclose(np.stack(vectors), encoder.embed(texts), atol=1e-5)
    assert batcher.idle
