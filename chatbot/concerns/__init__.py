"""The concern queue: the policy's open door, kept.

model.py says what a concern is (status enum and allowed moves, refs, events);
queue.py is the ConcernQueue the engine, the CLI and the office use; rows.py
its SQL steps.
"""

from chatbot.concerns.model import (
    ACTIVE,
    AWAITING,
    CLOSED,
    SAFEGUARDING_CATEGORY,
    SAFEGUARDING_SQL,
    STATUSES,
    TRANSITIONS,
    Concern,
    ConcernEvent,
    EmptyText,
    Status,
    can_move,
    format_ref,
    parse_ref,
)
from chatbot.concerns.queue import ConcernQueue

__all__ = [
    "ACTIVE", "AWAITING", "CLOSED", "SAFEGUARDING_CATEGORY", "SAFEGUARDING_SQL", "STATUSES", "TRANSITIONS",
    "Concern", "ConcernEvent", "ConcernQueue", "EmptyText", "Status", "can_move", "format_ref", "parse_ref",
]  # fmt: skip
