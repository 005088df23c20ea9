"""Faults through the real adapter: SIGKILL mid-burst, then restart. Is anyone left unanswered?

A fake Bot API (tests/fakes) that forgets an update only once a later getUpdates
confirms it, as Telegram does. `chatbot serve --only telegram` runs as a real child
process; a burst of parents writes (one in ten a child-at-risk report); the child is
SIGKILLed once 10 %, 35 % or 60 % of them were answered, then started again.
Webhook mode: the benchmark posts each update like Telegram does, retrying until a 200.

Reported per run: parents never answered, urgent reports not in the queue, parents
answered twice (a doubled delivery), time from restart to the last answer, and
tracebacks in the child's output (none allowed).

    .venv/bin/python benchmarks/bench_faults.py [--parents 120] [--modes polling webhook] [--at 10 35 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, text_update  # noqa: E402

SECRET = "bench-webhook-secret"
QUESTION = "can I post a photo from sports day on facebook?"
URGENT = "a man online keeps asking my daughter to send him photos of herself"
CHILD = "import sys; from cli.main import main; sys.argv[0] = 'chatbot'; main()"


@dataclass
class Run:
    mode: str
    kill_at: int
    parents: int
    answered_before_kill: int
    unanswered: int
    urgent_lost: int
    doubled: int
    catch_up_seconds: float  # from the restart (process start, engine build included) to the last answer
    handling_seconds: float  # from the first answer after the restart to the last: the backlog itself
    tracebacks: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_child(env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, "serve", "--only", "telegram", cwd=workdir, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def wait_until(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return bool(check())


async def post_until_ok(url: str, update: dict[str, Any], stop: asyncio.Event) -> None:
    """What Telegram does with a webhook: try again until it answers 200."""
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            try:
                async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                                     timeout=aiohttp.ClientTimeout(total=10)) as response:  # fmt: skip
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2)


async def one_run(mode: str, kill_at: int, parents: int, tmp: Path) -> Run:
    fake = FakeTelegramAPI()
    await fake.start()
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("TELEGRAM_", "SLACK_"))}
    env = {**clean, "PYTHONPATH": str(ROOT), "CHATBOT_DB": str(tmp / f"{mode}-{kill_at}.db"),
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_SCHOOL": "orchard"}  # fmt: skip
    if mode == "webhook":
        env |= {"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
                "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_WEBHOOK_PORT": str(port)}  # fmt: skip
    chats = [30_000 + n for n in range(parents)]
    urgent = {chat for n, chat in enumerate(chats) if n % 10 == 0}
    updates = [text_update(chat, URGENT if chat in urgent else QUESTION) | {"update_id": n + 1} for n, chat in enumerate(chats)]
    answered = lambda: sum(1 for chat in chats if fake.sent(chat))  # noqa: E731
    stderr = b""
    stop_posting = asyncio.Event()
    posters: list[asyncio.Task[None]] = []
    try:
        child = await start_child(env, tmp)
        if mode == "polling":
            for update in updates:
                fake.push(update)
        else:
            await wait_until(lambda: bool(fake.webhook), 60)
            url = f"http://127.0.0.1:{port}/telegram"
            posters = [asyncio.create_task(post_until_ok(url, u, stop_posting)) for u in updates]
        target = max(1, parents * kill_at // 100)
        await wait_until(lambda: answered() >= target, 120)
        child.send_signal(signal.SIGKILL)
        _, err = await child.communicate()
        stderr += err
        before = answered()

        restarted = time.monotonic()
        child = await start_child(env, tmp)
        await wait_until(lambda: answered() > before or answered() == parents, 120)
        first_answer = time.monotonic()
        await wait_until(lambda: answered() == parents, 120)
        catch_up = time.monotonic() - restarted
        handling = time.monotonic() - first_answer
        await wait_until(lambda: all(p.done() for p in posters), 30)
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(child.communicate(), timeout=30)
        stderr += err
    finally:
        stop_posting.set()
        for poster in posters:
            poster.cancel()
        await fake.close()
    db = sqlite3.connect(env["CHATBOT_DB"])
    queued = {int(row[0]) for row in db.execute("SELECT user_id FROM concerns WHERE urgent = 1")}
    db.close()
    return Run(
        mode=mode, kill_at=kill_at, parents=parents, answered_before_kill=before,
        unanswered=sum(1 for chat in chats if not fake.sent(chat)),
        urgent_lost=len(urgent - queued),
        doubled=sum(1 for chat in chats if len(fake.sent(chat)) > 1),
        catch_up_seconds=catch_up, handling_seconds=handling, tracebacks=stderr.count(b"Traceback"),
    )  # fmt: skip


async def main_async(args: argparse.Namespace) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        for mode in args.modes:
            for kill_at in args.at:
                run = await one_run(mode, kill_at, args.parents, Path(tmp))
                print(
                    f"{mode:8} SIGKILL at {kill_at:2d}% ({run.answered_before_kill:3d} answered): "
                    f"unanswered {run.unanswered}, urgent lost {run.urgent_lost}, answered twice {run.doubled}, "
                    f"all answered {run.catch_up_seconds:.1f}s after restart "
                    f"({run.handling_seconds:.1f}s after the first), tracebacks {run.tracebacks}",
                    flush=True,
                )
                runs.append(run)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=120)
    parser.add_argument("--modes", nargs="+", default=["polling", "webhook"], choices=["polling", "webhook"])
    parser.add_argument("--at", nargs="+", type=int, default=[10, 35, 60])
    args = parser.parse_args()
    runs = asyncio.run(main_async(args))
    bad = [r for r in runs if r.unanswered or r.urgent_lost or r.tracebacks or r.doubled > 1]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
