"""Telegram's settings: the `telegram:` section of the config file, overlaid by TELEGRAM_* variables.

They live with the adapter so the core never learns what a bot token is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from chatbot.config import Settings, platform_setting
from chatbot.errors import ConfigError

MODES = ("polling", "webhook")


@dataclass(frozen=True, kw_only=True)
class TelegramSettings:
    token: str
    api_url: str = "https://api.telegram.org/bot"
    file_url: str | None = None
    school: str | None = None  # one bot per school; None offers a /start choice
    mode: str = "polling"  # polling | webhook
    webhook_url: str | None = None
    webhook_path: str = "/telegram"
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443


def telegram_settings(settings: Settings, env: Mapping[str, str] | None = None) -> TelegramSettings | None:
    """The bot's settings, or None when no token is configured (Telegram is then not served)."""
    value = platform_setting(settings, "telegram", env)

    token = value("TELEGRAM_BOT_TOKEN", "token")
    if not token:
        return None
    telegram = TelegramSettings(
        token=str(token),
        api_url=str(value("TELEGRAM_API_URL", "api_url") or TelegramSettings.api_url),
        file_url=value("TELEGRAM_FILE_URL", "file_url"),
        school=value("TELEGRAM_SCHOOL", "school"),
        mode=str(value("TELEGRAM_MODE", "mode") or "polling"),
        webhook_url=value("TELEGRAM_WEBHOOK_URL", "webhook_url"),
        webhook_path=str(value("TELEGRAM_WEBHOOK_PATH", "webhook_path") or "/telegram"),
        webhook_secret=value("TELEGRAM_WEBHOOK_SECRET", "webhook_secret"),
        webhook_listen=str(value("TELEGRAM_WEBHOOK_LISTEN", "webhook_listen") or "127.0.0.1"),
        webhook_port=int(value("TELEGRAM_WEBHOOK_PORT", "webhook_port") or 8443),
    )
    if telegram.mode not in MODES:
        raise ConfigError(f"telegram mode must be 'polling' or 'webhook', not {telegram.mode!r}")
    if telegram.mode == "webhook" and not telegram.webhook_secret:
        raise ConfigError("telegram webhook mode needs TELEGRAM_WEBHOOK_SECRET (checked on every request)")
    return telegram
