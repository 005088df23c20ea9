"""Faults through the real adapter: SIGKILL mid-burst, then restart. Is anyone left unanswered?

A fake Bot API (tests/fakes) that forgets an update only once a later getUpdates
confirms it, as Telegram does. `chatbot serve --only telegram` runs as a real child
process; a burst of parents writes (one in ten a child-at-risk report); the child is
SIGKILLed once 10 %, 35 % or 60 % of them were answered, then started again.
Webhook mode: the benchmark posts each update like Telegram does, retrying until a 200.

Reported per run: parents never answered, urgent reports not in the queue, parents
answered twice (a doubled delivery), time from restart to the last answer, and
tracebacks in the child's output (none allowed).

Delivery faults (`--scenarios delivery`): the fake Bot API answers a quarter of the
parents' first reply with a 429 (retry after 1 s), a quarter with a 502, and stalls a
quarter past the client's 5 s timeout (then delivers it, as Telegram may); reported:
parents unanswered, time from message to answer beside a run without faults, parents
sent an apology after all, parents answered twice, tracebacks.

Disk faults (`--scenarios disk`): mid-run the database's file system fills up (a 16 MB
tmpfs, mounted by the benchmark: needs root; the child process as above), or the database
turns read-only (the bot runs in this process with the real adapter, and its connection
is set `PRAGMA query_only`, which fails writes as a read-only file does: `mount -o
remount,ro` is refused while the bot holds the file open for writing); parents write
during the fault, then space is freed (writes allowed again) and more write.
In `full+kill` the bot is SIGKILLed while the disk is still full and started again
after space is freed. Reported: urgent reports lost (neither in the queue nor in the
fallback journal at the end), parents unanswered during and after the fault, what the
ones during it got, and tracebacks. The fallback journal lives beside the database, on
the same file system, in room it set aside at start-up.

    .venv/bin/python benchmarks/bench_faults.py [--parents 120] [--modes polling webhook] [--at 10 35 60]
        [--scenarios sigkill delivery disk]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chatbot import replies  # noqa: E402
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


def child_env(fake: FakeTelegramAPI, db: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("TELEGRAM_", "SLACK_"))}
    return {**clean, "PYTHONPATH": str(ROOT), "CHATBOT_DB": str(db), "CHATBOT_CACHE_DIR": str(ROOT / ".cache"),
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url, "TELEGRAM_SCHOOL": "orchard"}  # fmt: skip


async def one_run(mode: str, kill_at: int, parents: int, tmp: Path) -> Run:
    fake = FakeTelegramAPI()
    await fake.start()
    port = free_port()
    env = child_env(fake, tmp / f"{mode}-{kill_at}.db")
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
    child = None
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
        kill_if_running(child)
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


class FaultyTelegramAPI(FakeTelegramAPI):
    """The fake Bot API, able to stall a chat's first reply past the client's timeout and then deliver it."""

    def __init__(self) -> None:
        super().__init__()
        self.stall: dict[str, float] = {}  # chat id -> seconds its next sendMessage hangs
        self.answered_at: dict[str, float] = {}  # chat id -> when its first answer (not an apology) was delivered

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = str(params.get("chat_id"))
        seconds = self.stall.pop(chat, 0.0)
        if seconds:
            await asyncio.sleep(seconds)  # the client gives up; the message is delivered all the same
        if params.get("text") != replies.APOLOGY:
            self.answered_at.setdefault(chat, time.monotonic())
        return await super()._m_sendMessage(params)


STALL_SECONDS = 6.0  # past python-telegram-bot's 5 s read timeout


@dataclass
class DeliveryRun:
    faults: bool
    parents: int
    unanswered: int
    wrong_apologies: int  # parents who got the apology although their answer was (or was then) sent
    doubled: int
    seconds_p50: float  # from the message reaching the Bot API to its answer
    seconds_max: float
    tracebacks: int
    by_fault: dict[str, int] = field(default_factory=dict)


async def delivery_run(parents: int, tmp: Path, *, faults: bool) -> DeliveryRun:
    """One child process, `parents` messages at once; with faults, three quarters meet one on their first reply."""
    fake = FaultyTelegramAPI()
    await fake.start()
    env = child_env(fake, tmp / f"delivery-{'faults' if faults else 'clean'}.db")
    chats = [40_000 + n for n in range(parents)]
    kinds = ["429", "5xx", "timeout", "none"]
    fault_of = {chat: kinds[n % 4] if faults else "none" for n, chat in enumerate(chats)}
    for chat, fault in fault_of.items():
        if fault == "429":
            fake.rate_limit_next(chat, retry_after=1)
        elif fault == "5xx":
            fake.fail("sendMessage", chat_id=chat, error_code=502, description="Bad Gateway")
        elif fault == "timeout":
            fake.stall[str(chat)] = STALL_SECONDS
    answers = lambda chat: [c for c in fake.sent(chat) if c.text != replies.APOLOGY]  # noqa: E731
    child = None
    try:
        child = await start_child(env, tmp)
        await wait_until(lambda: bool(fake.called("getUpdates", ok=None)), 120)  # started and polling
        pushed = {chat: fake.push(text_update(chat, QUESTION)) for chat in chats}
        await wait_until(lambda: all(answers(chat) for chat in chats), 120)
        await asyncio.sleep(STALL_SECONDS + 2)  # let any late apology or second copy arrive before counting
        child.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(child.communicate(), timeout=30)
    finally:
        kill_if_running(child)
        await fake.close()
    waits = [fake.answered_at[str(chat)] - fake.available_at[pushed[chat]] for chat in chats if str(chat) in fake.answered_at]
    apologised = {chat for chat in chats if any(c.text == replies.APOLOGY for c in fake.sent(chat))}
    return DeliveryRun(
        faults=faults, parents=parents, unanswered=sum(1 for chat in chats if not answers(chat)),
        wrong_apologies=sum(1 for chat in apologised if answers(chat)),
        doubled=sum(1 for chat in chats if len(answers(chat)) > 1),
        seconds_p50=statistics.median(waits) if waits else float("nan"), seconds_max=max(waits, default=float("nan")),
        tracebacks=err.count(b"Traceback"),
        by_fault={kind: sum(1 for chat in chats if fault_of[chat] == kind and not answers(chat)) for kind in kinds},
    )  # fmt: skip


# -- the disk filling up, the file system turning read-only -------------------------------------

URGENT_SHARE = 5  # one parent in five writes a child-at-risk report in the disk runs


def mount_small_fs(where: Path, megabytes: int) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


def fill_up(where: Path) -> Path:
    """Write a filler file until the file system refuses another byte (unbuffered, so nothing is left to flush)."""
    filler = where / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 16, 1 << 10, 1):
            try:
                while os.write(handle, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(handle)
    return filler


def kill_if_running(child: asyncio.subprocess.Process | None) -> None:
    if child is not None and child.returncode is None:
        child.kill()


@dataclass
class DiskRun:
    fault: str
    urgent_sent: int
    urgent_lost: int  # neither queued nor in the fallback journal at the end
    urgent_journalled: int  # still in the journal at the end (not yet moved into the queue)
    during_unanswered: int
    during_advice: int  # urgent reports during the fault that got the 999 advice
    during_storage_apology: int  # others during the fault told honestly that something is wrong
    after_unanswered: int
    tracebacks: int
    journal_refused: int = 0  # urgent reports the fallback journal could not take either (logged critical)


async def disk_run(fault: str, per_phase: int, tmp: Path, *, kill_while_full: bool = False) -> DiskRun | None:
    """Before, during and after the database's file system fills up: who is answered, what is lost.

    With `kill_while_full` the bot is SIGKILLed while the disk is still full, then started again
    once there is space: only what reached the disk (database or journal) can survive that.
    """
    fs = tmp / f"fs-{fault}"
    if not mount_small_fs(fs, 16):
        print(f"disk/{fault}: cannot mount a small file system here (needs root); skipped", flush=True)
        return None
    fake = FakeTelegramAPI()
    await fake.start()
    db = fs / "bot.db"
    env = child_env(fake, db)
    phases = {name: [50_000 + 1_000 * n + k for k in range(per_phase)] for n, name in enumerate(("before", "during", "after"))}
    urgent = {chat for chats in phases.values() for k, chat in enumerate(chats) if k % URGENT_SHARE == 0}
    answered = lambda chats: sum(1 for chat in chats if fake.sent(chat))  # noqa: E731
    err = b""
    child = None
    try:
        child = await start_child(env, tmp)

        async def phase(name: str) -> None:
            for chat in phases[name]:
                fake.push(text_update(chat, URGENT if chat in urgent else QUESTION))
            await wait_until(lambda: answered(phases[name]) == per_phase, 90)

        await phase("before")
        # A reader's open snapshot (as `chatbot queue list` holds one) keeps SQLite from reusing its WAL from
        # the start, so the bot's next writes need new space, as they do on a busy server: without it, writes
        # that fit in the WAL already on disk go on succeeding for a while on a full disk.
        reader = sqlite3.connect(db)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM concerns").fetchall()
        filler = fill_up(fs)
        await phase("during")
        if kill_while_full:
            child.kill()
            _, err = await child.communicate()
        reader.rollback()
        reader.close()
        filler.unlink()
        if kill_while_full:
            child = await start_child(env, tmp)
        await phase("after")
        await asyncio.sleep(12)  # `serve` moves the fallback journal into the queue every 10 s
        child.send_signal(signal.SIGTERM)
        _, last_err = await asyncio.wait_for(child.communicate(), timeout=30)
        err += last_err
        queued = {int(row[0]) for row in sqlite3.connect(db).execute("SELECT user_id FROM concerns WHERE urgent = 1")}
        journal = db.with_name(db.name + ".urgent-journal")
        kept = {int(json.loads(line)["user_id"]) for line in journal.read_text().splitlines()} if journal.exists() else set()
    finally:
        kill_if_running(child)
        if child is not None:
            await child.wait()
        await fake.close()
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)
    during = phases["during"]
    return DiskRun(
        fault=fault, urgent_sent=len(urgent), urgent_lost=len(urgent - queued - kept), urgent_journalled=len(kept),
        during_unanswered=per_phase - answered(during),
        during_advice=sum(1 for chat in during if chat in urgent and any("999" in c.text for c in fake.sent(chat))),
        during_storage_apology=sum(1 for chat in during if any(c.text == replies.STORAGE_DOWN for c in fake.sent(chat))),
        after_unanswered=per_phase - answered(phases["after"]), tracebacks=err.count(b"Traceback"),
        journal_refused=err.count(b"could NOT be stored nor journalled"),
    )  # fmt: skip


class TracebackCounter(logging.Handler):
    """Counts log records that carry a traceback (the in-process run has no stderr of its own to read)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Traceback" in record.getMessage():
            self.count += 1


