"""coverage_report: every school x policy intent, and a false silence shows up for review."""

from __future__ import annotations

import shutil
from pathlib import Path

from chatbot.config import PROJECT_ROOT
from chatbot.kb.coverage import Coverage, coverage_report
from chatbot.knowledge import KnowledgeBase, load_knowledge_base


def test_every_school_and_policy_intent_has_one_cell(kb: KnowledgeBase) -> None:
    report = coverage_report(kb)
    policy = [i for i in kb.intents.values() if i.kind in ("answer", "flow")]
    assert len(report.cells) == len(kb.schools) * len(policy)
    assert "greeting" not in {c.intent_id for c in report.cells}
    answered = report.cell("orchard", "derogatory_conversations")
    assert answered.coverage is Coverage.ANSWERED
    assert answered.citations == len(kb.school("orchard").answers["derogatory_conversations"].cites)
    assert report.cell("roose", "post_photo").coverage is Coverage.SILENT
    counts = report.counts("roose")
    assert counts["answered"] == len(kb.school("roose").answers)
    assert counts["answered"] + counts["silent"] == len(policy)


def test_a_removed_answer_is_silent_and_its_ruling_clause_is_offered_for_review(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    orchard = knowledge / "orchard.yaml"
    text = orchard.read_text(encoding="utf-8")
    start = text.index("  derogatory_conversations:")
    end = text.index("\n\n", start)
    orchard.write_text(text[:start] + text[end + 2:], encoding="utf-8")
    kb = load_knowledge_base(intents_dir=PROJECT_ROOT / "intents", knowledge_dir=knowledge)

    cell = coverage_report(kb, schools=["orchard"]).cell("orchard", "derogatory_conversations")

    assert cell.coverage is Coverage.SILENT and cell.citations == 0
    assert {"inappropriate-negative-comments", "inappropriate-examples"} & {m.section_id for m in cell.review}
    assert cell.as_json()["possible_coverage"][0]["score"] > 0
