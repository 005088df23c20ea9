"""Slack's settings: the `slack:` section of the config file, overlaid by SLACK_* variables, and their checks.

They live with the adapter so the core never learns what a signing secret is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from chatbot.config import Settings, as_list, platform_setting


def _pairs(value: Any) -> tuple[str, ...]:
    """`orchard:C1,st-lukes:C2` from the environment, or a mapping {orchard: C1} from the config file."""
    if isinstance(value, Mapping):
        return tuple(f"{key}:{item}" for key, item in value.items() if key != "__line__")
    return as_list(value)


@dataclass(frozen=True, kw_only=True)
class SlackSettings:
    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None  # Socket Mode
    api_url: str = "https://slack.com/api/"
    school: str | None = None
    office_channel: str | None = None
    office_channels: tuple[str, ...] = ()  # "school:channel" pairs, one office per school (offices.py)
    office_users: tuple[str, ...] = ()
    safeguarding_leads: tuple[str, ...] = ()


def slack_settings(settings: Settings, env: Mapping[str, str] | None = None) -> SlackSettings | None:
    """The workspace's settings, or None when no bot token is configured (Slack is then not served)."""
    value = platform_setting(settings, "slack", env)

    token = value("SLACK_BOT_TOKEN", "bot_token")
    if not token:
        return None
    return SlackSettings(
        bot_token=str(token),
        signing_secret=value("SLACK_SIGNING_SECRET", "signing_secret"),
        app_token=value("SLACK_APP_TOKEN", "app_token"),
        api_url=str(value("SLACK_API_URL", "api_url") or SlackSettings.api_url),
        school=value("SLACK_SCHOOL", "school"),
        office_channel=value("SLACK_OFFICE_CHANNEL", "office_channel"),
        office_channels=_pairs(value("SLACK_OFFICE_CHANNELS", "office_channels")),
        office_users=_pairs(value("SLACK_OFFICE_USERS", "office_users")),
        safeguarding_leads=_pairs(value("SLACK_SAFEGUARDING_LEADS", "safeguarding_leads")),
    )
