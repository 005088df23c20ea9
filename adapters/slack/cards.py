"""Block Kit for the office workbench: concern cards, their buttons, the two modals, the App Home.

Pure functions from a Concern to Slack's JSON; office.py decides where they go.
A parent's words are always escaped, so a summary can never ping a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from adapters.slack.blocks import SECTION_CHARS, Block, context, escape, mention, mrkdwn, plain, quote, section, shorten, who
from chatbot import replies
from chatbot.concerns import ACTIVE, Concern, Status

CLAIM, REPLY, NOTE, RESOLVE = "concern_claim", "concern_reply", "concern_note", "concern_resolve"
QUEUE_ACTIONS = (CLAIM, REPLY, NOTE, RESOLVE)
REPLY_VIEW, NOTE_VIEW = "concern_reply_view", "concern_note_view"
TEXT_BLOCK, TEXT_INPUT = "concern_text", "text"

REFUSAL = (
    "Sorry, the concern queue is only for the school office staff, so I can't show or change it for you. "
    "If you need something from the office, please ask them directly."
)
HOME_ITEMS = 15  # per list; a Home tab holds at most 100 blocks
_CHANNEL_WORDS = {"telegram": "Telegram", "slack": "Slack", "console": "the console chat"}


# -- the office's concern card --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Card:
    """What the office card needs besides the concern: due time in words, whether it's late, who to ping."""

    concern: Concern
    due_words: str
    overdue: bool = False
    leads: tuple[str, ...] = ()


def category_words(category: str) -> str:
    return replies.category_words(category)


def status_words(concern: Concern) -> str:
    """Status for the office, naming who holds it (unlike the parent's view)."""
    holder = who(concern.claimed_by)
    words = {
        Status.OPEN: "Open, not claimed yet",
        Status.CLAIMED: f"Claimed by {holder}",
        Status.REPLIED: f"Replied (claimed by {holder})",
        Status.RESOLVED: "Resolved",
        Status.WITHDRAWN: "Withdrawn by the person who raised it",
    }
    return words[concern.status]


def raised_via(concern: Concern) -> str:
    """Who raised it and on which channel, never their platform ids."""
    who = "a member of staff" if concern.audience == "staff" else "a parent or carer"
    return f"{who} on {_CHANNEL_WORDS.get(concern.channel, escape(concern.channel))}"


def _contact(concern: Concern) -> str:
    if concern.contact_method == "phone" and concern.phone:
        return f"by phone: {escape(concern.phone)}"
    return "in the chat they used (press Reply)"


def _card_fields(card: Card) -> list[dict[str, str]]:
    concern = card.concern
    due = escape(card.due_words) + (" *(overdue)*" if card.overdue else "")
    priority = ":red_circle: *Urgent (safeguarding)*" if concern.urgent else "Normal"
    pairs = [
        ("Reference", concern.ref), ("Category", escape(category_words(concern.category))),
        ("Priority", priority), ("Due", due), ("Raised by", raised_via(concern)),
        ("Reply", _contact(concern)), ("Status", status_words(concern)),
    ]  # fmt: skip
    return [mrkdwn(f"*{name}*\n{value}") for name, value in pairs]


def _queue_button(label: str, action_id: str, ref: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": plain(label), "value": ref}
    if style:
        button["style"] = style
    return button


def _resolve_button(ref: str) -> Block:
    button = _queue_button("Resolve", RESOLVE, ref, "danger")
    button["confirm"] = {
        "title": plain(f"Resolve {ref}?", 100),
        "text": plain("They'll be told it is resolved, and that the door is still open.", 300),
        "confirm": plain("Resolve"),
        "deny": plain("Cancel"),
    }
    return button


def queue_buttons(concern: Concern) -> list[Block]:
    """Claim while nobody holds it; Reply and Resolve while active; a note is always allowed."""
    active = concern.status in ACTIVE
    buttons: list[Block] = []
    if active and concern.claimed_by is None:
        buttons.append(_queue_button("Claim", CLAIM, concern.ref, "primary"))
    if active:
        buttons.append(_queue_button("Reply", REPLY, concern.ref))
    buttons.append(_queue_button("Add note", NOTE, concern.ref))
    if active:
        buttons.append(_resolve_button(concern.ref))
    return buttons


def loud_line(leads: Sequence[str]) -> str:
    pings = " ".join(["<!channel>", *(mention(u) for u in leads)])
    return f":rotating_light: {pings} *Urgent safeguarding concern: please act now.*"


def card_title(concern: Concern) -> str:
    kind = "Urgent safeguarding concern" if concern.urgent else "Concern"
    return f"{kind} {concern.ref}: {category_words(concern.category)}"


def concern_card(card: Card) -> tuple[str, list[Block]]:
    """The office channel's message for one concern: (notification text, blocks)."""
    concern = card.concern
    blocks: list[Block] = []
    text = escape(card_title(concern))
    if concern.urgent:
        blocks.append(section(loud_line(card.leads)))
        text = f"{loud_line(card.leads)} {text}"
    blocks.append({"type": "header", "text": plain(card_title(concern), 150)})
    blocks.append({"type": "section", "fields": _card_fields(card)})
    heading = "*What they told us*\n"
    summary = "_(no description given)_"
    if concern.summary.strip():
        summary = quote(concern.summary, SECTION_CHARS - len(heading))
    blocks.append(section(heading + summary))
    blocks.append({"type": "actions", "block_id": f"queue:{concern.ref}", "elements": queue_buttons(concern)})
    return text, blocks


def plain_card(concern: Concern, leads: Sequence[str]) -> str:
    """When Slack refuses the full card (too long, or blocks it won't take): a short one that still alerts."""
    line = (
        f"{escape(card_title(concern))}. Slack would not show this concern in full: read it with"
        f" `chatbot queue show {concern.ref}`."
    )
    return f"{loud_line(leads)} {line}" if concern.urgent else line


def overdue_text(concern: Concern, due_words: str) -> str:
    holder = f"claimed by {who(concern.claimed_by)}" if concern.claimed_by else "not claimed yet"
    return (
        f":alarm_clock: {concern.ref} is overdue: an answer was promised by {escape(due_words)}. "
        f"It is {holder}."
    )


def undeliverable_text(*, ref: str | None, channel: str, audience: str | None) -> str:
    who = "the member of staff" if audience == "staff" else "the parent"
    where = _CHANNEL_WORDS.get(channel, escape(channel))
    about = f"about {ref} " if ref else ""
    return (
        f":warning: A message {about}could not be delivered: {who} could not be reached on {where} "
        "(they may have blocked the bot or left). Please contact them another way."
    )


# -- modals ---------------------------------------------------------------------------------


def _text_modal(
    *, callback_id: str, ref: str, title: str, submit: str, intro: str, label: str, extra: Iterable[Block]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": ref,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": [
            context(intro),
            *extra,
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "label": plain(label, 2000),
                "element": {"type": "plain_text_input", "action_id": TEXT_INPUT, "multiline": True, "max_length": 3000},
            },
        ],
    }


