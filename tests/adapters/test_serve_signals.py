"""`chatbot serve` as a real process: it stops within seconds on SIGTERM/SIGINT, even while a start hangs.

A Slack API that accepts the connection and never answers stands in for dead
Socket Mode credentials on a stalled network; a Bot API that refuses the token
must give one line without the token.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.telegram_api import FakeTelegramAPI

REPO = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "xapp-1-SECRETSECRET"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


@pytest.fixture
async def silent_slack() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """Accepts every request and never answers."""
    asked = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/api/", asked
    await server.close()


async def serve(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_")) and "proxy" not in k.lower()}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from cli.main import main; sys.argv[0] = 'chatbot'; main()", "serve", *args,
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(REPO), "CHATBOT_DB": str(tmp_path / "serve.db"), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_stops_within_seconds_while_socket_mode_hangs(
    tmp_path: Path, silent_slack: tuple[str, asyncio.Event], sig: signal.Signals
) -> None:
    url, asked = silent_slack
    env = {"SLACK_BOT_TOKEN": "xoxb-1-dead", "SLACK_APP_TOKEN": SECRET_TOKEN, "SLACK_API_URL": url,
           "SLACK_SCHOOL": "orchard", "SLACK_OFFICE_CHANNEL": "C0OFFICE"}  # fmt: skip
    proc = await serve(tmp_path, env, "--only", "slack")
    await asyncio.wait_for(asked.wait(), timeout=60)  # it is stuck connecting
    started = time.monotonic()
    proc.send_signal(sig)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert time.monotonic() - started < 10
    assert b"Traceback" not in stderr and SECRET_TOKEN.encode() not in stderr


async def test_a_rejected_telegram_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    fake = FakeTelegramAPI(token="999:RIGHT")
    await fake.start()
    try:
        proc = await serve(tmp_path, {"TELEGRAM_BOT_TOKEN": "123456:WRONG-secret", "TELEGRAM_API_URL": fake.api_url},
                           "--only", "telegram")  # fmt: skip
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await fake.close()
    assert proc.returncode == 1
    text = stderr.decode()
    assert "Traceback" not in text and "WRONG-secret" not in text
    assert "Telegram rejected the bot token" in text
