"""Telegram's settings come from its own config section and TELEGRAM_* variables, not from the core."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.telegram.settings import telegram_settings
from chatbot.config import load_settings
from chatbot.errors import ConfigError


def test_no_token_means_telegram_is_not_served(tmp_path: Path) -> None:
    assert telegram_settings(load_settings(None, env={"CHATBOT_CONFIG": str(tmp_path / "absent.yaml")}), env={}) is None


def test_the_environment_overrides_the_config_section(tmp_path: Path) -> None:
    config = tmp_path / "chatbot.yaml"
    config.write_text("telegram:\n  token: from-file\n  school: orchard\n  webhook_port: 9000\n")
    settings = load_settings(config, env={})
    from_file = telegram_settings(settings, env={})
    assert from_file is not None and (from_file.token, from_file.school, from_file.webhook_port) == ("from-file", "orchard", 9000)
    from_env = telegram_settings(settings, env={"TELEGRAM_BOT_TOKEN": "from-env", "TELEGRAM_SCHOOL": "roose"})
    assert from_env is not None and (from_env.token, from_env.school, from_env.mode) == ("from-env", "roose", "polling")


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"TELEGRAM_MODE": "carrier-pigeon"}, "polling' or 'webhook"),
        ({"TELEGRAM_MODE": "webhook"}, "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_a_bad_mode_is_refused_kindly(env: dict[str, str], problem: str) -> None:
    settings = load_settings(None, env={})
    with pytest.raises(ConfigError, match=problem):
        telegram_settings(settings, env={"TELEGRAM_BOT_TOKEN": "t", **env})
