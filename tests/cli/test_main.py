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


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared development set is not beside the repo")
def test_eval_json_reports_every_case_and_the_figures() -> None:
    result = runner.invoke(app, ["eval", "--json", str(DEV_SET)])
    assert result.exit_code == 0, result.output[-2000:]
    data = json.loads(result.output)
    assert data["cases"] == len(data["cases_detail"]) > 200
    assert {"predicted", "confidence", "urgent", "gold"} <= set(data["cases_detail"][0])
    assert {"accuracy", "out_of_scope_recall", "safeguarding_recall", "false_urgent_rate", "per_intent", "confused_pairs"} <= set(data)


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
