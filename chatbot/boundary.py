"""The one error boundary: whatever goes wrong in a turn, the person gets a kind reply.

A user error (an unknown school, a ref that isn't theirs) is shown as its own
text; anything else is a bug: it is logged by type and place, never with the
message's words, and the person gets an apology. Every adapter and the CLI
answer through `answer`, so they all end the same way.
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from chatbot import replies
from chatbot.errors import UserError
from chatbot.messages import Incoming, Reply

log = logging.getLogger(__name__)


def where(exc: BaseException) -> str:
    """file:line of the innermost frame, so a failure can be found without logging its message."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def reply_for(error: Exception, incoming: Incoming) -> Reply:
    """The kind reply for a failed turn (and, for a bug, one log line without any text)."""
    if isinstance(error, UserError):
        return Reply(text=str(error))
    log.error(
        "turn failed channel=%s kind=%s: %s at %s", incoming.channel, incoming.kind.value, type(error).__name__, where(error)
    )
    return Reply(text=replies.APOLOGY)


async def answer(handle: Callable[[Incoming], Awaitable[Reply]], incoming: Incoming) -> Reply:
    """`handle(incoming)`, or the kind reply if it fails."""
    try:
        return await handle(incoming)
    except Exception as error:
        return reply_for(error, incoming)
