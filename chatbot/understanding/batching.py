"""Micro-batching: concurrent embed calls coalesce into one ONNX run.

A replayed backlog (or a burst) reaches the encoder from several worker threads
at once. Instead of each thread running the model for its own message, messages
that arrive while a batch is running wait, and run together as the next batch:
one `session.run` over texts padded to the longest (the encoder groups similar
lengths and caps a run's tokens). Nothing is held back for company: a message
that finds the encoder idle runs at once, alone, so a quiet bot pays no latency.

Only short messages coalesce. Measured on one core (benchmarks/bench_understanding.py):
four texts of about 20 tokens run together 1.25x as fast as one by one, of about 40
tokens 1.07x, but from about 80 tokens on a shared run is 10-14% slower (the matrix
products are already large; padding and attention only add work). So a message over
COALESCE_TOKENS runs alone at once, side by side with any batch, as before.

Leader/follower, no extra thread: the thread that finishes a batch takes the
waiting messages as the next batch and hands it to the first of their threads,
so each caller's own answer returns as soon as its batch is done. At most
`runners` batches run at once (default one per core the process may use: the
session runs each batch on one intra-op thread, so two runners keep two cores
busy). A run that raises raises in every caller of that batch.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np
import numpy.typing as npt

from chatbot.understanding.encoder import Embeddings

Vector = npt.NDArray[np.float32]
MAX_BATCH = 16  # messages per run: bounds a run's latency and memory (the encoder also caps tokens per run)
COALESCE_TOKENS = 48  # longer messages gain nothing from sharing a run (see above)


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> Embeddings: ...

    def token_ids(self, text: str) -> list[int]: ...


def usable_cores() -> int:
    """Cores this process may run on (its affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(eq=False)
class _Job:
    text: str
    ready: threading.Event = field(default_factory=threading.Event)
    batch: list[_Job] | None = None  # set when this job's thread is handed the next batch to run
    vector: Vector | None = None
    error: BaseException | None = None


class MicroBatcher:
    """`embed_one(text)` from any thread; concurrent calls share model runs. Blocking: call off the event loop."""

    def __init__(
        self, *, encoder: Embedder, max_batch: int = MAX_BATCH, runners: int | None = None,
        coalesce_tokens: int = COALESCE_TOKENS,
    ) -> None:  # fmt: skip
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.encoder = encoder
        self.max_batch = max_batch
        self.coalesce_tokens = coalesce_tokens
        self.runners = runners if runners is not None else usable_cores()
        self._lock = threading.Lock()
        self._waiting: list[_Job] = []
        self._running = 0  # batches in flight; while any job waits, this equals `runners`
        self.runs = 0  # model runs so far (for benchmarks and tests)
        self.largest = 0  # the largest batch so far

    @property
    def waiting(self) -> int:
        """Calls queued behind the running batches."""
        with self._lock:
            return len(self._waiting)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._running == 0 and not self._waiting

    def embed_one(self, text: str) -> Vector:
        if len(self.encoder.token_ids(text)) > self.coalesce_tokens:
            vector: Vector = self.encoder.embed([text])[0]  # long: alone, at once, beside any batch
            return vector
        job = _Job(text)
        with self._lock:
            if self._running < self.runners:  # idle runner: go now, alone (nothing is waiting)
                self._running += 1
                batch: list[_Job] | None = [job]
            else:
                self._waiting.append(job)
                batch = None
        if batch is None:
            job.ready.wait()
            batch, job.batch = job.batch, None
        if batch is not None:
            self._run(batch)
        if job.error is not None:
            raise job.error
        assert job.vector is not None
        return job.vector

    def _run(self, batch: list[_Job]) -> None:
        try:
            vectors = self.encoder.embed([job.text for job in batch])
        except BaseException as exc:  # every caller of this batch sees the failure
            for job in batch:
                job.error = exc
        else:
            for job, vector in zip(batch, vectors):
                job.vector = vector
        with self._lock:
            self.runs += 1
            self.largest = max(self.largest, len(batch))
            following = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            if following:
                following[0].batch = following  # this runner's turn passes to the first waiting thread
            else:
                self._running -= 1
        for job in batch[1:]:
            job.ready.set()  # batch[0] is the thread running this batch
        if following:
            following[0].ready.set()
