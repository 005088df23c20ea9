"""Which school's office lives in which Slack channel, and who works in it.

A workspace may serve one school (SLACK_SCHOOL + SLACK_OFFICE_CHANNEL) or several,
each with its own office channel (SLACK_OFFICE_CHANNELS=orchard:C1,st-lukes:C2).
Extra office staff and safeguarding leads are named per school the same way
(`orchard:U0123`); a bare id is allowed only when there is one office, so no
setting can make one school's staff another's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.slack.settings import SlackSettings
from chatbot.errors import ConfigError

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass(frozen=True, kw_only=True)
class Office:
    """One school's office in this workspace."""

    school_id: str
    channel: str
    users: tuple[str, ...] = ()  # office staff besides the channel's members
    leads: tuple[str, ...] = ()  # pinged loudly on an urgent concern


def _pairs(entries: tuple[str, ...], name: str) -> list[tuple[str | None, str]]:
    pairs: list[tuple[str | None, str]] = []
    for entry in entries:
        before, sep, value = entry.rpartition(":")
        if sep and not before.strip():
            raise ConfigError(f"{name}: {value!r} needs a school before the colon, like orchard:{value}.")
        pairs.append((before.strip() if sep else None, value.strip()))
    return pairs


def _channels(settings: SlackSettings, schools: list[str]) -> dict[str, str]:
    if settings.office_channels:
        if settings.office_channel:
            raise ConfigError("Set SLACK_OFFICE_CHANNELS (one channel per school) or SLACK_OFFICE_CHANNEL, not both.")
        channels: dict[str, str] = {}
        for school, channel in _pairs(settings.office_channels, "SLACK_OFFICE_CHANNELS"):
            if school is None:
                raise ConfigError(f"SLACK_OFFICE_CHANNELS pairs a school with its channel, like orchard:{channel}.")
            if school in channels:
                raise ConfigError(f"SLACK_OFFICE_CHANNELS names {school} twice.")
            channels[school] = channel
    elif settings.office_channel:
        channels = {resolve_office_school(settings, schools): settings.office_channel}
    else:
        raise ConfigError(
            "Slack needs SLACK_OFFICE_CHANNEL (the office channel's id, e.g. C0123ABCD) for the concern queue, "
            "or SLACK_OFFICE_CHANNELS=school:channel,... for several schools."
        )
    for school, channel in channels.items():
        if school not in schools:
            raise ConfigError(f"Slack office for {school!r}: not a school I know ({', '.join(schools)}).")
        if not _CHANNEL_ID.fullmatch(channel):
            raise ConfigError(
                f"SLACK_OFFICE_CHANNEL must be a channel id like C0123ABCD (see the channel's details), not {channel!r}."
            )
    if len(set(channels.values())) < len(channels):
        raise ConfigError("Each school needs its own office channel: SLACK_OFFICE_CHANNELS repeats a channel.")
    return channels


def _people(entries: tuple[str, ...], name: str, schools: list[str]) -> dict[str, tuple[str, ...]]:
    people: dict[str, list[str]] = {school: [] for school in schools}
    for school, user in _pairs(entries, name):
        if not _USER_ID.fullmatch(user):
            raise ConfigError(f"{name} must list Slack user ids like U0123ABCD, not {user}.")
        if school is None:
            if len(schools) != 1:
                raise ConfigError(f"{name}: with several offices, say whose {user} is, like {schools[0]}:{user}.")
            school = schools[0]
        if school not in people:
            raise ConfigError(f"{name}: {school!r} has no office channel here ({', '.join(schools)}).")
        people[school].append(user)
    return {school: tuple(users) for school, users in people.items()}


def resolve_office_school(settings: SlackSettings, schools: list[str]) -> str:
    """The one school of a single-office workspace: SLACK_SCHOOL, or the only school served."""
    if settings.school:
        if settings.school not in schools:
            raise ConfigError(f"SLACK_SCHOOL {settings.school!r} is not a school I know: {', '.join(schools)}.")
        return settings.school
    if len(schools) == 1:
        return schools[0]
    raise ConfigError(
        f"Slack's office serves one school: set SLACK_SCHOOL to one of {', '.join(schools)}, "
        "or SLACK_OFFICE_CHANNELS=school:channel,... for several."
    )


def offices_from(settings: SlackSettings, schools: list[str]) -> dict[str, Office]:
    """Every office this workspace runs, by school; raises ConfigError naming the setting that is wrong."""
    channels = _channels(settings, schools)
    served = sorted(channels)
    users = _people(settings.office_users, "SLACK_OFFICE_USERS", served)
    leads = _people(settings.safeguarding_leads, "SLACK_SAFEGUARDING_LEADS", served)
    return {
        school: Office(school_id=school, channel=channel, users=users[school], leads=leads[school])
        for school, channel in channels.items()
    }


def staff_school(settings: SlackSettings, offices: Mapping[str, Office], schools: list[str]) -> str:
    """The school staff questions are answered for: SLACK_SCHOOL, the only office's, or none (the bot asks)."""
    if settings.school:
        return resolve_office_school(settings, schools)
    return next(iter(offices)) if len(offices) == 1 else ""
