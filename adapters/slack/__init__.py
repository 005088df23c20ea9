"""Slack: staff chat and the office workbench, two rooms sharing one Bolt AsyncApp."""

from adapters.slack.app import DeliveryTiming, SlackAdapter
from adapters.slack.directory import OfficeDirectory
from adapters.slack.offices import Office, offices_from
from adapters.slack.settings import SlackSettings, slack_settings

__all__ = ["DeliveryTiming", "OfficeDirectory", "SlackAdapter", "Office", "SlackSettings", "offices_from", "slack_settings"]
