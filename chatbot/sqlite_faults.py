"""Turn SQLite's low-level failures into one clear line naming the file.

A database that is read-only, full, damaged or not a database at all is not a
bug: the operator can fix it, so it becomes a `StorageError` (the project's own
exception tree) instead of a traceback. Anything else SQLite raises (a bad SQL
statement, a missing table) is still a bug and is left alone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatbot.errors import StorageError

# SQLite's primary result codes (extended codes share the prefix, e.g. SQLITE_READONLY_DBMOVED).
_PROBLEMS = (
    ("SQLITE_READONLY", "is read-only, so nothing can be saved (check the file's and folder's permissions)"),
    ("SQLITE_FULL", "cannot grow: the disk is full"),
    ("SQLITE_CORRUPT", "is damaged (a corrupt page); restore it from a backup"),
    ("SQLITE_NOTADB", "is not a SQLite database; point CHATBOT_DB at the bot's database"),
    ("SQLITE_CANTOPEN", "cannot be opened (does its folder exist, and may the bot write there?)"),
    ("SQLITE_IOERR", "could not be read or written (disk I/O error)"),
    ("SQLITE_PERM", "may not be opened: permission denied"),
    ("SQLITE_BUSY", "is locked by another process for too long; try again"),
    ("SQLITE_LOCKED", "is locked by another process for too long; try again"),
)


def problem_of(exc: BaseException) -> str | None:
    """What is wrong with the file, in words, or None when the error is a bug rather than the file."""
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, words in _PROBLEMS:
        if name == prefix or name.startswith(prefix + "_"):
            return words
    message = str(exc).lower()  # older SQLite builds leave the code out of some errors
    if "readonly database" in message:
        return _PROBLEMS[0][1]
    if "disk is full" in message:
        return _PROBLEMS[1][1]
    if "malformed" in message:
        return _PROBLEMS[2][1]
    if "not a database" in message:
        return _PROBLEMS[3][1]
    return None


def storage_error(path: Path, exc: BaseException) -> StorageError | None:
    """The StorageError for `exc` on the database at `path`, or None when it is not a storage fault."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, PermissionError):
        return StorageError(path, "may not be created or opened: permission denied")
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return StorageError(path, f"cannot be reached ({exc.strerror or type(exc).__name__})")
    words = problem_of(exc)
    return StorageError(path, words) if words else None
