"""Disk space set aside for a file before the disk fills, so a later append still fits.

Linux's fallocate(2) with FALLOC_FL_KEEP_SIZE allocates blocks past a file's end
without changing its size: the file reads the same, and appends land in blocks
that are already the file's own, so a full disk cannot refuse them. The fallback
journal keeps this room for urgent reports. Where the call is missing (not Linux)
or the file system can't do it, nothing is reserved and the caller is told so.
"""

from __future__ import annotations

import ctypes
import errno
import os
from functools import cache
from pathlib import Path
from typing import Callable

FALLOC_FL_KEEP_SIZE = 0x01  # linux/falloc.h

Fallocate = Callable[[int, int, int, int], int]


@cache
def _fallocate() -> Fallocate | None:
    """libc's fallocate, or None where the C library has none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    function.restype = ctypes.c_int
    return function


def reserve(path: Path, size: int) -> bool:
    """Make sure `path` owns `size` bytes of disk past its end; True when it does.

    Creates the file (empty) when missing. Already-reserved room costs nothing to ask for again.
    Raises OSError when the disk has no room left to set aside (the caller decides what that means).
    """
    function = _fallocate()
    if function is None:
        return False
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        end = os.fstat(descriptor).st_size
        if function(descriptor, FALLOC_FL_KEEP_SIZE, end, size) == 0:
            return True
        code = ctypes.get_errno()
        if code in (errno.EOPNOTSUPP, errno.ENOSYS):
            return False
        raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(descriptor)
