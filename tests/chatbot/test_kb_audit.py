"""The audit record (docs/kb-audit.md) and the knowledge files agree, and the audited cases hold."""

from __future__ import annotations

import re

import pytest

from chatbot.config import PROJECT_ROOT
from chatbot.knowledge import KnowledgeBase, load_knowledge_base

AUDIT = PROJECT_ROOT / "docs" / "kb-audit.md"
NOT_POLICY = {"concern_status", "withdraw_concern", "forget_me", "privacy"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(intents_dir=PROJECT_ROOT / "intents", knowledge_dir=PROJECT_ROOT / "knowledge")


def _audit_rows() -> dict[tuple[str, str], tuple[str, str]]:
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    school = ""
    for line in AUDIT.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## .*\(`([\w-]+)`\)", line)
        if heading:
            school = heading.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if school and len(cells) == 3 and cells[1] in ("answered", "silent"):
            rows[(school, cells[0])] = (cells[1], cells[2])
    return rows


def test_every_school_intent_pair_is_audited_with_its_verdict(kb: KnowledgeBase) -> None:
    rows = _audit_rows()
    policy_intents = [i.id for i in kb.intents.values() if i.kind in ("answer", "flow") and i.id not in NOT_POLICY]
    for school in kb.schools.values():
        for intent_id in policy_intents:
            verdict, detail = rows[(school.id, intent_id)]
            answer = school.answers.get(intent_id)
            if answer is None:
                assert verdict == "silent" and detail, (school.id, intent_id)
            else:
                assert verdict == "answered", (school.id, intent_id)
                assert [c.strip() for c in detail.split(",")] == list(answer.cites), (school.id, intent_id)


def test_orchard_answers_joining_in_from_its_negative_comments_clause(kb: KnowledgeBase) -> None:
    answer = kb.school("orchard").answers["derogatory_conversations"]
    ruling = kb.school("orchard").sections[answer.cites[0]]
    assert "negative/offensive comments about the school or specific pupils, staff" in ruling.text


@pytest.mark.parametrize("school_id", ["dauvergne", "st-lukes", "orchard", "roose", "letter"])
def test_no_school_is_falsely_silent_on_derogatory_conversations(kb: KnowledgeBase, school_id: str) -> None:
    assert "derogatory_conversations" in kb.school(school_id).answers


def test_st_lukes_answers_a_teacher_adding_a_child_from_its_staff_pupil_clause(kb: KnowledgeBase) -> None:
    school = kb.school("st-lukes")
    answer = school.answers["teacher_contacting_my_child"]
    assert school.sections[answer.cites[0]].text == "- Staff must never add pupils as friends into their personal accounts."


def test_no_answer_promises_a_reply_time_its_own_policy_does_not_make(kb: KnowledgeBase) -> None:
    for school in kb.schools.values():
        own_promise = any("24 hours" in s.text for s in school.sections.values())
        for answer in school.answers.values():
            if "24 hours" in answer.text:
                assert own_promise, (school.id, answer.intent)


def test_no_answer_names_another_school(kb: KnowledgeBase) -> None:
    for school in kb.schools.values():
        others = [o.short_name for o in kb.schools.values() if o.id != school.id and o.short_name[:1].isupper()]
        for answer in school.answers.values():
            for name in others:
                assert name not in answer.text, (school.id, answer.intent, name)
