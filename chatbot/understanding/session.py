"""The encoder's onnxruntime session, opened fast: the optimised graph is kept in the cache.

onnxruntime optimises the pinned int8 model every time a session opens (it folds
the weights to float and fuses the attention): about 0.4 s of a warm start, more
under load. The optimised graph is saved once into the cache directory, its
weights as external data (about 90 MB, memory-mapped on load), named by a key of
the pinned model's sha256 and the onnxruntime version. A later start opens that
file with optimisation off, in a fraction of the time, and runs the same graph:
its output is bit-identical.

Trust but verify: a fixed probe's output, computed from the pinned model when the
file was written, is kept beside it; a cached graph that reads the probe
differently (damaged, truncated, another onnxruntime) is discarded and rebuilt.
Writes go to a temporary directory renamed into place, so processes starting at
once never see half a file. A cache that can't be written costs speed only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime

from chatbot.understanding.cache import ArtifactCache

log = logging.getLogger(__name__)

# "[CLS] can i post a photo [SEP]": a short, fixed input whose output vouches for a cached graph.
PROBE_IDS = np.array([[101, 2064, 1045, 2695, 1037, 6302, 102]], dtype=np.int64)
NAME = "encoder"


def session_options(*, optimise: bool) -> onnxruntime.SessionOptions:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL if optimise else onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    return options


def probe(session: onnxruntime.InferenceSession) -> npt.NDArray[np.float32]:
    (hidden,) = session.run(
        ["last_hidden_state"],
        {"input_ids": PROBE_IDS, "attention_mask": np.ones_like(PROBE_IDS), "token_type_ids": np.zeros_like(PROBE_IDS)},
    )
    return np.asarray(hidden, dtype=np.float32)


def cache_key(model_sha256: str) -> str:
    return hashlib.sha256(f"{model_sha256}:{onnxruntime.__version__}".encode()).hexdigest()[:24]


def open_session(model: Path, *, model_sha256: str, cache_dir: Path | None) -> onnxruntime.InferenceSession:
    """A session over the pinned model, from the cached optimised graph when it is there and sound."""
    if cache_dir is None:
        return onnxruntime.InferenceSession(str(model), session_options(optimise=True), providers=["CPUExecutionProvider"])
    key = cache_key(model_sha256)
    graph = cache_dir / f"{NAME}-{key}.onnx"
    reference = ArtifactCache(directory=cache_dir).load(f"{NAME}-probe", key)
    if graph.is_file() and reference is not None:
        try:
            session = onnxruntime.InferenceSession(
                str(graph), session_options(optimise=False), providers=["CPUExecutionProvider"]
            )
            if np.array_equal(probe(session), reference["hidden"]):
                return session
            log.warning("cached encoder graph %s reads the probe differently; rebuilding", graph.name)
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own types; a bad cache is rebuilt, never fatal
            log.warning("cached encoder graph %s unreadable (%s); rebuilding", graph.name, type(err).__name__)
    return _build(model, key=key, cache_dir=cache_dir)


def _build(model: Path, *, key: str, cache_dir: Path) -> onnxruntime.InferenceSession:
    """Optimise the pinned model, keeping the optimised graph (and the probe's output) in the cache."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{NAME}-"))
    except OSError as err:
        log.warning("cache directory %s not writable (%s); the encoder is optimised at every start", cache_dir, err.strerror)
        return onnxruntime.InferenceSession(str(model), session_options(optimise=True), providers=["CPUExecutionProvider"])
    options = session_options(optimise=True)
    options.optimized_model_filepath = str(scratch / f"{NAME}-{key}.onnx")
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", f"{NAME}-{key}.bin")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    try:
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - e.g. the optimised graph could not be written: open without keeping it
        log.warning("could not keep the optimised encoder in %s (%s)", cache_dir, type(err).__name__)
        shutil.rmtree(scratch, ignore_errors=True)
        return onnxruntime.InferenceSession(str(model), session_options(optimise=True), providers=["CPUExecutionProvider"])
    try:
        ArtifactCache(directory=cache_dir).save(f"{NAME}-probe", key, {"hidden": probe(session)})
        for stale in cache_dir.glob(f"{NAME}-*"):
            if key not in stale.name and stale.suffix in (".onnx", ".bin"):
                stale.unlink(missing_ok=True)
        os.replace(scratch / f"{NAME}-{key}.bin", cache_dir / f"{NAME}-{key}.bin")  # weights first, then the graph
        os.replace(scratch / f"{NAME}-{key}.onnx", cache_dir / f"{NAME}-{key}.onnx")
    except OSError as err:
        log.warning("could not keep the optimised encoder in %s (%s); it is optimised at every start", cache_dir, err.strerror)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return session
