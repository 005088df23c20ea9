"""Block Kit building for Slack: pure functions, checked against Slack's limits and our privacy rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest

from adapters.slack import blocks as kit
from adapters.slack import cards
from chatbot.actions import FlowAnswer, NoneOfThese
from chatbot.concerns import Concern
from chatbot.messages import Button, Citation, Reply
from tests.adapters.slack.workspace import texts

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=timezone.utc)


def concern(**changes: Any) -> Concern:
    base = Concern(
        id=7, ref="C-0007", school_id="st-lukes", channel="telegram", user_id="tg-111", chat_id="tg-222",
        audience="parent", category="concern_offensive_post", urgent=False, status="open",
        summary="Someone posted <@U123> & a link <http://x.example|here>", contact_method="chat", phone=None,
        consent=True, created_at=NOW, due_at=NOW, claimed_by=None, claimed_at=None, resolved_at=None,
        reminded_at=None,
    )  # fmt: skip
    return replace(base, **changes)


def card(c: Concern, **changes: Any) -> tuple[str, list[dict[str, Any]]]:
    return cards.concern_card(cards.Card(concern=c, due_words="16:30 on Monday 3 March", **changes))


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


# -- text ---------------------------------------------------------------------------------------


def test_escape_neutralises_slacks_control_characters() -> None:
    assert kit.escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_escape_keeping_mentions_renders_only_user_mentions() -> None:
    assert kit.escape_keeping_mentions("claimed by <@U0ABC> <!here>") == "claimed by <@U0ABC> &lt;!here&gt;"
    assert kit.escape_keeping_mentions("already claimed by slack:U0ABC.") == "already claimed by <@U0ABC>."
    assert kit.who("slack:U0ABC") == "<@U0ABC>" and kit.who("Mrs <Shah>") == "Mrs &lt;Shah&gt;"


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("<@U0BOT> can I   post?", "can I post?"),
        ("see <https://school.example/policy|the policy> &amp; <https://x.example>", "see the policy & https://x.example"),
        ("in <#C0123|staffroom> &lt;3", "in staffroom <3"),
        ("first  line\n\n  second line ", "first line\nsecond line"),
    ],
)
def test_plain_text_strips_slack_markup(slack: str, plain: str) -> None:
    assert kit.plain_text(slack) == plain


def test_shorten_cuts_at_a_word_within_the_limit() -> None:
    cut = kit.shorten("one two three four", 12)
    assert cut == "one two…" and len(cut) <= 12


# -- answers ----------------------------------------------------------------------------------


def test_reply_blocks_show_text_citations_and_numbered_choice_buttons() -> None:
    reply = Reply(
        text="Staff are advised not to become 'friends' with parents.",
        citations=(Citation(school_id="s", section_id="x", title="Staff & parents", text="Do not <befriend> parents."),),
        buttons=(Button(label="Yes", action=FlowAnswer("x", "yes")), Button(label="No", action=FlowAnswer("x", "no"))),
    )

    blocks = kit.reply_blocks(reply)

    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": reply.text}}
    assert blocks[1]["type"] == "context"
    assert blocks[1]["elements"][0]["text"] == '*From the policy, "Staff &amp; parents":*\n>Do not &lt;befriend&gt; parents.'
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [
        ("chatbot_choice_1", "f:x:yes"), ("chatbot_choice_2", "f:x:no")
    ]  # fmt: skip


def test_long_replies_are_split_under_slacks_section_limit() -> None:
    text = ("word " * 1500).strip()  # 7,499 characters
    blocks = kit.reply_blocks(Reply(text=text))
    assert len(blocks) == 3
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert " ".join(b["text"]["text"] for b in blocks) == text


def test_button_labels_fit_slacks_limit() -> None:
    [button] = buttons(kit.reply_blocks(Reply(text="x", buttons=(Button(label="L" * 200, action=NoneOfThese()),))))
    assert len(button["text"]["text"]) <= 75


# -- the concern card ----------------------------------------------------------------------------


def test_card_shows_what_the_office_needs_and_no_platform_ids() -> None:
    text, blocks = card(concern())
    words = texts(blocks)

    for expected in ("C-0007", "offensive post", "Normal", "16:30 on Monday 3 March", "a parent or carer on Telegram",
                     "Open, not claimed yet", "&lt;@U123&gt;"):  # fmt: skip
        assert expected in words
    assert "tg-111" not in str(blocks) + text and "tg-222" not in str(blocks) + text
    assert "<@U123>" not in str(blocks)
    assert [b["action_id"] for b in buttons(blocks)] == [cards.CLAIM, cards.REPLY, cards.NOTE, cards.RESOLVE]
    assert {b["value"] for b in buttons(blocks)} == {"C-0007"}
    assert "confirm" in buttons(blocks)[-1]


def test_quote_escapes_and_marks_every_line() -> None:
    assert kit.quote("a & b\n<c>") == ">a &amp; b\n>&lt;c&gt;"


def test_a_card_fits_slacks_section_limit_after_escaping_and_quoting() -> None:
    """Measured on the final text: '&' becomes '&amp;' and each of hundreds of lines gains a '>'."""
    summary = "\n".join(f"<{n}> & <!channel> && x > y" for n in range(600))  # about 16,000 characters escaped
    _, blocks = card(concern(summary=summary, urgent=True, category="concern_safeguarding"), leads=("U0DSL",))

    told = next(b["text"]["text"] for b in blocks if b["type"] == "section" and "What they told us" in str(b))
    heading, *lines = told.split("\n")
    assert len(told) <= 3000
    assert len(told) > 2700  # cut to fit, not cut short
    assert heading == "*What they told us*" and all(line.startswith(">") for line in lines)
    assert lines[0] == ">&lt;0&gt; &amp; &lt;!channel&gt; &amp;&amp; x &gt; y" and lines[-1].endswith("…")
    bare = "".join(line[1:] for line in lines).replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert not {"&", "<", ">"} & set(bare)  # nothing left that Slack would read as markup
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b)


def test_urgent_card_pings_the_channel_and_each_lead() -> None:
    text, blocks = card(concern(urgent=True, category="concern_safeguarding"), leads=("U0DSL", "U0DEP"))
    for ping in ("<!channel>", "<@U0DSL>", "<@U0DEP>"):
        assert ping in text and ping in blocks[0]["text"]["text"]
    assert "Urgent (safeguarding)" in texts(blocks)


def test_claimed_card_names_the_claimer_and_drops_the_claim_button() -> None:
    _, blocks = card(concern(status="claimed", claimed_by="<@U0OFFICE>"), overdue=True)
    assert "Claimed by <@U0OFFICE>" in texts(blocks)
    assert "(overdue)" in texts(blocks)
    assert [b["action_id"] for b in buttons(blocks)] == [cards.REPLY, cards.NOTE, cards.RESOLVE]


def test_a_claimer_named_in_the_cli_is_escaped() -> None:
    _, blocks = card(concern(status="claimed", claimed_by="Mrs <Patel>"))
    assert "Claimed by Mrs &lt;Patel&gt;" in texts(blocks)


@pytest.mark.parametrize("status", ["resolved", "withdrawn"])
def test_closed_card_only_takes_notes(status: str) -> None:
    _, blocks = card(concern(status=status, claimed_by="<@U0OFFICE>"))
    assert [b["action_id"] for b in buttons(blocks)] == [cards.NOTE]


def test_phone_contact_and_staff_concerns_are_described() -> None:
    _, blocks = card(concern(contact_method="phone", phone="07700 900123", channel="slack", audience="staff"))
    words = texts(blocks)
    assert "by phone: 07700 900123" in words and "a member of staff on Slack" in words


def test_reminder_and_undeliverable_texts_say_what_to_do() -> None:
    assert "C-0007 is overdue" in cards.overdue_text(concern(), "09:00 on Tuesday 4 March")
    note = cards.undeliverable_text(ref="C-0007", channel="telegram", audience="parent")
    assert "about C-0007" in note and "the parent could not be reached on Telegram" in note


# -- modals and home ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [cards.reply_modal, cards.note_modal])
def test_modals_carry_the_ref_and_fit_slacks_title_limit(build: Any) -> None:
    view = build(concern(ref="C-123456"))
    assert view["private_metadata"] == "C-123456"
    assert view["callback_id"] in (cards.REPLY_VIEW, cards.NOTE_VIEW)
    assert len(view["title"]["text"]) <= 24
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert (field["block_id"], field["element"]["action_id"]) == (cards.TEXT_BLOCK, cards.TEXT_INPUT)


def test_office_home_lists_and_stays_under_a_hundred_blocks() -> None:
    many = [concern(id=n, ref=f"C-{n:04d}") for n in range(1, 60)]
    lists = cards.HomeLists(mine=many, unclaimed=many, overdue=[])

    view = cards.office_home(lists, describe=lambda c: ("soon", False), updated=NOW)

    assert view["type"] == "home" and len(view["blocks"]) <= 100
    words = texts(view["blocks"])
    assert "C-0001" in words and "…and 44 more." in words and "Nothing here." in words


def test_staff_home_shows_no_queue() -> None:
    view = cards.staff_home()
    assert "office staff only" in texts(view["blocks"])