def reply_modal(concern: Concern) -> Block:
    """Write to whoever raised the concern, on the channel they used."""
    summary = quote(concern.summary, 1200) if concern.summary.strip() else "_(no description given)_"
    return _text_modal(
        callback_id=REPLY_VIEW, ref=concern.ref, title=f"Reply to {concern.ref}", submit="Send",
        intro=f"Your reply goes to {raised_via(concern)}, from the school.",
        label="Your reply", extra=[section(f"*What they told us*\n{summary}")],
    )  # fmt: skip


def note_modal(concern: Concern) -> Block:
    """An internal note for the record; never sent to anyone."""
    return _text_modal(
        callback_id=NOTE_VIEW, ref=concern.ref, title=f"Note on {concern.ref}", submit="Save",
        intro="Notes stay in the office's record of this concern; they are never sent.",
        label="Note", extra=[],
    )  # fmt: skip


# -- the App Home -------------------------------------------------------------------------------


def _home_line(concern: Concern, due_words: str, overdue: bool) -> Block:
    flag = ":red_circle: " if concern.urgent else ""
    late = " *(overdue)*" if overdue else ""
    summary = escape(shorten(" ".join(concern.summary.split()), 150)) or "_(no description)_"
    return section(
        f"{flag}*{concern.ref}* · {escape(category_words(concern.category))} · due {escape(due_words)}{late}"
        f" · {status_words(concern)}\n{summary}"
    )


def _home_list(title: str, concerns: Sequence[Concern], describe: Callable[[Concern], tuple[str, bool]]) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": plain(title, 150)}]
    if not concerns:
        return blocks + [context("Nothing here.")]
    blocks += [_home_line(c, *describe(c)) for c in concerns[:HOME_ITEMS]]
    if len(concerns) > HOME_ITEMS:
        blocks.append(context(f"…and {len(concerns) - HOME_ITEMS} more."))
    return blocks + [{"type": "divider"}]


@dataclass(frozen=True, kw_only=True)
class HomeLists:
    """The office member's three views of the queue."""

    mine: Sequence[Concern]
    unclaimed: Sequence[Concern]
    overdue: Sequence[Concern]


def office_home(lists: HomeLists, *, describe: Callable[[Concern], tuple[str, bool]], updated: datetime) -> Block:
    """The queue at a glance; acting on a concern happens on its card in the office channel."""
    blocks = [
        section("*The concern queue.* Claim, reply and resolve on each concern's card in the office channel."),
        *_home_list("Mine", lists.mine, describe),
        *_home_list("Unclaimed", lists.unclaimed, describe),
        *_home_list("Overdue", lists.overdue, describe),
        context(f"Updated {updated:%H:%M} (UTC). Open this tab again to refresh."),
    ]
    return {"type": "home", "blocks": blocks[:100]}


def staff_home() -> Block:
    """For everyone else: what the bot is for, and that the queue is not theirs to see."""
    return {
        "type": "home",
        "blocks": [
            section(
                "*Hello!* I answer questions about the school's social media policy and staff code of conduct, "
                "quoting the policy. Send me a direct message, @mention me in a channel, or type "
                "`/policy your question`."
            ),
            context("The concern queue is for office staff only."),
        ],
    }