async def read_only_run(per_phase: int, tmp: Path) -> DiskRun:
    """The bot in this process (the real adapter, runtime and journal loop), its database made read-only mid-run.

    SQLite's `PRAGMA query_only` on the bot's own connection makes every write fail as a
    read-only file does (SQLITE_READONLY); the file system itself can't be remounted
    read-only while the bot holds the database open for writing.
    """
    from adapters.serve import _replay_journal, build_adapters
    from chatbot.config import load_settings
    from chatbot.runtime import open_runtime

    fake = FakeTelegramAPI()
    await fake.start()
    db = tmp / "read-only" / "bot.db"
    db.parent.mkdir()
    env = child_env(fake, db)
    phases = {name: [60_000 + 1_000 * n + k for k in range(per_phase)] for n, name in enumerate(("before", "during", "after"))}
    urgent = {chat for chats in phases.values() for k, chat in enumerate(chats) if k % URGENT_SHARE == 0}
    answered = lambda chats: sum(1 for chat in chats if fake.sent(chat))  # noqa: E731
    counter = TracebackCounter()
    logging.getLogger().addHandler(counter)
    stop = asyncio.Event()
    try:
        async with open_runtime(load_settings(env=env)) as runtime:
            (adapter,) = build_adapters(runtime, only="telegram", slack_http_port=None, env=env)
            await adapter.start()
            journal_loop = asyncio.create_task(_replay_journal(runtime, stop))
            try:

                async def phase(name: str) -> None:
                    for chat in phases[name]:
                        fake.push(text_update(chat, URGENT if chat in urgent else QUESTION))
                    await wait_until(lambda: answered(phases[name]) == per_phase, 90)

                await phase("before")
                await runtime.store.run(lambda connection: connection.execute("PRAGMA query_only = 1"))
                await phase("during")
                await runtime.store.run(lambda connection: connection.execute("PRAGMA query_only = 0"))
                await phase("after")
                await asyncio.sleep(12)  # the journal loop runs every 10 s
            finally:
                stop.set()
                await journal_loop
                await adapter.stop()
    finally:
        logging.getLogger().removeHandler(counter)
        await fake.close()
    queued = {int(row[0]) for row in sqlite3.connect(db).execute("SELECT user_id FROM concerns WHERE urgent = 1")}
    journal = db.with_name(db.name + ".urgent-journal")
    kept = {int(json.loads(line)["user_id"]) for line in journal.read_text().splitlines()} if journal.exists() else set()
    during = phases["during"]
    return DiskRun(
        fault="read-only", urgent_sent=len(urgent), urgent_lost=len(urgent - queued - kept),
        urgent_journalled=len(kept), during_unanswered=per_phase - answered(during),
        during_advice=sum(1 for chat in during if chat in urgent and any("999" in c.text for c in fake.sent(chat))),
        during_storage_apology=sum(1 for chat in during if any(c.text == replies.STORAGE_DOWN for c in fake.sent(chat))),
        after_unanswered=per_phase - answered(phases["after"]), tracebacks=counter.count,
    )  # fmt: skip


