"""Block Kit basics and staff answers: Slack text escaping, generic blocks, a Reply as blocks.

Pure functions from the core's objects to Slack's JSON, so the layout can be
tested without a network and the rooms only decide *where* things go. Every
piece of text that came from a person is escaped, so it can never ping a
channel or forge a link. The office's cards, modals and Home are in cards.py.
"""

from __future__ import annotations

import re
from typing import Any

from chatbot.messages import Button, Citation, Reply

Block = dict[str, Any]

CHOICE_PREFIX = "chatbot_choice_"
SECTION_CHARS = 2900  # Slack allows 3000 per text object; leave room for markup
QUOTE_CHARS = 1500
LABEL_CHARS = 75

_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")
_ACTOR = re.compile(r"\bslack:([UW][A-Z0-9]+)\b")  # the neutral actor id Slack stores, e.g. slack:U0123ABCD
_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


# -- text -----------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters, so people's words stay words (no <!channel>, no links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def actor_id(user_id: str) -> str:
    """Who did something, as the queue stores it: neutral, so the CLI can print it plainly."""
    return f"slack:{user_id}"


def escape_keeping_mentions(text: str) -> str:
    """Escape, but let user mentions the core wrote back to us (a claimer's "<@U…>") render as names."""
    text = _ACTOR.sub(lambda m: f"<@{m.group(1)}>", text)  # a Slack actor id shows as a mention, in Slack only
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
    """A person's words as a block quote, escaped, cut at a word so the *final* text fits `limit`.

    Escaping can make text five times longer (& is &amp;) and every line gains a
    ">", so the cut is measured on the quoted result, not on the words.
    """
    words = text.strip()

    def quoted(keep: int) -> str:
        return "\n".join(f">{line}" for line in escape(shorten(words, keep)).splitlines() or [""])

    if len(whole := quoted(len(words))) <= limit:
        return whole
    fits, too_long = 1, len(words)  # quoted(1) is ">…"; the longest prefix that fits lies between
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        fits, too_long = (middle, too_long) if len(quoted(middle)) <= limit else (fits, middle)
    return quoted(fits)


def who(actor: str | None) -> str:
    """A claimer as Slack shows them: a mention stays a mention, anything else is escaped."""
    if actor is None:
        return "someone"
    found = _ACTOR.fullmatch(actor)
    if found:
        return mention(found.group(1))
    return actor if _USER_MENTION.fullmatch(actor) else escape(actor)


# -- generic blocks -----------------------------------------------------------------------


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit), "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def chunks(text: str, limit: int = SECTION_CHARS) -> list[str]:
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
        "text": plain(button.label),
        "value": button.payload,
    }


def reply_blocks(reply: Reply) -> list[Block]:
    """An engine reply: its text, each cited clause quoted, its buttons as one actions block."""
    blocks = [section(chunk) for chunk in chunks(escape(reply.text))]
    blocks += [citation_block(cite) for cite in reply.citations]
    if reply.buttons:
        elements = [choice_button(n, b) for n, b in enumerate(reply.buttons[:25], start=1)]
        blocks.append({"type": "actions", "block_id": "chatbot_choices", "elements": elements})
    return blocks[:50]


def reply_text(reply: Reply) -> str:
    """The notification and screen-reader fallback for a reply's blocks."""
    return escape(reply.text)
