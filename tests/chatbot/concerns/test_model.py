"""The status vocabulary: every status has its moves, closed concerns only reopen, wording exists for each."""

from __future__ import annotations

import pytest

from chatbot import account_replies
from chatbot.concerns import ACTIVE, CLOSED, TRANSITIONS, Status, can_move, format_ref, parse_ref


def test_every_status_has_a_row_and_parent_facing_words() -> None:
    assert set(TRANSITIONS) == set(Status) == set(ACTIVE) | set(CLOSED)
    assert set(account_replies.STATUS_WORDS) == {s.value for s in Status}


@pytest.mark.parametrize("closed", CLOSED)
def test_a_closed_concern_can_only_be_reopened(closed: Status) -> None:
    assert [to for to in Status if can_move(closed, to)] == [Status.OPEN]


def test_an_active_concern_can_be_answered_again_but_never_reopened() -> None:
    assert all(can_move(s, Status.RESOLVED) and can_move(s, Status.WITHDRAWN) for s in ACTIVE)
    assert not any(can_move(s, Status.OPEN) for s in ACTIVE)
    assert can_move("replied", Status.REPLIED) and not can_move("replied", Status.CLAIMED)


def test_refs_are_forgiving_to_read_and_fixed_to_write() -> None:
    assert [parse_ref(t) for t in ("C-0042", "c-42", " 42 ", "C 0042", "nope", "C-0")] == [42, 42, 42, 42, None, None]
    assert format_ref(42) == "C-0042"
