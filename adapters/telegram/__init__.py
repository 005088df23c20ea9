"""Telegram for parents: settings, reading updates, rendering replies, transport, delivery, and the adapter."""

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.settings import TelegramSettings, telegram_settings

__all__ = ["TelegramAdapter", "TelegramSettings", "telegram_settings"]
