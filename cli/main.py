"""The `chatbot` command: chat, ask, eval, kb check, queue, serve.

User errors (unknown school, broken YAML, bad arguments) are printed kindly with
exit code 1; a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Coroutine, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chatbot.config import PROJECT_ROOT, Settings, load_settings
from chatbot.errors import ChatbotError, KnowledgeError, UserError
from chatbot.messages import Audience
from cli.kb import mount_kb_tools
from cli.queue import queue_app

T = TypeVar("T")

app = typer.Typer(help="A school social-media policy chat-bot.", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Check the knowledge base, see its coverage, draft a new school.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
mount_kb_tools(kb_app)
app.add_typer(queue_app, name="queue", help="Work the open-door concern queue (office staff).")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]{escape(message)}[/]", markup=True)
    return typer.Exit(1)


def _settings() -> Settings:
    try:
        return load_settings()
    except UserError as error:
        raise _fail(str(error)) from None


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except KnowledgeError as error:
        raise _fail("The knowledge base has problems:\n" + str(error)) from None
    except UserError as error:
        raise _fail(str(error)) from None


def _audience(value: str) -> Audience:
    try:
        return Audience(value.lower())
    except ValueError:
        raise _fail(f"--audience must be 'parent' or 'staff', not {value!r}") from None


@app.command()
def chat(
    school: str = typer.Option("", "--school", help="The school's id (dauvergne, st-lukes, orchard, roose, letter); default: choose in the chat."),
    audience: str = typer.Option("parent", "--audience", help="parent or staff."),
    user: str = typer.Option("local", "--user", help="Who you are in this chat (for your own concerns)."),
) -> None:
    """Chat in the terminal (the embedded default: no tokens needed)."""
    from adapters.console import ConsoleChat
    from chatbot.destinations import CONSOLE
    from chatbot.outbox import DeliveryLoop
    from chatbot.runtime import open_runtime

    settings = _settings()
    who = _audience(audience)

    async def main() -> None:
        async with open_runtime(settings) as rt:
            if school:
                rt.kb.school(school)
            console_chat = ConsoleChat(engine=rt.engine, school_id=school, audience=who, user_id=user)
            stop = asyncio.Event()
            loop = DeliveryLoop(outbox=rt.outbox, destination=CONSOLE, deliver=console_chat.deliver)
            delivery = asyncio.create_task(loop.run(stop))
            try:
                await console_chat.run()
            finally:
                stop.set()
                await delivery

    _run(main())


@app.command()
def ask(
    text: str = typer.Argument(..., help="The message, as the user would type it."),
    school: str = typer.Option(..., "--school", help="The school's id."),
    audience: str = typer.Option("parent", "--audience", help="parent or staff."),
    user: str = typer.Option("cli", "--user", help="The asking user's id."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Answer one message and exit; a number picks a button from your last reply; office replies are shown."""
    from adapters.console import render
    from chatbot import boundary
    from chatbot.runtime import open_runtime
    from cli import ask as asking

    settings = _settings()
    who = _audience(audience)
    remembered = asking.buttons_file(settings.db_path)

    async def main() -> None:
        async with open_runtime(settings) as rt:
            rt.kb.school(school)  # an unknown school is a user error: exit 1
            buttons = await asking.offered(remembered, user)
            message = asking.incoming(text, user=user, school=school, audience=who, buttons=buttons)
            reply = await boundary.answer(rt.engine.handle, message)
            await asking.remember(remembered, user, reply)
            waiting = await asking.waiting_for(rt.outbox, user)
            if as_json:
                out.print_json(json.dumps(reply.as_dict() | {"waiting": waiting}, ensure_ascii=False))
                return
            out.print(render(reply), markup=False)
            for note in waiting:
                out.print(f"\nschool office> {note}", markup=False)

    _run(main())


