"""A person's own things: the concerns they raised (status, withdraw) and forgetting them.

Kept apart from the engine's routing; every reply here is for the asker only.
"""

from __future__ import annotations

from chatbot import account_replies
from chatbot.actions import Forget, Withdraw
from chatbot.concerns import AWAITING, ConcernQueue
from chatbot.errors import UserError
from chatbot.knowledge import School
from chatbot.messages import Button, Incoming, Reply, Visibility
from chatbot.retention import Retention

MAX_WITHDRAW_BUTTONS = 5


class Account:
    """What the engine asks about one person's concerns and data."""

    def __init__(self, *, concerns: ConcernQueue, retention: Retention) -> None:
        self.concerns = concerns
        self.retention = retention

    async def my_concerns(self, incoming: Incoming) -> Reply:
        mine = await self.concerns.for_user(incoming.channel, incoming.user_id)
        if not mine:
            return _private(account_replies.NO_CONCERNS, "concern_status", confidence=1.0)
        lines = ["Your concerns:"]
        buttons: list[Button] = []
        for concern in mine:
            lines.append(account_replies.concern_line(concern.ref, concern.category, concern.status_words()))
            if concern.status in AWAITING and not concern.safeguarding:
                buttons.append(Button(label=f"Withdraw {concern.ref}", action=Withdraw(concern.ref)))
        return Reply(
            text="\n".join(lines), buttons=tuple(buttons[:MAX_WITHDRAW_BUTTONS]), intent="concern_status",
            confidence=1.0, visibility=Visibility.ASKER,
        )  # fmt: skip

    async def withdraw(self, incoming: Incoming, ref: str) -> Reply:
        try:
            concern = await self.concerns.withdraw(ref, channel=incoming.channel, user_id=incoming.user_id)
        except UserError as err:
            return _private(str(err), "concern_status")
        return _private(account_replies.withdrawn(concern.ref), "concern_status")

    async def ask_to_forget(self, school: School, incoming: Incoming) -> Reply:
        mine = await self.concerns.for_user(incoming.channel, incoming.user_id)
        kept = tuple(c.ref for c in mine if c.safeguarding)
        return Reply(
            text=account_replies.forget_confirm(school, kept, self.retention.policy),
            buttons=(Button(label="Yes, delete it", action=Forget(True)), Button(label="No, keep it", action=Forget(False))),
            intent="forget_me", confidence=1.0, visibility=Visibility.ASKER,
        )  # fmt: skip

    async def forget(self, school: School, incoming: Incoming, confirmed: bool) -> Reply:
        if not confirmed:
            return _private(account_replies.NOTHING_DELETED, "forget_me")
        forgotten = await self.retention.forget_user(incoming.channel, incoming.user_id)
        return _private(account_replies.forgotten(school, forgotten.kept, self.retention.policy), "forget_me")


def _private(text: str, intent: str, *, confidence: float = 0.0) -> Reply:
    return Reply(text=text, intent=intent, confidence=confidence, visibility=Visibility.ASKER)
