"""Button actions as types, and the one codec that turns them into a platform's short payload and back.

A button carries a typed action; adapters send `encode(action)` (Telegram allows
64 bytes) and hand the payload back untouched in `Incoming.action`; the engine
calls `decode` and dispatches on the type. The wire forms ("s:orchard",
"f:oc:yes", ...) never leave this module, and stay stable so buttons already
sent keep working after an upgrade.

To add an action: a frozen dataclass with `TAG`, `encode_args()` and
`decode_args(rest)`, listed in `ACTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Union


@dataclass(frozen=True)
class ChooseSchool:
    """Pick the school this conversation is about."""

    school_id: str
    TAG: ClassVar[str] = "s"

    def encode_args(self) -> str:
        return self.school_id

    @classmethod
    def decode_args(cls, rest: str) -> ChooseSchool | None:
        return cls(rest) if rest else None


@dataclass(frozen=True)
class PickIntent:
    """"Did you mean ...?": the person chose one of the suggested questions."""

    intent_id: str
    TAG: ClassVar[str] = "i"

    def encode_args(self) -> str:
        return self.intent_id

    @classmethod
    def decode_args(cls, rest: str) -> PickIntent | None:
        return cls(rest) if rest else None


@dataclass(frozen=True)
class NoneOfThese:
    """None of the suggestions fitted."""

    TAG: ClassVar[str] = "none"

    def encode_args(self) -> str:
        return ""

    @classmethod
    def decode_args(cls, rest: str) -> NoneOfThese | None:
        return cls() if not rest else None


@dataclass(frozen=True)
class ContactOffice:
    """Pass a message to the school office (the open door)."""

    TAG: ClassVar[str] = "c"

    def encode_args(self) -> str:
        return "talk"

    @classmethod
    def decode_args(cls, rest: str) -> ContactOffice | None:
        return cls() if rest == "talk" else None


@dataclass(frozen=True)
class FlowAnswer:
    """An answer to the current question of a guided flow (photo check, concern intake, ...)."""

    step: str
    value: str
    TAG: ClassVar[str] = "f"

    def encode_args(self) -> str:
        return f"{self.step}:{self.value}"

    @classmethod
    def decode_args(cls, rest: str) -> FlowAnswer | None:
        step, sep, value = rest.partition(":")
        return cls(step, value) if step and sep else None


@dataclass(frozen=True)
class Withdraw:
    """The person withdraws one of their own concerns."""

    ref: str
    TAG: ClassVar[str] = "w"

    def encode_args(self) -> str:
        return self.ref

    @classmethod
    def decode_args(cls, rest: str) -> Withdraw | None:
        return cls(rest) if rest else None


@dataclass(frozen=True)
class Forget:
    """The answer to "delete what I hold about you?"."""

    confirmed: bool
    TAG: ClassVar[str] = "forget"

    def encode_args(self) -> str:
        return "yes" if self.confirmed else "no"

    @classmethod
    def decode_args(cls, rest: str) -> Forget | None:
        return cls(rest == "yes") if rest in ("yes", "no") else None


@dataclass(frozen=True)
class MoreFromPolicy:
    """Show the rest of what the policy says on an answer: the clauses beyond the one quoted."""

    intent_id: str
    TAG: ClassVar[str] = "more"

    def encode_args(self) -> str:
        return self.intent_id

    @classmethod
    def decode_args(cls, rest: str) -> MoreFromPolicy | None:
        return cls(rest) if rest else None


Action = Union[ChooseSchool, PickIntent, NoneOfThese, ContactOffice, FlowAnswer, Withdraw, Forget, MoreFromPolicy]
ACTIONS: tuple[type[Action], ...] = (
    ChooseSchool, PickIntent, NoneOfThese, ContactOffice, FlowAnswer, Withdraw, Forget, MoreFromPolicy,
)  # fmt: skip
_BY_TAG: dict[str, type[Action]] = {cls.TAG: cls for cls in ACTIONS}


def encode(action: Action) -> str:
    """The payload a platform carries for this button."""
    args = action.encode_args()
    return f"{action.TAG}:{args}" if args else action.TAG


def decode(payload: str | None) -> Action | None:
    """The action a payload stands for; None for anything unknown, stale or forged."""
    if not payload:
        return None
    tag, _, rest = payload.partition(":")
    cls = _BY_TAG.get(tag)
    return cls.decode_args(rest) if cls is not None else None
