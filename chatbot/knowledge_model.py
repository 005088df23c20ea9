"""What the knowledge base holds: intents (shared by all schools) and each school's policy and answers.

Immutable once loaded (knowledge.py loads and validates the YAML into these).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from chatbot.errors import UnknownSchool

AUDIENCES = ("parent", "staff", "any")
KINDS = ("answer", "flow", "concern", "meta")
FLOW_CONDITIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "other_children": ("yes", "no", "unsure"),
        "school_event": ("yes", "no"),
        "permission": ("yes", "no"),
    }
)


@dataclass(frozen=True, kw_only=True)
class Intent:
    """Something people ask, shared by all schools."""

    id: str
    audience: str
    kind: str
    summary: str
    label: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    stories: tuple[str, ...] = ()  # long, story-like messages, as parents really write
    offers_contact: bool = False  # an answer to it also offers to pass a concern to the school
    file: str
    line: int

    def serves(self, audience: str) -> bool:
        return self.audience == "any" or self.audience == audience


@dataclass(frozen=True, kw_only=True)
class Section:
    """A passage of a school's policy, in its own words."""

    id: str
    title: str
    text: str
    line: int


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One ending of a guided flow: applies when every condition in `when` holds."""

    when: Mapping[str, str]
    text: str
    cites: tuple[str, ...]
    line: int

    def matches(self, facts: Mapping[str, str]) -> bool:
        return all(facts.get(key) == value for key, value in self.when.items())


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A school's answer to one intent, citing its own sections."""

    intent: str
    text: str
    cites: tuple[str, ...]
    outcomes: tuple[Outcome, ...] = ()
    line: int = 0
    reviewed: bool = True  # False: drafted by `chatbot kb draft`, not yet checked by a person; never given to users

    def outcome_for(self, facts: Mapping[str, str]) -> Outcome | None:
        return next((o for o in self.outcomes if o.matches(facts)), None)


@dataclass(frozen=True, kw_only=True)
class ReplyPromise:
    """A reply time the school's own policy promises, in its words, and what it applies to."""

    section: str  # the section that makes the promise
    text: str  # the promise, word for word from that section, e.g. "within 24 hours (...)"
    scope: str  # what it covers, e.g. "comments, queries or complaints made through its own social media accounts"


@dataclass(frozen=True, kw_only=True)
class School:
    """One school's policy: identity, contacts, verbatim sections, cited answers."""

    id: str
    name: str
    short_name: str
    policy: str
    version: str
    source: Path
    contacts: Mapping[str, str]
    sections: Mapping[str, Section]
    answers: Mapping[str, Answer]
    file: str
    reply_promise: ReplyPromise | None = None  # None: the policy promises no reply time
    label: str = ""  # how the school picker shows it; default: its name

    @property
    def picker_label(self) -> str:
        return self.label or self.name

    def contact(self, key: str, default: str) -> str:
        return self.contacts.get(key) or default


@dataclass(frozen=True, kw_only=True)
class KnowledgeBase:
    """Everything the engine knows: intents (shared) and schools (each its own policy)."""

    intents: Mapping[str, Intent]
    schools: Mapping[str, School]

    def school(self, school_id: str) -> School:
        try:
            return self.schools[school_id]
        except KeyError:
            raise UnknownSchool(school_id, sorted(self.schools)) from None

    def intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]
