"""Block Kit for the Slack adapter: answers for staff, concern cards and modals for the office.

Pure functions from the core's objects to Slack's JSON, so the layout can be
tested without a network and the adapter only decides *where* things go. Every
piece of text that came from a person (a parent's summary, an office reply) is
escaped, so it can never ping a channel or forge a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from chatbot.concerns import Concern
from chatbot.engine import CATEGORY_WORDS
from chatbot.messages import Button, Citation, Reply

Block = dict[str, Any]

CHOICE_PREFIX = "chatbot_choice_"
CLAIM, REPLY, NOTE, RESOLVE = "concern_claim", "concern_reply", "concern_note", "concern_resolve"
QUEUE_ACTIONS = (CLAIM, REPLY, NOTE, RESOLVE)
REPLY_VIEW, NOTE_VIEW = "concern_reply_view", "concern_note_view"
TEXT_BLOCK, TEXT_INPUT = "concern_text", "text"

REFUSAL = (
    "Sorry, the concern queue is only for the school office staff, so I can't show or change it for you. "
    "If you need something from the office, please ask them directly."
)

SECTION_CHARS = 2900  # Slack allows 3000 per text object; leave room for markup
QUOTE_CHARS = 1500
LABEL_CHARS = 75
HOME_ITEMS = 15  # per list; a Home tab holds at most 100 blocks

_CHANNEL_WORDS = {"telegram": "Telegram", "slack": "Slack", "console": "the console chat"}
_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")
_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


# -- text -----------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters, so people's words stay words (no <!channel>, no links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_keeping_mentions(text: str) -> str:
    """Escape, but let user mentions the core wrote back to us (a claimer's "<@U…>") render as names."""
    return _ESCAPED_MENTION.sub(lambda m: f"<@{m.group(1)}>", escape(text))


def plain_text(slack_text: str) -> str:
    """What a person typed, without Slack's markup: mentions dropped, links to their labels."""

    def token(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return ""
        if target.startswith(("#", "!")):
            return label or ""
        return label or target

    text = _SLACK_TOKEN.sub(token, slack_text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, so a long clause still fits a block."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    return "\n".join(f">{line}" for line in escape(shorten(text.strip(), limit)).splitlines() or [">"])


def _who(actor: str | None) -> str:
    """A claimer as Slack shows them: a mention stays a mention, anything else is escaped."""
    if actor is None:
        return "someone"
    return actor if _USER_MENTION.fullmatch(actor) else escape(actor)


# -- generic blocks -----------------------------------------------------------------------


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit), "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _chunks(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Split long text on paragraph then word boundaries; Slack rejects oversized sections."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip()
    return chunks + [rest] if rest else chunks


# -- answers for staff ------------------------------------------------------------------


def citation_block(cite: Citation) -> Block:
    return context(f'*From the policy, "{escape(cite.title)}":*\n{quote(cite.text)}')


def choice_button(number: int, button: Button) -> Block:
    return {
        "type": "button",
        "action_id": f"{CHOICE_PREFIX}{number}",
        "text": _plain(button.label),
        "value": button.action,
    }


def reply_blocks(reply: Reply) -> list[Block]:
    """An engine reply: its text, each cited clause quoted, its buttons as one actions block."""
    blocks = [section(chunk) for chunk in _chunks(escape(reply.text))]
    blocks += [citation_block(cite) for cite in reply.citations]
    if reply.buttons:
        elements = [choice_button(n, b) for n, b in enumerate(reply.buttons[:25], start=1)]
        blocks.append({"type": "actions", "block_id": "chatbot_choices", "elements": elements})
    return blocks[:50]


def reply_text(reply: Reply) -> str:
    """The notification and screen-reader fallback for a reply's blocks."""
    return escape(reply.text)


# -- the office's concern card --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Card:
    """What the office card needs besides the concern: due time in words, whether it's late, who to ping."""

    concern: Concern
    due_words: str
    overdue: bool = False
    leads: tuple[str, ...] = ()


def category_words(category: str) -> str:
    return CATEGORY_WORDS.get(category, category.replace("_", " "))


def status_words(concern: Concern) -> str:
    """Status for the office, naming who holds it (unlike the parent's view)."""
    if concern.status == "open":
        return "Open, not claimed yet"
    if concern.status == "claimed":
        return f"Claimed by {_who(concern.claimed_by)}"
    if concern.status == "replied":
        return f"Replied (claimed by {_who(concern.claimed_by)})"
    if concern.status == "resolved":
        return "Resolved"
    if concern.status == "withdrawn":
        return "Withdrawn by the person who raised it"
    return escape(concern.status)


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
    return [_mrkdwn(f"*{name}*\n{value}") for name, value in pairs]


def _queue_button(label: str, action_id: str, ref: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": _plain(label), "value": ref}
    if style:
        button["style"] = style
    return button


def _resolve_button(ref: str) -> Block:
    button = _queue_button("Resolve", RESOLVE, ref, "danger")
    button["confirm"] = {
        "title": _plain(f"Resolve {ref}?", 100),
        "text": _plain("They'll be told it is resolved, and that the door is still open.", 300),
        "confirm": _plain("Resolve"),
        "deny": _plain("Cancel"),
    }
    return button


def queue_buttons(concern: Concern) -> list[Block]:
    """Claim while nobody holds it; Reply and Resolve while active; a note is always allowed."""
    active = concern.status in ("open", "claimed", "replied")
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
    blocks.append({"type": "header", "text": _plain(card_title(concern), 150)})
    blocks.append({"type": "section", "fields": _card_fields(card)})
    summary = quote(concern.summary, SECTION_CHARS - 40) if concern.summary.strip() else "_(no description given)_"
    blocks.append(section(f"*What they told us*\n{summary}"))
    blocks.append({"type": "actions", "block_id": f"queue:{concern.ref}", "elements": queue_buttons(concern)})
    return text, blocks


def overdue_text(concern: Concern, due_words: str) -> str:
    holder = f"claimed by {_who(concern.claimed_by)}" if concern.claimed_by else "not claimed yet"
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
        "title": _plain(title, 24),
        "submit": _plain(submit, 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            context(intro),
            *extra,
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "label": _plain(label, 2000),
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
    blocks: list[Block] = [{"type": "header", "text": _plain(title, 150)}]
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
