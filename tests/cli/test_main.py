"""The `chatbot` command as a user runs it (Typer's runner, the real engine, a temp database)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

from tests.conftest import DEV_SET, REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def _database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_DB", str(tmp_path / "cli.db"))
    monkeypatch.chdir(tmp_path)


def test_ask_json_has_the_promised_fields() -> None:
    result = runner.invoke(app, ["ask", "--school", "orchard", "--audience", "parent", "--json",
                                 "can I complain about a teacher on facebook?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"intent", "confidence", "text", "buttons", "citations", "urgent"} <= set(data)
    assert data["intent"] == "complaining_online"
    assert data["citations"] and data["citations"][0]["school"] == "orchard"
    assert {"school", "section_id", "title"} <= set(data["citations"][0])


def test_ask_with_an_unknown_school_is_a_kind_error() -> None:
    result = runner.invoke(app, ["ask", "--school", "hogwarts", "hello"])
    assert result.exit_code == 1
    assert "hogwarts" in result.output and "orchard" in result.output
    assert "Traceback" not in result.output


def test_kb_check_passes_on_the_repo() -> None:
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok:")


def test_kb_check_names_file_and_line_of_a_tampered_section(tmp_path: Path) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "intents", copy / "intents")
    shutil.copytree(REPO / "knowledge", copy / "knowledge")
    path = copy / "knowledge" / "orchard.yaml"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("text:") and "sections" in "\n".join(lines[:i]))
    lines.insert(index + 1, "      Parents may post anything they like.")
    path.write_text("\n".join(lines) + "\n")
    (tmp_path / "chatbot.yaml").write_text(f"intents_dir: {copy / 'intents'}\nknowledge_dir: {copy / 'knowledge'}\n")
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 1
    assert "orchard.yaml:" in result.output and "word for word" in result.output


def test_kb_check_names_file_and_line_of_broken_yaml(tmp_path: Path) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "intents", copy / "intents")
    shutil.copytree(REPO / "knowledge", copy / "knowledge")
    (copy / "intents" / "broken.yaml").write_text("- id: oops\n  examples: [unclosed\n")
    (tmp_path / "chatbot.yaml").write_text(f"intents_dir: {copy / 'intents'}\nknowledge_dir: {copy / 'knowledge'}\n")
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 1
    assert "broken.yaml:" in result.output


def test_kb_check_names_a_story_taught_under_two_intents(tmp_path: Path) -> None:
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "intents", copy / "intents")
    shutil.copytree(REPO / "knowledge", copy / "knowledge")
    story = "My son's teacher added him on Instagram last night and messaged him, is that allowed?"
    extra = "".join(
        f"- id: twin_{n}\n  audience: any\n  kind: meta\n  examples: [twin {n}]\n  stories:\n    - \"{story}\"\n"
        for n in (1, 2)
    )
    (copy / "intents" / "twins.yaml").write_text(extra)
    (tmp_path / "chatbot.yaml").write_text(f"intents_dir: {copy / 'intents'}\nknowledge_dir: {copy / 'knowledge'}\n")
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 1
    assert "twins.yaml:7:" in result.output and "story" in result.output and "'twin_1'" in result.output


def test_eval_json_reports_every_case_and_the_figures() -> None:
    result = runner.invoke(app, ["eval", "--json", str(DEV_SET)])
    assert result.exit_code == 0, result.output[-2000:]
    data = json.loads(result.output)
    assert data["cases"] == len(data["cases_detail"]) > 200
    case = data["cases_detail"][0]
    assert {"predicted", "confidence", "urgent", "gold", "top3", "safeguarding", "verdict"} <= set(case)
    assert len(case["top3"]) == 3 and case["verdict"] in ("answer", "suggest", "fallback")
    assert {c["safeguarding"] for c in data["cases_detail"]} <= {"urgent", "check", None}
    assert {"accuracy", "top3_accuracy", "out_of_scope_recall", "safeguarding_recall", "false_urgent_rate", "check_rate",
            "confidence_histogram", "per_intent", "confused_pairs"} <= set(data)
    histogram = data["confidence_histogram"]
    assert sum(histogram["right"]) + sum(histogram["wrong"]) == data["cases"]


def test_eval_report_writes_the_per_intent_json_and_the_pictures(tmp_path: Path) -> None:
    cases = tmp_path / "few.yaml"
    cases.write_text(
        "- {text: 'can I put the sports day photos on facebook', school: orchard, audience: parent, intent: post_photo}\n"
        "- {text: 'is my 12 year old allowed on tiktok', school: orchard, audience: parent, intent: children_accounts_age}\n"
        "- {text: 'what time does the pool open', school: orchard, audience: parent, intent: out_of_scope}\n"
    )
    result = runner.invoke(app, ["eval", str(cases), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output[-2000:]
    assert "top-3 accuracy" in result.output and "check asked" in result.output
    report = json.loads((tmp_path / "report" / "intent_report.json").read_text())
    assert report["summary"]["cases"] == 3 and "post_photo" in report["per_intent"]
    for picture in ("confusion_matrix.png", "confidence_histogram.png"):
        data = (tmp_path / "report" / picture).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_the_worked_example_runs_end_to_end_with_numbers_and_the_offices_reply() -> None:
    def ask(text: str, user: str = "mum1") -> str:
        result = runner.invoke(app, ["ask", "--school", "orchard", "--user", user, text])
        assert result.exit_code == 0, result.output
        return result.output

    consent = ask("my son is being picked on every day at lunchtime by two boys in his class")
    assert "[1] Yes, pass it on" in consent
    assert "[1] Reply here" in ask("1")
    lodged = ask("1")
    assert "as C-0001" in lodged
    assert "school office>" not in ask("thanks", user="dad2")  # nothing waits for someone else
    replied = runner.invoke(app, ["queue", "reply", "C-0001", "--as", "Mrs Shah", "We'll call you tomorrow."])
    assert replied.exit_code == 0, replied.output
    status = ask("what's happening with my concern?")
    assert "answered by the office" in status
    assert "school office> The school has replied about your concern C-0001" in status
    assert "We'll call you tomorrow." in status
    assert "school office>" not in ask("thanks")  # shown once
