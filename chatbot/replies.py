"""The words the bot says that are not policy answers: greetings, help, fallbacks, advice.

Kept in one place so the voice stays consistent, and so policy answers (which come
only from the school's own knowledge file) are never mixed with invented rules.
"""

from __future__ import annotations

from dataclasses import replace

from chatbot.knowledge import Answer, Intent, School
from chatbot.actions import ContactOffice, NoneOfThese
from chatbot.messages import Button, Citation

CATEGORY_WORDS = {
    "concern_complaint": "complaint",
    "concern_bullying": "bullying",
    "concern_offensive_post": "offensive post",
    "concern_photo_removal": "photo to take down",
    "concern_safeguarding": "safeguarding",
    "talk_to_person": "question for the office",
    "general": "message for the office",
}


def category_words(category: str) -> str:
    """A concern's category as people say it ("photo to take down", not "concern_photo_removal")."""
    return CATEGORY_WORDS.get(category, category.replace("_", " "))


EMERGENCY_ADVICE = (
    "If a child is in immediate danger, call 999 now. "
    "If you can, also tell {dsl} at {school} straight away; "
    "you can also call the NSPCC helpline on 0808 800 5000."
)

CONTACT_BUTTON = Button(label="Contact the school", action=ContactOffice())
TELL_THE_SCHOOL = Button(label="Tell the school about this", action=ContactOffice())
NONE_OF_THESE = Button(label="None of these", action=NoneOfThese())


def whose(school: School) -> str:
    """The school's name as an owner: "Orchard's", "St Luke's" (never "St Luke's's"), "the school's"."""
    name = school.short_name
    return name if name.endswith(("'s", "’s")) else f"{name}'s"


def sentence(text: str) -> str:
    """Capitalise a sentence that starts with a name like "the school" (but leave "d'Auvergne" alone)."""
    return text[:1].upper() + text[1:] if text.startswith("the ") else text


def reply_time(configured: str | None) -> str:
    """When the office will answer a concern raised here: the school's own setting, or no time at all.

    Never a policy's promise about its own accounts, and never another school's.
    """
    return configured or "as soon as they can"


def policy_promise(school: School) -> str | None:
    """The reply time the school's own policy promises, quoted with what it covers."""
    promise = school.reply_promise
    if promise is None:
        return None
    return sentence(f"{whose(school)} policy promises that {promise.scope} are answered {promise.text}.")


def citations(school: School, section_ids: tuple[str, ...]) -> tuple[Citation, ...]:
    return tuple(
        Citation(school_id=school.id, section_id=s, title=school.sections[s].title, text=school.sections[s].text)
        for s in section_ids
        if s in school.sections
    )


def open_door(school: School) -> str:
    """The school's own open-door offer, from its answer if it has one."""
    answer = school.answers.get("open_door")
    if answer is not None and answer.reviewed:
        return answer.text
    return f"If you have a concern, please speak to {school.contact('office', 'the school office')} directly."


ANSWER_CHARS = 600  # an answer and its one quoted clause, on a phone screen
MIN_QUOTE_CHARS = 160


def excerpt(text: str, limit: int) -> str:
    """The clause cut at a word boundary to `limit` characters, marked with an ellipsis if cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 2].rsplit(" ", 1)[0] + " …"


def answer_reply(school: School, answer: Answer) -> tuple[str, tuple[Citation, ...], bool]:
    """The answer with the one clause that rules (its first citation), fitted to a phone screen.

    Returns the text, that citation, and whether there is more to show ("More from the policy").
    """
    cited = citations(school, answer.cites)
    if not cited:
        return answer.text, (), False
    first = cited[0]
    quote = excerpt(first.text, max(MIN_QUOTE_CHARS, ANSWER_CHARS - len(answer.text) - len(first.title)))
    more = len(cited) > 1 or quote != " ".join(first.text.split())
    return answer.text, (replace(first, text=quote),), more


def more_from_policy(school: School, answer: Answer) -> tuple[str, tuple[Citation, ...]]:
    """Everything the answer cites, in full: what the "More from the policy" button shows."""
    return sentence(f"Here is everything {whose(school)} policy says on this."), citations(school, answer.cites)


MORE_LABEL = "More from the policy"


def silence(school: School, intent: Intent) -> str:
    """Short and plain: the policy doesn't cover it, and the school is there to ask."""
    return sentence(f"{whose(school)} policy doesn't say anything about this. ") + (
        "The school would be glad to answer you directly."
    )


