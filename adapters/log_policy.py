"""What may reach a log: no secret and no personal text, at any level.

The libraries under the adapters log what they handle: httpx logs every Bot API
address (which holds the bot token) at INFO, python-telegram-bot logs every
request's parameters and every update at DEBUG, slack-sdk logs request bodies at
DEBUG, and Bolt logs the whole body of a request that fails its signature check at
INFO (so anyone on the internet can write a parent's words into the log). Our own
modules log only ids, intents, refs and counts.

So one filter sits on every handler the bot logs through:
- a library's records below WARNING are dropped, whatever level the logger is set to;
- records known to carry a request body keep only the words before it;
- every record (ours too) has secrets, token-shaped strings and phone numbers masked,
  in its message and in any traceback.
The libraries' loggers are also quietened, so the dropped records are never built.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager, suppress
from typing import Iterable, Iterator

from chatbot.config import Settings
from chatbot.errors import ConfigError

OWN_LOGGERS = ("chatbot", "adapters", "cli")
# Loggers that live under our names but belong to a library (Bolt's app logger).
BORROWED_LOGGERS = ("adapters.slack.bolt",)
CHATTY_LIBRARIES = (
    "httpx", "httpcore", "telegram", "slack_bolt", "slack_sdk", "slack", "aiohttp.client", "urllib3", "tornado",
    *BORROWED_LOGGERS,
)  # fmt: skip
MASK = "[redacted]"

# Library messages whose tail is a request or response body: keep the words before it.
BODY_MARKERS = re.compile(
    r"\s*(?:\(signature:|\(status: |\(body:|body: |\(message: |without providing a response for the request \(|"
    r"with parameters |with return value |request body: |Request body: |json_body=|data=|params=|\{).*",
    re.DOTALL,
)
TOKEN_SHAPES = (
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token
    re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"),  # Slack bot/user tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),  # Slack app-level token
    re.compile(r"(?i)\b(?:bot|token=|secret=|authorization: bearer )[A-Za-z0-9_:-]{20,}"),
)
# UK numbers: 07700 900123, +44 7700 900123, 020 7946 0958, 0161-496-0000 ...
PHONE = re.compile(r"(?<![\w.])(?:\+44\s?\(?0?\)?|0)(?:[\s-]?\d){9,10}(?!\d)")


def _is_own(name: str) -> bool:
    if name.startswith(BORROWED_LOGGERS):  # also Bolt's "NAME:ClassName" children
        return False
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class Redactor(logging.Filter):
    """A handler filter: drops the libraries' chatter and masks what must never be written."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for shape in TOKEN_SHAPES:
            text = shape.sub(MASK, text)
        return PHONE.sub("[phone]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        own = _is_own(record.name)
        if not own and record.levelno < logging.WARNING:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: keep the template, never the arguments
            message = str(record.msg)
        if not own:
            message = BODY_MARKERS.sub(" (details withheld)", message, count=1)
        record.msg, record.args = self.mask(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def quieten_libraries() -> dict[str, int]:
    """Raise the libraries' loggers to WARNING; returns their old levels (for restore())."""
    old = {}
    for name in CHATTY_LIBRARIES:
        logger = logging.getLogger(name)
        old[name] = logger.level
        logger.setLevel(logging.WARNING)
    return old


def install(handler: logging.Handler, *, secrets: Iterable[str | None] = ()) -> Redactor:
    """Put the redactor on one handler (the CLI's, or a test's)."""
    redactor = Redactor(secrets)
    handler.addFilter(redactor)
    return redactor


def platform_secrets(settings: Settings, *, only: str | None = None) -> list[str | None]:
    """Every token and secret the served adapters are configured with (unset ones are None).

    Slack's are read only when Slack may be served (`only` is not "telegram"): its
    settings live in its package, so reading them loads the whole Slack adapter.
    """
    from adapters.telegram.settings import telegram_settings

    secrets: list[str | None] = []
    with suppress(ConfigError):  # a broken setting is reported by the adapter itself
        telegram = telegram_settings(settings)
        if telegram is not None:
            secrets += [telegram.token, telegram.webhook_secret]
    if only == "telegram":
        return secrets
    from adapters.slack.settings import slack_settings

    with suppress(ConfigError):
        slack = slack_settings(settings)
        if slack is not None:
            secrets += [slack.bot_token, slack.app_token, slack.signing_secret]
    return secrets


def configure_logging(*, verbose: bool, secrets: Iterable[str | None] = ()) -> None:
    """`chatbot serve`'s logging: INFO (DEBUG with -v) for our modules, through the redactor."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    install(handler, secrets=secrets)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    quieten_libraries()


@contextmanager
def capturing(handler: logging.Handler, *, secrets: Iterable[str | None] = ()) -> Iterator[Redactor]:
    """Log everything at DEBUG through `handler` with the policy on, then put things back (for tests)."""
    redactor = install(handler, secrets=secrets)
    root = logging.getLogger()
    old_root, old_levels = root.level, quieten_libraries()
    # The most verbose setting: even the libraries' loggers at DEBUG; the filter must hold alone.
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield redactor
    finally:
        root.removeHandler(handler)
        root.setLevel(old_root)
        for name, level in old_levels.items():
            logging.getLogger(name).setLevel(level)
