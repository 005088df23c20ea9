"""The bot's own words: school names, the school's own reply promise, examples its policy answers."""

from __future__ import annotations

import pytest

from chatbot import replies
from chatbot.confidence import Thresholds, Verdict, decide
from chatbot.knowledge import KnowledgeBase
from chatbot.matching import Matcher

SCHOOLS = ["dauvergne", "st-lukes", "orchard", "roose", "letter"]


def test_school_names_as_owners_are_right(kb: KnowledgeBase) -> None:
    assert replies.whose(kb.school("st-lukes")) == "St Luke's"
    assert replies.whose(kb.school("orchard")) == "Orchard's"
    assert replies.whose(kb.school("letter")) == "the school's"


@pytest.mark.parametrize("school_id", SCHOOLS)
@pytest.mark.parametrize("audience", ["parent", "staff"])
def test_words_about_a_school_never_misname_it_nor_start_in_lower_case(
    kb: KnowledgeBase, school_id: str, audience: str
) -> None:
    school = kb.school(school_id)
    for text in (replies.help_text(school, audience), replies.greeting(school, audience),
                 replies.silence(school, kb.intent("post_photo")), replies.thanks(school), replies.out_of_scope(school)):
        assert "'s's" not in text and "'s 's" not in text
        assert not text.startswith("the ")
        for other in kb.schools.values():
            if other.id != school_id and other.short_name[:1].isupper():
                assert other.short_name not in text


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_help_promises_only_the_schools_own_reply_time(kb: KnowledgeBase, school_id: str) -> None:
    school = kb.school(school_id)
    text = replies.help_text(school, "parent")
    assert ("24 hours" in text) == (school_id == "orchard")
    assert "as soon as they can" in text
    assert "/school" in text
    configured = replies.help_text(school, "parent", "within two working days")
    assert "they'll reply within two working days" in configured


def test_orchards_promise_is_quoted_with_its_scope(kb: KnowledgeBase) -> None:
    promise = replies.policy_promise(kb.school("orchard"))
    assert promise is not None
    assert "made through the school's own social media accounts" in promise
    assert "within 24 hours (or on the next working day if received at the weekend)" in promise
    assert replies.policy_promise(kb.school("st-lukes")) is None


def test_the_silent_reply_is_short_and_plain(kb: KnowledgeBase) -> None:
    text = replies.silence(kb.school("roose"), kb.intent("post_photo"))
    assert len(text) < 160
    assert "borrow" not in text and "another school" not in text


def test_only_a_school_with_a_staff_code_mentions_one(kb: KnowledgeBase) -> None:
    mentions = {s: "code of conduct" in replies.greeting(kb.school(s), "staff") for s in SCHOOLS}
    assert mentions == {"dauvergne": False, "st-lukes": True, "orchard": False, "roose": False, "letter": False}


@pytest.mark.parametrize("school_id", SCHOOLS)
@pytest.mark.parametrize("audience", ["parent", "staff"])
def test_each_schools_examples_are_understood_and_answered_by_its_own_policy(
    kb: KnowledgeBase, matcher: Matcher, school_id: str, audience: str
) -> None:
    school = kb.school(school_id)
    table = replies.STAFF_EXAMPLES if audience == "staff" else replies.PARENT_EXAMPLES
    chosen = replies.examples(school, audience)
    if audience == "parent":
        assert len(chosen) == 3
    for question in chosen:
        intent = next(i for i, q in table.items() if q == question)
        decision = decide(matcher.rank(question, audience=audience), Thresholds(), terms=len(matcher.terms(question)))
        assert (decision.verdict, decision.intent) == (Verdict.ANSWER, intent)
        assert intent in school.answers


@pytest.mark.parametrize("school_id", SCHOOLS)
def test_every_answer_fits_a_phone_with_one_quoted_clause(kb: KnowledgeBase, school_id: str) -> None:
    school = kb.school(school_id)
    for answer in school.answers.values():
        text, cites, more = replies.answer_reply(school, answer)
        assert len(cites) == 1, answer.intent
        assert len(text) + len(cites[0].title) + len(cites[0].text) <= replies.ANSWER_CHARS + 50, answer.intent
        assert cites[0].section_id == answer.cites[0]  # the clause that rules is the one quoted
        assert more == (len(answer.cites) > 1 or cites[0].text.endswith(" …"))