async def main_async(args: argparse.Namespace) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        if "sigkill" in args.scenarios:
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
        if "delivery" in args.scenarios:
            clean = await delivery_run(args.delivery_parents, Path(tmp), faults=False)
            faulty = await delivery_run(args.delivery_parents, Path(tmp), faults=True)
            for d in (clean, faulty):
                print(
                    f"delivery {'with faults' if d.faults else 'no faults  '} ({d.parents} parents): unanswered "
                    f"{d.unanswered} {d.by_fault if d.faults else ''}, wrong apologies {d.wrong_apologies}, answered "
                    f"twice {d.doubled}, message to answer p50 {d.seconds_p50:.2f}s max {d.seconds_max:.2f}s, "
                    f"tracebacks {d.tracebacks}",
                    flush=True,
                )
            print(f"delivery: with faults / without, p50 x{faulty.seconds_p50 / clean.seconds_p50:.2f}, "
                  f"max x{faulty.seconds_max / clean.seconds_max:.2f}", flush=True)  # fmt: skip
            args.failed |= bool(faulty.unanswered or faulty.wrong_apologies or faulty.tracebacks)
        if "disk" in args.scenarios:
            for fault in ("full", "full+kill", "read-only"):
                if fault.startswith("full"):
                    disk = await disk_run(fault, args.disk_parents, Path(tmp), kill_while_full=fault == "full+kill")
                else:
                    disk = await read_only_run(args.disk_parents, Path(tmp))
                if disk is None:
                    continue
                print(
                    f"disk {fault:10}: urgent lost {disk.urgent_lost} of {disk.urgent_sent} "
                    f"(left in the journal {disk.urgent_journalled}, refused by it {disk.journal_refused}); "
                    f"during the fault: unanswered "
                    f"{disk.during_unanswered}, 999 advice to urgent {disk.during_advice}, honest apology "
                    f"{disk.during_storage_apology}; after: unanswered {disk.after_unanswered}; tracebacks {disk.tracebacks}",
                    flush=True,
                )
                args.failed |= bool(disk.urgent_lost or disk.tracebacks or disk.during_unanswered or disk.after_unanswered)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=120)
    parser.add_argument("--modes", nargs="+", default=["polling", "webhook"], choices=["polling", "webhook"])
    parser.add_argument("--at", nargs="+", type=int, default=[10, 35, 60])
    parser.add_argument("--scenarios", nargs="+", default=["sigkill", "delivery", "disk"],
                        choices=["sigkill", "delivery", "disk"])  # fmt: skip
    parser.add_argument("--delivery-parents", type=int, default=40)
    parser.add_argument("--disk-parents", type=int, default=20, help="parents writing before, during and after")
    args = parser.parse_args()
    args.failed = False
    runs = asyncio.run(main_async(args))
    bad = [r for r in runs if r.unanswered or r.urgent_lost or r.tracebacks or r.doubled > 1]
    return 1 if bad or args.failed else 0


if __name__ == "__main__":
    sys.exit(main())
