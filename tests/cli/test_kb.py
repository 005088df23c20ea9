"""`chatbot kb coverage` as a user runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.chatbot.kb.policy_files import write_docx
from tests.conftest import REPO

runner = CliRunner()


def test_coverage_json_has_a_cell_per_school_and_intent() -> None:
    result = runner.invoke(app, ["kb", "coverage", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["schools"]) == {"dauvergne", "st-lukes", "orchard", "roose", "letter"}
    assert len(data["cells"]) == len(data["schools"]) * len(data["intents"])
    cell = next(c for c in data["cells"] if c["school"] == "st-lukes" and c["intent"] == "teacher_contacting_my_child")
    assert cell["coverage"] == "answered" and cell["citations"] == 3
    assert data["summary"]["roose"]["silent"] > data["summary"]["st-lukes"]["silent"]


def test_coverage_table_lists_silences_to_review_for_one_school() -> None:
    result = runner.invoke(app, ["kb", "coverage", "--school", "roose"])
    assert result.exit_code == 0, result.output
    assert "silent" in result.output and "possible coverage: review" in result.output
    assert "orchard" not in result.output.split("possible coverage")[0]


def test_coverage_of_an_unknown_school_is_a_kind_error() -> None:
    result = runner.invoke(app, ["kb", "coverage", "--school", "hogwarts"])
    assert result.exit_code == 1
    assert "hogwarts" in result.output and "Traceback" not in result.output


@pytest.fixture
def knowledge_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the knowledge base, configured through chatbot.yaml in the working directory."""
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "intents", copy / "intents")
    shutil.copytree(REPO / "knowledge", copy / "knowledge")
    (tmp_path / "chatbot.yaml").write_text(f"intents_dir: {copy / 'intents'}\nknowledge_dir: {copy / 'knowledge'}\n")
    return copy / "knowledge"


def test_draft_writes_a_school_that_kb_check_passes_and_lists_for_review(knowledge_copy: Path, tmp_path: Path) -> None:
    policy = write_docx(tmp_path / "Oak Policy.docx")
    result = runner.invoke(app, ["kb", "draft", "--school", "oak", "--name", "Oak Primary School", str(policy)])
    assert result.exit_code == 0, result.output
    assert (knowledge_copy / "oak.yaml").is_file() and (knowledge_copy / "sources" / "oak-oak-policy.txt").is_file()
    assert (knowledge_copy / "sources" / "oak-oak-policy.docx").is_file()
    check = runner.invoke(app, ["kb", "check"])
    assert check.exit_code == 0, check.output
    assert "is a draft (reviewed: false)" in check.output and "oak.yaml:" in check.output
    again = runner.invoke(app, ["kb", "draft", "--school", "oak", "--name", "Oak", str(policy)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_draft_to_another_directory_leaves_knowledge_alone(knowledge_copy: Path, tmp_path: Path) -> None:
    policy = write_docx(tmp_path / "oak.docx")
    result = runner.invoke(app, ["kb", "draft", "--school", "oak", "--name", "Oak", "--out", str(tmp_path / "out"), str(policy)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "oak.yaml").is_file() and not (knowledge_copy / "oak.yaml").exists()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [(["--school", "Oak School!", "--name", "Oak"], "lower-case"), (["--school", "oak", "--name", "Oak"], "no such file")],
)
def test_draft_with_bad_input_is_a_kind_error(knowledge_copy: Path, args: list[str], complaint: str) -> None:
    result = runner.invoke(app, ["kb", "draft", *args, "missing.pdf"])
    assert result.exit_code == 1 and complaint in result.output and "Traceback" not in result.output
