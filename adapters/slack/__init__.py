"""Slack: staff chat and the office workbench, two rooms sharing one Bolt AsyncApp."""

from adapters.slack.app import DeliveryTiming, SlackAdapter
from adapters.slack.directory import OfficeDirectory
from adapters.slack.settings import SlackSettings, resolve_school, slack_settings

__all__ = ["DeliveryTiming", "OfficeDirectory", "SlackAdapter", "SlackSettings", "resolve_school", "slack_settings"]
