"""Where an outbox item goes: the people of one platform, or one school's office.

The outbox stores a destination as text ("telegram", "office:orchard"), so rows
written before this type existed still read back; everything else handles the
typed `Destination`, which cannot be misspelt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The kinds of destination an adapter can drain."""

    TELEGRAM = "telegram"  # parents on Telegram
    SLACK = "slack"  # staff chatting with the bot on Slack
    CONSOLE = "console"  # the terminal chat
    CLI = "cli"  # `chatbot ask`: shown the next time that user asks
    OFFICE = "office"  # a school's office (with no school: an office nothing serves)


SEPARATOR = ":"
OFFICE_PREFIX = f"{Kind.OFFICE.value}{SEPARATOR}"  # the stored form of every school's office, before the school id


@dataclass(frozen=True, order=True)
class Destination:
    """A kind, plus the school for an office destination."""

    kind: Kind
    school: str | None = None

    def __post_init__(self) -> None:
        if self.school is not None and (self.kind is not Kind.OFFICE or not self.school or SEPARATOR in self.school):
            raise ValueError(f"{self.kind.value!r} cannot carry the school {self.school!r}")

    @classmethod
    def office(cls, school: str | None) -> Destination:
        """One school's office items: only that school's office drains them (None: no school known)."""
        return cls(Kind.OFFICE, school or None)

    @classmethod
    def parse(cls, text: str) -> Destination:
        """The stored text back into a destination; ValueError names text that is none."""
        name, _, school = text.partition(SEPARATOR)
        try:
            kind = Kind(name)
        except ValueError:
            raise ValueError(f"{text!r} is not a destination") from None
        if _ and kind is not Kind.OFFICE:
            raise ValueError(f"{text!r} is not a destination")
        return cls(kind, school or None) if kind is Kind.OFFICE else cls(kind)

    @property
    def is_office(self) -> bool:
        return self.kind is Kind.OFFICE

    def __str__(self) -> str:
        """The stored form (the outbox's `channel` column)."""
        return self.kind.value if self.school is None else f"{self.kind.value}{SEPARATOR}{self.school}"


TELEGRAM = Destination(Kind.TELEGRAM)
SLACK = Destination(Kind.SLACK)
CONSOLE = Destination(Kind.CONSOLE)
CLI = Destination(Kind.CLI)
