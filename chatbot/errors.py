"""A small exception tree: user-facing errors are kept apart from bugs.

`UserError` and its children carry a message that is safe and kind to show to the
person who caused it. Anything else escaping the core is a bug.
"""

from __future__ import annotations


class ChatbotError(Exception):
    """Base of every error the project raises on purpose."""


class UserError(ChatbotError):
    """Something the user can fix; `str(err)` is safe to show them."""


class UnknownSchool(UserError):
    def __init__(self, school_id: str, known: list[str]) -> None:
        self.school_id = school_id
        self.known = known
        super().__init__(
            f"I don't know a school called {school_id!r}. "
            f"The schools I can help with are: {', '.join(known)}."
        )


class KnowledgeError(ChatbotError):
    """The knowledge base is broken; names the file and line of each problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ConfigError(UserError):
    """The configuration file or environment is wrong."""


class ModelError(ChatbotError):
    """The sentence encoder's weights are missing or not the pinned file: an install problem, found at start-up."""


class ConcernNotFound(UserError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"There is no concern {ref}.")


class ConcernConflict(UserError):
    """A queue action clashes with the concern's state (claimed by someone else, resolved...)."""


class NotAllowed(UserError):
    """The person may not see or change this."""


class StorageError(ChatbotError):
    """The database file can't be used (read-only, full, damaged, not a database).

    Not a bug and not the user's doing: one line for the operator, naming the file.
    People talking to the bot never see this text.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"The database {self.path} {problem}.")


class DeliveryError(ChatbotError):
    """Raised by an adapter's deliver(); the delivery loop decides what to do."""


class RetryLater(DeliveryError):
    """The channel is busy or down: try again after `after` seconds (e.g. Telegram's retry_after)."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        self.after = after
        super().__init__(reason)


class Undeliverable(DeliveryError):
    """The item can never be delivered (the user blocked the bot): stop and tell the office."""