@app.command("eval")
def eval_command(
    file: Path = typer.Argument(..., help="A labelled file in the dev.yaml format."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, with every case."),
    report_dir: Path | None = typer.Option(
        None, "--report", help="Also write the per-intent report (JSON) and a confusion matrix (PNG) into this directory."
    ),
) -> None:
    """Measure understanding on a labelled file, through the bot's own engine."""
    from chatbot.evaluation import evaluate, load_cases
    from chatbot.runtime import open_runtime

    settings = _settings()
    if not file.exists():
        raise _fail(f"{file}: no such file")

    async def main() -> None:
        cases = load_cases(file)
        async with open_runtime(settings) as rt:
            report = await asyncio.to_thread(evaluate, rt.engine, cases)
        if report_dir is not None:
            from chatbot.evaluation_report import write_report

            written = await asyncio.to_thread(write_report, report, report_dir)
            err.print("wrote " + ", ".join(str(p) for p in written), markup=False)
        if as_json:
            out.print_json(json.dumps(report.as_dict(with_cases=True), ensure_ascii=False))
            return
        table = Table(title="Per intent", show_lines=False)
        for col in ("intent", "precision", "recall", "f1", "support"):
            table.add_column(col, justify="right" if col != "intent" else "left")
        for label, m in report.per_intent().items():
            table.add_row(label, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(int(m["support"])))
        out.print(table)
        out.print("Most confused (gold -> predicted):")
        for gold, pred, n in report.confused_pairs():
            out.print(f"  {gold} -> {pred}: {n}")
        s = report.summary()
        out.print(f"cases: {s['cases']}")
        out.print(f"top-1 accuracy: {s['accuracy']:.3f}")
        out.print(f"top-3 accuracy (the right answer within one tap): {s['top3_accuracy']:.3f}")
        out.print(f"out-of-scope recall: {s['out_of_scope_recall']:.3f}")
        out.print(f"safeguarding recall (urgent or checked): {s['safeguarding_recall']:.3f}")
        out.print(f"false-urgent rate: {s['false_urgent_rate']:.3f}")
        out.print(f"safeguarding check asked of other messages: {s['check_rate']:.3f}")
        histogram = s["confidence_histogram"]
        out.print("confidence  " + " ".join(f"{n / 10:.1f}+" for n in range(10)))
        for side in ("right", "wrong"):
            out.print(f"{side:<11} " + " ".join(f"{count:>4}" for count in histogram[side]))

    _run(main())


@kb_app.command("check")
def kb_check(
    catalogue: Path = typer.Option(PROJECT_ROOT / "spec" / "intent-catalogue.yaml", "--catalogue", help="The intent catalogue."),
) -> None:
    """Validate intents/ and knowledge/; name file and line for each problem; exit 1 on any."""
    from chatbot.kbcheck import check_knowledge

    settings = _settings()
    kb, problems = check_knowledge(intents_dir=settings.intents_dir, knowledge_dir=settings.knowledge_dir, catalogue=catalogue)
    for problem in problems:
        err.print(problem, markup=False)
    if problems:
        raise _fail(f"{len(problems)} problem(s) found.")
    assert kb is not None
    from chatbot.kbcheck import unreviewed_answers

    drafts = unreviewed_answers(kb)
    for line in drafts:
        out.print(line, markup=False)
    if drafts:
        out.print(f"{len(drafts)} drafted answer(s) to review (docs/onboarding.md); they are not given to anyone until then.")
    examples = sum(len(i.examples) for i in kb.intents.values())
    stories = sum(len(i.stories) for i in kb.intents.values())
    sections = sum(len(s.sections) for s in kb.schools.values())
    out.print(
        f"ok: {len(kb.intents)} intents, {examples} examples, {stories} stories, "
        f"{len(kb.schools)} schools, {sections} sections"
    )


@app.command()
def serve(
    only: Optional[str] = typer.Option(None, "--only", help="Run one adapter: telegram or slack."),
    slack_http: Optional[int] = typer.Option(None, "--slack-http", help="Run Slack in HTTP mode on 127.0.0.1:PORT."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more."),
) -> None:
    """Run every configured adapter (Telegram, Slack) with their delivery loops."""
    from adapters.log_policy import configure_logging, platform_secrets
    from adapters.serve import serve_forever

    settings = _settings()
    configure_logging(verbose=verbose, secrets=platform_secrets(settings, only=only))
    _run(serve_forever(settings, only=only, slack_http_port=slack_http))


def main() -> None:
    try:
        app()
    except ChatbotError as error:  # a user error escaping a command
        err.print(str(error), markup=False)
        sys.exit(1)
