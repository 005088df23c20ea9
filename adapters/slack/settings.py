"""Slack's settings: the `slack:` section of the config file, overlaid by SLACK_* variables, and their checks.

They live with the adapter so the core never learns what a signing secret is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from chatbot.config import Settings, as_list
from chatbot.errors import ConfigError

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass(frozen=True, kw_only=True)
class SlackSettings:
    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None  # Socket Mode
    api_url: str = "https://slack.com/api/"
    school: str | None = None
    office_channel: str | None = None
    office_users: tuple[str, ...] = ()
    safeguarding_leads: tuple[str, ...] = ()


def slack_settings(settings: Settings, env: Mapping[str, str] | None = None) -> SlackSettings | None:
    """The workspace's settings, or None when no bot token is configured (Slack is then not served)."""
    env = os.environ if env is None else env
    section: Mapping[str, Any] = settings.platforms.get("slack", {})

    def value(name: str, key: str) -> Any:
        return env.get(name) or section.get(key)

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
        office_users=as_list(value("SLACK_OFFICE_USERS", "office_users")),
        safeguarding_leads=as_list(value("SLACK_SAFEGUARDING_LEADS", "safeguarding_leads")),
    )


def resolve_school(settings: SlackSettings, schools: list[str]) -> str:
    """SLACK_SCHOOL, or the only school served; a workspace belongs to one school."""
    if settings.school:
        if settings.school not in schools:
            raise ConfigError(f"SLACK_SCHOOL {settings.school!r} is not a school I know: {', '.join(schools)}.")
        return settings.school
    if len(schools) == 1:
        return schools[0]
    raise ConfigError(f"Slack serves one school: set SLACK_SCHOOL to one of {', '.join(schools)}.")


def check_ids(settings: SlackSettings) -> None:
    """Channel and user ids, not names: chat.update and conversations.members only take ids."""
    if not settings.office_channel:
        raise ConfigError(
            "Slack needs SLACK_OFFICE_CHANNEL (the office channel's id, e.g. C0123ABCD) for the concern queue."
        )
    if not _CHANNEL_ID.fullmatch(settings.office_channel):
        raise ConfigError(
            f"SLACK_OFFICE_CHANNEL must be a channel id like C0123ABCD (see the channel's details), "
            f"not {settings.office_channel!r}."
        )
    lists = (("SLACK_OFFICE_USERS", settings.office_users), ("SLACK_SAFEGUARDING_LEADS", settings.safeguarding_leads))
    for name, users in lists:
        bad = [u for u in users if not _USER_ID.fullmatch(u)]
        if bad:
            raise ConfigError(f"{name} must list Slack user ids like U0123ABCD, not {', '.join(bad)}.")
