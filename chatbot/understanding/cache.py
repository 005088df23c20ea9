"""What start-up would otherwise recompute, kept on disk: example embeddings and trained weights.

Each entry is one `.npz` file (plain arrays, never pickles) whose name carries a
key: a hash of the model file and of every intent's examples, stories and
keywords, plus the format version. Change any of them and the key changes, so a
stale entry is simply not found and is rebuilt (and the old file removed).
Writes go to a temporary file renamed into place, so two processes starting at
once never see half a file. A cache that can't be written costs speed, not
correctness: the bot still starts, and says why in the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from chatbot.knowledge import Intent

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
Arrays = dict[str, npt.NDArray[np.generic]]


def fingerprint(*, model_sha256: str, intents: Mapping[str, Intent], extra: Iterable[str] = ()) -> str:
    """The cache key: changes whenever the model, the intents or the cache format does."""
    digest = hashlib.sha256()
    payload = {
        "format": FORMAT_VERSION,
        "model": model_sha256,
        "extra": list(extra),
        "intents": [
            [i.id, i.audience, list(i.examples), list(i.stories), list(i.keywords)] for i in intents.values()
        ],
    }
    digest.update(json.dumps(payload, sort_keys=True).encode())
    return digest.hexdigest()[:24]


def source_fingerprint(*modules: ModuleType, packages: Iterable[str] = ()) -> str:
    """A hash of the modules' source and the packages' versions.

    What is built from text by code (the lexical index, the classifier's vocabularies)
    goes stale when that code changes (a new lexicon entry, another stemmer), not only
    when the intents do: this goes into their cache key.
    """
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    for package in packages:
        digest.update(f"{package}={metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


class ArtifactCache:
    """A directory of `<name>-<key>.npz` files; `directory=None` keeps nothing."""

    def __init__(self, *, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, name: str, key: str) -> Path | None:
        return self.directory / f"{name}-{key}.npz" if self.directory else None

    def load(self, name: str, key: str) -> Arrays | None:
        path = self._path(name, key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, KeyError) as err:  # a damaged file is rebuilt, not trusted
            log.warning("cache file %s unreadable (%s); rebuilding", path.name, type(err).__name__)
            return None

    def save(self, name: str, key: str, arrays: Arrays) -> None:
        path = self._path(name, key)
        if path is None or self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}-", suffix=".npz")
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)  # type: ignore[arg-type]
            os.replace(temporary, path)
            for stale in self.directory.glob(f"{name}-*.npz"):
                if stale != path:
                    stale.unlink(missing_ok=True)
        except OSError as err:
            log.warning("cache directory %s not writable (%s); start-up will repeat the work", self.directory, err.strerror)
