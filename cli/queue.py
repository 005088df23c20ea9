"""`chatbot queue ...`: the office works the concern queue from a terminal.

Tables for people, `--json` for scripts. Every change goes through ConcernQueue, so
the CLI writes the same audit events and outbox items as the Slack buttons do.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Awaitable, Callable, Optional
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.context import QueueContext, open_queue, run_command
from chatbot.concerns import ACTIVE, Concern, ConcernEvent, ConcernQueue
from chatbot.errors import UserError
from chatbot.outbox import Outbox, school_of

queue_app = typer.Typer(help="Work the open-door concern queue.", no_args_is_help=True, add_completion=False)
stdout = Console(highlight=False)

RefArg = Annotated[str, typer.Argument(help="The concern's reference, e.g. C-0042.")]
AsOpt = Annotated[str, typer.Option("--as", help="Who is doing this (shown in the audit trail).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _due(ctx: QueueContext, concern: Concern, now: datetime, *, short: bool = False) -> str:
    calendar = ctx.calendars(concern.school_id)
    words = f"{concern.due_at.astimezone(calendar.tz):%a %d %b %H:%M}" if short else calendar.describe_due(concern.due_at)
    return f"[red]{words} (overdue)[/red]" if concern.is_overdue(now) else words


def _shorten(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@queue_app.command("list")
def list_concerns(
    status: Annotated[
        Optional[list[str]], typer.Option("--status", help="Repeatable; default: open, claimed and replied.")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their due time.")] = False,
    school: Annotated[Optional[str], typer.Option("--school", help="Only this school's concerns.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List concerns, urgent first, then by due time."""

    async def main() -> None:
        async with open_queue() as ctx:
            concerns = await ctx.queue.list(status=status or list(ACTIVE), overdue=overdue, school_id=school)
            if as_json:
                _print_json([c.as_dict() for c in concerns])
                return
            waiting = {school_of(c): n for c, n in (await Outbox(store=ctx.store).waiting()).items() if school_of(c)}
            if not concerns:
                stdout.print("No concerns match.")
                _print_waiting(waiting)
                return
            now = ctx.queue.clock()
            table = Table("Ref", "School", "Status", "Category", "Due", "Claimed by", "Summary")
            table.columns[0].no_wrap = True
            for c in concerns:
                table.add_row(
                    c.ref + (" [bold red]![/]" if c.urgent else ""), escape(c.school_id), c.status, escape(c.category),
                    _due(ctx, c, now, short=True), escape(c.claimed_by or ""), escape(_shorten(c.summary)),
                )  # fmt: skip
            table.caption = "! = urgent"
            stdout.print(table)
            _print_waiting(waiting)

    run_command(main)


def _print_waiting(waiting: dict[str | None, int]) -> None:
    """Office items no office has taken yet: a school with no office set up shows here."""
    if waiting:
        schools = ", ".join(f"{escape(str(school))} ({n})" for school, n in sorted(waiting.items(), key=str))
        stdout.print(f"Waiting to reach a school office: {schools}. `chatbot serve` names any school no office serves.")


def _show_human(ctx: QueueContext, concern: Concern, events: list[ConcernEvent]) -> None:
    now = ctx.queue.clock()
    tz = ZoneInfo(ctx.settings.timezone)
    details = Table.grid(padding=(0, 2))
    details.add_column(style="bold")
    details.add_column()
    rows = [
        ("Ref", concern.ref + ("  [bold red]URGENT[/]" if concern.urgent else "")),
        ("School", escape(concern.school_id)),
        ("Status", f"{concern.status} ({concern.status_words()})"),
        ("Category", escape(concern.category)),
        ("From", escape(f"{concern.audience} on {concern.channel}")),
        ("Contact", escape(concern.contact_method + (f": {concern.phone}" if concern.phone else ""))),
        ("Raised", f"{concern.created_at.astimezone(tz):%Y-%m-%d %H:%M}"),
        ("Due", _due(ctx, concern, now)),
        ("Claimed by", escape(concern.claimed_by or "nobody yet")),
        ("Summary", escape(concern.summary)),
    ]
    for label, value in rows:
        details.add_row(label, value)
    stdout.print(details)
    log = Table("When", "Who", "What", "Detail", title="Audit trail")
    for e in events:
        log.add_row(f"{e.at.astimezone(tz):%Y-%m-%d %H:%M}", escape(e.actor), e.action, escape(e.detail))
    stdout.print(log)


