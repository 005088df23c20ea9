"""`chatbot serve --only telegram` never loads the Slack adapter, even with Slack configured.

Slack's settings live in its package, so merely reading them imports slack_bolt and
the whole adapter. A fresh process does what `chatbot serve` does before it runs
(the log policy's secrets, then the adapters) and reports which Slack modules it
has loaded: none for `--only telegram`, and the adapter once Slack may be served,
which shows the probe sees a Slack import when there is one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVE_START = """
import asyncio, json, sys
from dataclasses import replace
from pathlib import Path

from adapters.log_policy import platform_secrets
from adapters.serve import build_adapters
from chatbot.config import Settings
from chatbot.runtime import open_runtime


def slack_loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] == "slack_bolt" or m.startswith("adapters.slack"))


async def main():
    settings = replace(Settings(), db_path=Path(sys.argv[1]))
    async with open_runtime(settings) as runtime:
        secrets = platform_secrets(settings, only="telegram")
        adapters = build_adapters(runtime, only="telegram", slack_http_port=None)
        telegram_only = {"loaded": slack_loaded(), "adapters": [type(a).__name__ for a in adapters],
                         "slack_secret_read": "sign-secret-value" in secrets}
        platform_secrets(settings)
        build_adapters(runtime, only=None, slack_http_port=None)
        print(json.dumps({"telegram_only": telegram_only, "both": slack_loaded()}))


asyncio.run(main())
"""


def test_serving_telegram_alone_imports_nothing_of_slack(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "TELEGRAM_"))}
    env |= {"TELEGRAM_BOT_TOKEN": "555000:test-token", "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "sign-secret-value", "SLACK_OFFICE_CHANNEL": "C0OFFICE",
            "SLACK_SCHOOL": "st-lukes"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SERVE_START, str(tmp_path / "serve.db")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["telegram_only"] == {"loaded": [], "adapters": ["TelegramAdapter"], "slack_secret_read": False}
    assert "slack_bolt" in report["both"] and "adapters.slack.app" in report["both"]
