"""What a person hears about their own matters: what is kept (/privacy, /forget) and their concerns.

Kept apart from replies.py (the bot's general voice) because every line here must
match what the code keeps and does: the README's privacy section says the same.
"""

from __future__ import annotations

from chatbot.config import RetentionPolicy
from chatbot.knowledge import School
from chatbot.replies import category_words

NOTHING_DELETED = "Okay, nothing has been deleted."
NO_CONCERNS = "You haven't raised any concerns with me. If something is worrying you, just tell me."


def _hours(hours: float) -> str:
    if hours % 24 == 0:
        days = int(hours // 24)
        return "a day" if days == 1 else f"{days} days"
    return f"{hours:g} hours"


def _safeguarding_duty(policy: RetentionPolicy) -> str:
    return (
        "the school has a legal duty to keep child-protection records, so they stay with the school for "
        f"{policy.safeguarding_years} years after they are closed"
    )


def privacy(school: School, policy: RetentionPolicy) -> str:
    """What is kept, for how long and who sees it; every line matches what the code does (see README)."""
    office = school.contact("office", "the school office")
    return "\n".join([
        "What I keep, and who sees it:",
        "- Your school and where you are in a conversation with me, so I can carry on if I restart. "
        "Only this bot uses it; it stays until you use /forget.",
        "- I don't keep your questions: a message is held only until I've answered it, then its words are "
        "deleted. If you start telling me about a concern but don't send it, "
        f"I clear what you typed when you stop or finish, or after {_hours(policy.unsent_text_hours)} at most.",
        f"- A concern you choose to send (its words, how to reply, and your phone number if you give one) "
        f"goes to {office} at {school.name}. Only that school's office staff see it, and they use it only "
        "to help you. It is kept until the school deletes old closed concerns, or until you use /forget.",
        "- A report that a child may be at risk is kept even if you use /forget, and can't be withdrawn: "
        f"{_safeguarding_duty(policy)}. Only the school's office and safeguarding staff see it.",
        "- My logs never hold your messages, your name or your phone number.",
        "You can delete everything else I hold about you with /forget.",
    ])  # fmt: skip


def forget_confirm(school: School, kept: tuple[str, ...], policy: RetentionPolicy) -> str:
    text = "This deletes your conversation with me and any concerns you've raised, including the office's replies."
    if kept:
        text += (
            f" I can't delete {_refs(kept)}, because {'it is a report' if len(kept) == 1 else 'they are reports'} "
            f"about a child's safety: {_safeguarding_duty(policy)}."
        )
    return text + " Are you sure?"


def forgotten(school: School, kept: tuple[str, ...], policy: RetentionPolicy) -> str:
    if not kept:
        return "Done: I've deleted your conversation with me and any concerns you raised."
    return (
        "Done: I've deleted your conversation with me and the other concerns you raised. "
        f"I've kept {_refs(kept)}, your report about a child's safety. I know that may not be what you hoped for, "
        f"but {_safeguarding_duty(policy)}. Only the school's office and safeguarding staff can see it. "
        f"If you'd like to talk about it, please contact {school.contact('safeguarding_lead', 'the school office')}."
    )


def _refs(refs: tuple[str, ...]) -> str:
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " and " + refs[-1]


def concern_line(ref: str, category: str, status: str) -> str:
    return f"- {ref} ({category_words(category)}): {status}"


def withdrawn(ref: str) -> str:
    return f"Okay, {ref} has been withdrawn and the office has been told."


STATUS_WORDS = {
    "open": "open, waiting for the office",
    "claimed": "being looked at by the office",
    "replied": "answered by the office",
    "resolved": "resolved",
    "withdrawn": "withdrawn",
}
KEPT_SAFEGUARDING = (
    "{ref} is a report about a child's safety, so it can't be withdrawn: the school has a legal duty to keep "
    "child-protection records. If something has changed, just tell me and I'll pass it to the school."
)
NOT_YOURS = "I can't find a concern {ref} raised by you. Ask me for your concerns to see their references."


def office_replied(ref: str, text: str) -> str:
    return f"The school has replied about your concern {ref}:\n\n{text}"


def resolved(ref: str) -> str:
    return (
        f"The school has marked your concern {ref} as resolved. "
        "If there's anything more, just reply here or raise it again: the door is always open."
    )
