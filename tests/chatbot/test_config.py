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
