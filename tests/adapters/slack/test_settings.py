"""Slack's settings come from its own config section and SLACK_* variables, not from the core."""

from __future__ import annotations

from pathlib import Path

from adapters.slack.settings import slack_settings
from chatbot.config import load_settings


def test_no_bot_token_means_slack_is_not_served(tmp_path: Path) -> None:
    settings = load_settings(None, env={"CHATBOT_CONFIG": str(tmp_path / "absent.yaml")})
    assert settings.platforms == {}
    assert slack_settings(settings, env={}) is None


def test_lists_are_read_from_the_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "chatbot.yaml"
    config.write_text(
        "slack:\n  bot_token: xoxb-file\n  office_channel: C0OFFICE\n  office_users: [U0ONE, U0TWO]\n"
    )
    settings = load_settings(config, env={})
    from_file = slack_settings(settings, env={})
    assert from_file is not None
    assert (from_file.bot_token, from_file.office_channel, from_file.office_users) == ("xoxb-file", "C0OFFICE", ("U0ONE", "U0TWO"))
    from_env = slack_settings(settings, env={"SLACK_OFFICE_USERS": "U0THREE; U0FOUR", "SLACK_SCHOOL": "orchard"})
    assert from_env is not None and from_env.office_users == ("U0THREE", "U0FOUR") and from_env.school == "orchard"
