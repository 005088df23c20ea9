"""Guided conversations: the photo check and the concern intake, as small state machines.

Each step is a pure function of the conversation and the user's answer, so the
state can be saved after every turn and resumed after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.messages import Button

PHOTO = "photo"
INTAKE = "concern"

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


PHOTO_QUESTIONS = {
    "oc": Question(
        "oc",
        "Let's check it together. Does the photo or video show other children, not just your own?",
        (Button(label="Yes", action="f:oc:yes"), Button(label="No, only mine", action="f:oc:no"),
         Button(label="Not sure", action="f:oc:unsure")),
    ),
    "ev": Question(
        "ev",
        "Was it taken at a school event (sports day, a performance, a trip) or in school?",
        (Button(label="Yes", action="f:ev:yes"), Button(label="No", action="f:ev:no")),
    ),
    "pm": Question(
        "pm",
        "Do you have the permission of the other children's parents to post it?",
        (Button(label="Yes", action="f:pm:yes"), Button(label="No", action="f:pm:no")),
    ),
}

PHOTO_FACTS = {"oc": "other_children", "ev": "school_event", "pm": "permission"}


def next_photo_step(facts: dict[str, str]) -> str | None:
    """The next question of the photo check, or None when it is complete."""
    if "other_children" not in facts:
        return "oc"
    if "school_event" not in facts:
        return "ev"
    if facts["other_children"] in ("yes", "unsure") and "permission" not in facts:
        return "pm"
    return None


INTAKE_DESCRIBE = Question("describe", "I'm sorry to hear that. Could you tell me briefly what has happened? Please don't include anyone's full name.")


def intake_consent(office: str, due: str) -> Question:
    return Question(
        "consent",
        f"This is best raised with the school directly rather than on social media. Shall I pass it to {office}? "
        f"Only the school's office staff will see it, and they'll reply by {due}.",
        (Button(label="Yes, pass it on", action="f:consent:yes"), Button(label="No, thanks", action="f:consent:no")),
    )


INTAKE_CONTACT = Question(
    "contact",
    "How would you like the school to reply?",
    (Button(label="Reply here", action="f:contact:chat"), Button(label="Phone me", action="f:contact:phone")),
)

INTAKE_PHONE = Question("phone", "What number should they call? (For example 07700 900123.)")

_PHONE = re.compile(r"^\+?[\d\s()-]{10,16}$")


def clean_phone(text: str) -> str | None:
    """A plausible UK or international phone number, digits only (with a leading +), or None."""
    candidate = text.strip()
    if not _PHONE.match(candidate):
        return None
    digits = re.sub(r"[^\d+]", "", candidate)
    count = len(digits.lstrip("+"))
    return digits if 10 <= count <= 15 else None
