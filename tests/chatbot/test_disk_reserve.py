"""Room set aside past a file's end: the file reads the same, and the blocks are its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.disk_reserve import reserve


def allocated(path: Path) -> int:
    return path.stat().st_blocks * 512


def test_room_is_set_aside_without_changing_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    path.write_bytes(b'{"id": "1"}\n')
    if not reserve(path, 256 * 1024):
        pytest.skip("this file system cannot set room aside (the journal warns at start-up)")
    assert path.read_bytes() == b'{"id": "1"}\n'
    assert allocated(path) >= 256 * 1024


def test_asking_again_for_room_already_set_aside_takes_no_more(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    if not reserve(path, 128 * 1024):
        pytest.skip("this file system cannot set room aside (the journal warns at start-up)")
    first = allocated(path)
    assert reserve(path, 128 * 1024) and allocated(path) == first and path.stat().st_size == 0
