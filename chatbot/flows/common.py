"""What every flow shares: its saved state, a question, the next step, and reading typed yes/no answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Protocol

from chatbot.messages import Button

YES_WORDS = frozenset("yes y yeah yep yup yh ye aye sure ok okay correct definitely please".split())
NO_WORDS = frozenset("no n nope nah not none never".split())
UNSURE_WORDS = frozenset("unsure maybe possibly dunno idk perhaps".split())


def yes_no(text: str, *, allow_unsure: bool = False) -> str | None:
    """Read a typed yes/no (or 'not sure') answer; None when it isn't one."""
    words = re.findall(r"[a-z]+", text.lower())
    if not words or len(words) > 6:
        return None
    joined = " ".join(words)
    if allow_unsure and (set(words) & UNSURE_WORDS or "not sure" in joined or "don t know" in joined or "dont know" in joined):
        return "unsure"
    if words[0] in NO_WORDS:
        return "no"
    if words[0] in YES_WORDS:
        return "yes"
    return None


@dataclass(frozen=True)
class Question:
    """One step's question and its buttons."""

    step: str
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FlowState:
    """Where a person is in a flow: which flow, which step, and what they have said so far."""

    flow: str
    step: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def at(self, step: str, **data: Any) -> FlowState:
        return replace(self, step=step, data={**self.data, **data})


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a flow's wording needs to know about the school, worked out by the engine."""

    office: str  # "the school office", or the school's own name for it
    due: str  # when the office will reply, in words: the school's own setting, or "as soon as they can"


@dataclass(frozen=True, kw_only=True)
class Ask:
    """Keep going: ask this question (after `lead`, e.g. "Thank you. ")."""

    question: Question
    lead: str = ""
    intent: str = ""


Transition = tuple[FlowState | None, Any]  # (the state to save, or None when the flow ends; Ask or an outcome)


class Flow(Protocol):
    """A flow module's functions, so the engine can run any flow the same way."""

    def read(self, state: FlowState, text: str, *, understood: bool) -> str | None:
        """A typed message as an answer to the current step; None if it isn't one."""
        ...

    def answer(self, state: FlowState, value: str, ctx: Context) -> Transition: ...

    def question(self, state: FlowState, ctx: Context) -> Question: ...