@queue_app.command("show")
def show(ref: RefArg, as_json: JsonOpt = False) -> None:
    """Show one concern with its audit trail."""

    async def main() -> None:
        async with open_queue() as ctx:
            concern = await ctx.queue.get(ref)
            events = await ctx.queue.events(concern.ref)
            if as_json:
                _print_json({"concern": concern.as_dict(), "events": [e.as_dict() for e in events]})
            else:
                _show_human(ctx, concern, events)

    run_command(main)


def _act(action: str, change: Callable[[ConcernQueue], Awaitable[Concern]]) -> None:
    """Run one queue change and confirm it in a line."""

    async def main() -> None:
        async with open_queue() as ctx:
            concern = await change(ctx.queue)
            stdout.print(f"[green]{concern.ref} {action}[/green] (now {concern.status}).")

    run_command(main)


@queue_app.command("claim")
def claim(ref: RefArg, by: AsOpt = "office") -> None:
    """Take a concern so colleagues know you have it."""
    _act(f"claimed by {escape(by)}", lambda q: q.claim(ref, by=by))


@queue_app.command("reply")
def reply(
    ref: RefArg, text: Annotated[str, typer.Argument(help="The reply, sent to the parent.")], by: AsOpt = "office"
) -> None:
    """Reply to the parent on the channel they used."""
    _act("reply queued for the parent", lambda q: q.reply(ref, by=by, text=text))


@queue_app.command("note")
def note(
    ref: RefArg, text: Annotated[str, typer.Argument(help="An internal note; never sent.")], by: AsOpt = "office"
) -> None:
    """Add an internal note to the audit trail."""
    _act("note added", lambda q: q.note(ref, by=by, text=text))


@queue_app.command("resolve")
def resolve(ref: RefArg, by: AsOpt = "office") -> None:
    """Mark a concern resolved; the parent is told the door is still open."""
    _act(f"resolved by {escape(by)}", lambda q: q.resolve(ref, by=by))


@queue_app.command("reopen")
def reopen(ref: RefArg, by: AsOpt = "office") -> None:
    """Open a resolved or withdrawn concern again."""
    _act(f"reopened by {escape(by)}", lambda q: q.reopen(ref, by=by))


@queue_app.command("remind")
def remind() -> None:
    """Queue a reminder to the office for each overdue concern (at most one a day each)."""

    async def main() -> None:
        async with open_queue() as ctx:
            count = await ctx.queue.remind_overdue()
            stdout.print(f"Queued {count} overdue reminder{'s' if count != 1 else ''}.")

    run_command(main)


@queue_app.command("purge")
def purge(
    resolved_before: Annotated[
        str, typer.Option("--resolved-before", help="YYYY-MM-DD: delete concerns closed before this day.")
    ],
    include_safeguarding: Annotated[
        bool,
        typer.Option(
            "--include-safeguarding",
            help="Also delete safeguarding records, but only those closed longer ago than their retention "
            "(retention.safeguarding_years, default 25).",
        ),
    ] = False,
) -> None:
    """Delete resolved and withdrawn concerns closed before a date, with their audit trail.

    Safeguarding records are kept unless --include-safeguarding is given.
    """

    async def main() -> None:
        try:
            day = date.fromisoformat(resolved_before)
        except ValueError:
            raise UserError(f"{resolved_before!r} is not a date like 2026-09-01.") from None
        async with open_queue() as ctx:
            cutoff = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ctx.settings.timezone))
            result = await ctx.retention.purge(resolved_before=cutoff, include_safeguarding=include_safeguarding)
            stdout.print(f"Purged {_count(result.concerns, 'concern')} closed before {day.isoformat()}.")
            if result.safeguarding_kept:
                years = ctx.settings.retention.safeguarding_years
                stdout.print(
                    f"Kept {_count(result.safeguarding_kept, 'safeguarding record')}: they are kept for {years} years "
                    "after closing, and only purged with --include-safeguarding once that time has passed."
                )

    run_command(main)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


if __name__ == "__main__":
    queue_app()
