"""Settings: each school's own reply promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.config import load_settings
from chatbot.errors import ConfigError


def test_reply_promises_are_read_per_school(tmp_path: Path) -> None:
    config = tmp_path / "chatbot.yaml"
    config.write_text('reply_promises:\n  st-lukes: "within two working days"\n')
    assert dict(load_settings(config, env={}).reply_promises) == {"st-lukes": "within two working days"}
    assert dict(load_settings(env={"CHATBOT_CONFIG": str(tmp_path / "absent.yaml")}).reply_promises) == {}


def test_a_promise_that_is_not_words_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "chatbot.yaml"
    config.write_text("reply_promises:\n  st-lukes: 2\n")
    with pytest.raises(ConfigError, match="reply_promises.st-lukes"):
        load_settings(config, env={})


BAD_SETTINGS = [
    ("timezone: Europe/Londn\n", 1, "unknown time zone 'Europe/Londn'"),
    ("timezone: Europe/London\nschool_hours:\n  orchard:\n    closures: [2026-02-30]\n", 4, "'2026-02-30' is not a date"),
    ("office_hours:\n  opens: '16:30'\n  closes: '08:30'\n", 2, "opens (16:30) after it closes (08:30)"),
    ("schools: [orchard]\nscool_hours: {}\n", 2, "scool_hours: unknown setting"),
    ("office_hours:\n  open: '08:00'\n", 2, "unknown setting 'open'"),
    ("office_hours:\n  weekdays: [1, 2, 9]\n", 2, "weekdays are numbers 0 (Monday) to 6"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD_SETTINGS)
def test_bad_settings_are_named_with_file_and_line_before_anything_runs(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "chatbot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ") and words in message, message


def test_good_settings_still_load(tmp_path: Path) -> None:
    path = tmp_path / "chatbot.yaml"
    path.write_text("timezone: Europe/Paris\noffice_hours: {opens: '08:00', closes: '17:00'}\n"
                    "school_hours:\n  orchard:\n    closures: [{from: 2026-12-21, to: 2027-01-01}]\n")  # fmt: skip
    settings = load_settings(path, env={})
    assert settings.timezone == "Europe/Paris" and settings.hours_for("orchard").closures