# Questions to suggest, per intent, best first: a school suggests only ones its own policy answers.
PARENT_EXAMPLES = {
    "post_photo": "can I post a photo from the nativity?",
    "complaining_online": "can I complain about a teacher on Facebook?",
    "children_accounts_age": "is my child old enough for TikTok?",
    "derogatory_conversations": "should I join a negative conversation about the school online?",
    "before_posting_about_school": "what should I think about before posting about the school?",
    "who_policy_applies_to": "does the policy apply to grandparents too?",
}
STAFF_EXAMPLES = {
    "staff_friending_parents": "can I accept a friend request from a parent?",
    "staff_school_name_and_logo": "can I use the school logo on my blog?",
    "staff_discussing_school_online": "can I post about my class on Facebook?",
    "staff_handling_parent_posts": "what do we do when a parent posts something abusive?",
    "staff_monitoring_duty": "is it my job to monitor online comments about the school?",
}


def examples(school: School, audience: str, count: int = 3) -> list[str]:
    """Example questions this school's own policy answers, for greetings and /help."""
    table = STAFF_EXAMPLES if audience == "staff" else PARENT_EXAMPLES
    answered = {intent for intent, answer in school.answers.items() if answer.reviewed}
    return [question for intent, question in table.items() if intent in answered][:count]


def _try(school: School, audience: str, count: int = 3) -> str:
    chosen = examples(school, audience, count)
    return "Try: " + ", ".join(f"'{q}'" for q in chosen) + "." if chosen else ""


def has_staff_code(school: School) -> bool:
    """Whether the policy includes a code of conduct for staff (only then does the bot offer one)."""
    return any("code of conduct" in s.title.lower() for s in school.sections.values())


def greeting(school: School, audience: str) -> str:
    if audience == "staff":
        what = f"{whose(school)} {school.policy}" + (" and its staff code of conduct" if has_staff_code(school) else "")
        return " ".join(filter(None, [
            sentence(f"Hello! I can help you check {what}."), _try(school, audience, 2),
            "I'll quote the policy for every answer.",
        ]))  # fmt: skip
    return " ".join(filter(None, [
        f"Hello! I'm {whose(school)} social media helper.",
        f"Ask me about the {school.policy}.", _try(school, audience, 2),
        "I'll quote the policy for every answer. If something is worrying you, I can pass it to the school office.",
        "To change school, send /school.",
    ]))  # fmt: skip


def help_text(school: School, audience: str, promise: str | None = None) -> str:
    """What the bot does, for this school; `promise` is the school's configured reply time, if any."""
    lines = [
        sentence(f"I answer questions about {whose(school)} {school.policy}, quoting the part of the policy I rely on."),
    ]
    if audience == "parent":
        lines += [
            _try(school, audience),
            "If you have a concern (a complaint, bullying, a post or photo to take down), I can pass it to "
            f"{office(school)}; they'll reply {reply_time(promise)}.",
        ]
        own = policy_promise(school)
        if own:
            lines.append(own)
        lines.append(
            "Commands: /school (change school), /concerns (your concerns and their status), "
            "/privacy (what I keep), /forget (delete it)."
        )
    else:
        lines += [
            _try(school, audience),
            "Commands: /school (change school).",
        ]
    return "\n".join(line for line in lines if line)


def thanks(school: School) -> str:
    return f"You're welcome. If anything else comes up about {whose(school)} policy, just ask."


def out_of_scope(school: School) -> str:
    return (
        f"I'm sorry, that's not something {whose(school)} {school.policy} covers, so I can't answer it here. "
        f"For anything else, please get in touch with {school.contact('office', 'the school office')}."
    )


def fallback(school: School) -> str:
    return (
        "I'm not sure I've understood, and I'd rather not guess. Could you put it another way? "
        f"Or, if you'd like to ask a person, I can pass your question to {school.contact('office', 'the school office')}."
    )


def did_you_mean() -> str:
    return "I want to be sure I answer the right question. Did you mean one of these?"


def emergency(school: School, ref: str, due: str | None) -> str:
    dsl = school.contact("safeguarding_lead", "the Designated Safeguarding Lead (DSL)")
    lines = [
        "Thank you for telling us. This sounds like a child may be at risk, so I've treated it as urgent.",
        EMERGENCY_ADVICE.format(dsl=dsl, school=school.name),
        f"I've passed your message to the school now as urgent concern {ref}, for {dsl}.",
    ]
    if due is None:
        lines.append("They will contact you as soon as possible.")
    return "\n\n".join(lines)


