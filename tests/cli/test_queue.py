"""`chatbot queue ...` works the same queue as the bot, and fails kindly, never with a traceback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chatbot.calendar import WorkingCalendar
from cli.queue import queue_app
from chatbot.concerns import ConcernQueue
from chatbot.config import OfficeHours
from chatbot.outbox import Outbox, OutboxRecord
from chatbot.store import Store

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "queue.db"
    monkeypatch.setenv("CHATBOT_DB", str(path))
    monkeypatch.setenv("CHATBOT_CONFIG", str(tmp_path / "no-such-config.yaml"))
    return path


def seed(path: Path, *concerns: dict[str, Any]) -> list[str]:
    async def main() -> list[str]:
        store = Store(path=path)
        queue = ConcernQueue(store=store, calendars=lambda school: WorkingCalendar(hours=OfficeHours()))
        try:
            refs = []
            for n, extra in enumerate(concerns):
                fields: dict[str, Any] = dict(
                    school_id="orchard", channel="telegram", user_id=f"u{n}", chat_id=f"chat-{n}",
                    audience="parent", category="concern_bullying", summary=f"summary {n}", urgent=False,
                )  # fmt: skip
                fields.update(extra)
                refs.append((await queue.open(**fields)).ref)
            return refs
        finally:
            await store.close()

    return asyncio.run(main())


def outbox_items(path: Path, channel: str) -> list[OutboxRecord]:
    async def main() -> list[OutboxRecord]:
        store = Store(path=path)
        try:
            return await Outbox(store=store).items(channel=channel)
        finally:
            await store.close()

    return asyncio.run(main())


def ok(*args: str) -> str:
    result = runner.invoke(queue_app, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def fails(*args: str) -> str:
    result = runner.invoke(queue_app, list(args))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception
    assert "Traceback" not in result.output
    return result.stderr


def test_list_json_and_table(db: Path) -> None:
    first, urgent = seed(db, {}, {"urgent": True, "school_id": "roose"})
    listed = json.loads(ok("list", "--json"))
    assert [c["ref"] for c in listed] == [urgent, first]
    assert listed[0]["urgent"] is True and listed[0]["status"] == "open"
    assert [c["ref"] for c in json.loads(ok("list", "--school", "orchard", "--json"))] == [first]
    assert [c["ref"] for c in json.loads(ok("list", "--overdue", "--json"))] == [urgent]
    table = ok("list")
    assert first in table and urgent in table and "orchard" in table


def test_list_defaults_to_active_and_filters_by_status(db: Path) -> None:
    first, second = seed(db, {}, {})
    ok("resolve", first, "--as", "Alice")
    assert [c["ref"] for c in json.loads(ok("list", "--json"))] == [second]
    both = json.loads(ok("list", "--status", "resolved", "--status", "open", "--json"))
    assert {c["ref"] for c in both} == {first, second}
    assert "Unknown status lost" in fails("list", "--status", "lost")


def test_claim_reply_note_resolve_reopen_through_the_cli(db: Path) -> None:
    [ref] = seed(db, {"chat_id": "chat-77"})
    assert "claimed by Alice" in ok("claim", ref, "--as", "Alice")
    assert "already claimed by Alice" in fails("claim", ref, "--as", "Bob")
    ok("reply", ref, "--as", "Alice", "We have spoken to the class teacher.")
    ok("note", ref, "Parent seemed happy")  # default actor: office
    ok("resolve", ref, "--as", "Alice")
    ok("reopen", ref.lower(), "--as", "Bob")

    shown = json.loads(ok("show", ref, "--json"))
    assert shown["concern"]["status"] == "open"
    assert [(e["actor"], e["action"]) for e in shown["events"]] == [
        ("telegram:u0", "opened"), ("Alice", "claimed"), ("Alice", "replied"),
        ("office", "note"), ("Alice", "resolved"), ("Bob", "reopened"),
    ]  # fmt: skip
    to_parent = outbox_items(db, "telegram")
    assert [i.payload["chat_id"] for i in to_parent] == ["chat-77", "chat-77"]
    assert "We have spoken to the class teacher." in to_parent[0].payload["text"]


def test_show_for_people(db: Path) -> None:
    [ref] = seed(db, {"summary": "Someone posted [a photo]"})
    ok("note", ref, "--as", "Alice", "Called the parent")
    shown = ok("show", ref)
    assert ref in shown and "Someone posted [a photo]" in shown and "Called the parent" in shown
    assert "Audit trail" in shown


def test_user_errors_are_red_lines_not_tracebacks(db: Path) -> None:
    [ref] = seed(db, {})
    assert "There is no concern C-0999." in fails("show", "C-0999")
    assert "reply is empty" in fails("reply", ref, "--as", "Alice", "   ")
    ok("resolve", ref)
    assert "reply was not sent" in fails("reply", ref, "--as", "Alice", "Hello")
    assert "not a date like" in fails("purge", "--resolved-before", "last tuesday")


def test_remind_and_purge(db: Path) -> None:
    urgent, closed = seed(db, {"urgent": True}, {})
    assert "Queued 1 overdue reminder." in ok("remind")
    assert "Queued 0 overdue reminders." in ok("remind")
    assert [i.payload for i in outbox_items(db, "office:orchard") if i.kind == "concern_overdue"] == [{"ref": urgent}]
    ok("resolve", closed)
    assert "Purged 0 concerns" in ok("purge", "--resolved-before", "2000-01-01")
    assert "Purged 1 concern closed before 2999-01-01." in ok("purge", "--resolved-before", "2999-01-01")
    assert "There is no concern" in fails("show", closed)
    assert json.loads(ok("show", urgent, "--json"))["concern"]["ref"] == urgent


def test_purge_keeps_safeguarding_records(db: Path) -> None:
    urgent, safeguarding, plain = seed(db, {"urgent": True}, {"category": "concern_safeguarding"}, {})
    for ref in (urgent, safeguarding, plain):
        ok("resolve", ref)
    purged = ok("purge", "--resolved-before", "2999-01-01")
    assert "Purged 1 concern closed before 2999-01-01." in purged
    assert "Kept 2 safeguarding records: they are kept for 25 years" in purged
    flagged = ok("purge", "--resolved-before", "2999-01-01", "--include-safeguarding")
    assert "Purged 0 concerns" in flagged and "Kept 2 safeguarding records" in flagged
    assert json.loads(ok("show", urgent, "--json"))["concern"]["status"] == "resolved"
    assert json.loads(ok("show", safeguarding, "--json"))["concern"]["status"] == "resolved"


def test_list_shows_office_items_no_office_has_taken(db: Path) -> None:
    seed(db, {}, {"school_id": "roose"})
    listed = ok("list")
    assert "Waiting to reach a school office: orchard (1), roose (1)." in listed
