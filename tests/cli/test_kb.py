"""`chatbot kb coverage` as a user runs it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app

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