def emergency_unstored(school: School | None, *, kept: bool) -> str:
    """The emergency advice when the report could not be stored: the advice never depends on the database."""
    dsl = school.contact("safeguarding_lead", "the Designated Safeguarding Lead (DSL)") if school else (
        "your school's Designated Safeguarding Lead (DSL)")
    name = school.name if school else "the school"
    later = (
        "I'm sorry: because of a problem on my side I couldn't pass your message to the school yet. "
        "I've kept it and will pass it on as urgent as soon as I can."
        if kept
        else "I'm sorry: because of a problem on my side I couldn't pass your message to the school."
    )
    return "\n\n".join([
        "Thank you for telling us. This sounds like a child may be at risk, so I've treated it as urgent.",
        EMERGENCY_ADVICE.format(dsl=dsl, school=name),
        f"{later} Please don't wait for that: contact {dsl} at {name} directly.",
    ])  # fmt: skip


STORAGE_DOWN = (
    "Sorry, I can't answer properly just now because of a problem on my side. Please try again in a few minutes. "
    "If a child is in immediate danger, call 999."
)


EDITED = (
    "I don't read changes to messages I've already answered. "
    "If you'd like to ask something else, please send it as a new message."
)
FORWARDED = (
    "Thanks for sharing this. I can't act on forwarded messages, because I can't tell who wrote them. "
    "Please type your question in your own words and I'll do my best to help."
)


def unsupported(media: str | None) -> str:
    if media == "edited":
        return EDITED
    if media == "forwarded":
        return FORWARDED
    what = {"photo": "photos", "sticker": "stickers", "voice": "voice notes", "video": "videos",
            "document": "files", "audio": "audio", "animation": "GIFs", "location": "locations",
            "contact": "contact cards", "poll": "polls"}.get(media or "", "that kind of message")
    return (
        f"Thanks! I can't look at {what}, only read text. Please type your question in words, "
        "for example 'can I post this photo from sports day?'. I'll ask a few questions to check it with you."
    )


def empty_message() -> str:
    return "I didn't catch anything there. Please type your question, for example 'can I post photos from sports day?'."


def no_letters() -> str:
    return "I can only understand words, I'm afraid. Please type your question, for example 'can I post photos from sports day?'."


# -- conversation wording the engine uses (kept here so the voice stays in one place) --------------

APOLOGY = "Sorry, something went wrong on my side. Please try again."
GROUP_PRIVATE = (
    "Concerns are private, so I don't collect them in a group chat. "
    "Please message me privately and I'll help you raise it with the school."
)
GROUP_URGENT = "Please don't share any more details here in the group. You can message me privately."
CHOOSE_SCHOOL = "Which school would you like to ask about?"
CANCELLED = "Okay, I've stopped that. Ask me anything about the policy whenever you like."
NOTHING_TO_CANCEL_HERE = "There's nothing to stop here. Ask me anything about the policy whenever you like."
BUTTON_EXPIRED = "That button has expired. Please ask your question again."
QUESTION_EXPIRED = "That question has expired. Please ask again whenever you like."
EARLIER_QUESTION = "That was an earlier question. "
DIDNT_FOLLOW = "Sorry, I didn't follow. "


def office(school: School) -> str:
    return school.contact("office", "the school office")


def none_of_these(school: School) -> str:
    return (
        "Sorry I couldn't find it. You could try asking another way, or I can pass your question to "
        f"{office(school)}."
    )


def english_only(school: School) -> str:
    return "I'm sorry, I can only understand English at the moment. " + out_of_scope(school).split(". ", 1)[1]


def unknown_command(school: School, command: str, audience: str, promise: str | None = None) -> str:
    return f"I don't know the command /{command}. " + help_text(school, audience, promise)


def declined(school: School) -> str:
    return "That's fine: nothing has been passed on. " + open_door(school)


def lodged(school: School, ref: str, *, by_phone: bool, due: str) -> str:
    how = "call you" if by_phone else "reply here"
    return (
        f"Thank you. I've passed this to {office(school)} as {ref}. They'll {how} {due}. "
        'You can check on it any time by asking "what\'s happening with my concern?" (or /concerns).'
    )
