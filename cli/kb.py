"""`chatbot kb coverage` and `chatbot kb draft`: the knowledge base seen whole, and a new school's first draft."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chatbot.errors import KnowledgeError, UserError
from chatbot.kb.coverage import Coverage, CoverageReport, coverage_report
from chatbot.knowledge import load_knowledge_base
from cli.context import fail, settings_or_exit

out = Console(highlight=False, soft_wrap=True)


def kb_coverage(
    school: list[str] = typer.Option([], "--school", help="Only this school (repeatable); default: every school."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Schools x intents: answered (with its number of citations) or silent, and what to review for each silence."""
    settings = settings_or_exit()
    try:
        kb = load_knowledge_base(intents_dir=settings.intents_dir, knowledge_dir=settings.knowledge_dir)
        report = coverage_report(kb, schools=school or None)
    except (KnowledgeError, UserError) as error:
        raise fail(str(error)) from None
    if as_json:
        out.print_json(json.dumps(report.as_json()))
        return
    _print_table(report)
    _print_review(report)


def _print_table(report: CoverageReport) -> None:
    table = Table(title="Coverage: answered (citations) or silent")
    table.add_column("intent")
    for school in report.schools:
        table.add_column(school.id, justify="center")
    for intent in report.intents:
        row = [intent.id]
        for school in report.schools:
            cell = report.cell(school.id, intent.id)
            row.append(f"✓ {cell.citations}" if cell.coverage is Coverage.ANSWERED else "[dim]silent[/]")
        table.add_row(*row)
    counts = [report.counts(s.id) for s in report.schools]
    table.add_row("[bold]answered / silent[/]", *(f"{c['answered']} / {c['silent']}" for c in counts))
    out.print(table)


def _print_review(report: CoverageReport) -> None:
    for school in report.schools:
        silent = [c for c in report.cells if c.school_id == school.id and c.coverage is Coverage.SILENT and c.review]
        if not silent:
            continue
        out.print(f"\n[bold]{escape(school.name)}[/] ({school.id}): silent, possible coverage: review")
        for cell in silent:
            sections = ", ".join(f"{m.section_id} ({m.score:.2f})" for m in cell.review)
            out.print(f"  {cell.intent_id}: {escape(sections)}")


def mount_kb_tools(kb_app: typer.Typer) -> None:
    """Add the whole-knowledge-base tools to `chatbot kb`."""
    kb_app.command("coverage")(kb_coverage)
    kb_app.command("draft")(kb_draft)


def kb_draft(
    policy: Path = typer.Argument(..., help="The school's policy: .txt, .docx or .pdf."),
    school: str = typer.Option(..., "--school", help="The new school's id, e.g. oakfield (letters, digits, hyphens)."),
    name: str = typer.Option(..., "--name", help="The school's name, e.g. \"Oakfield Primary School\"."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Where to write ID.yaml and sources/ (default: knowledge/)."),
) -> None:
    """Draft a new school's knowledge file from its policy; every answer is marked for review."""
    from chatbot.kb.draft import draft_from_file
    from chatbot.knowledge import load_intents

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", school):
        raise fail(f"--school {school!r}: use lower-case letters, digits and hyphens, e.g. oakfield")
    settings = settings_or_exit()
    target_dir = out_dir or settings.knowledge_dir
    if (target_dir / f"{school}.yaml").exists():
        raise fail(f"{target_dir / f'{school}.yaml'} already exists: choose another --out or remove it first")
    try:
        intents = load_intents(settings.intents_dir)
        draft, written = draft_from_file(
            school_id=school, name=name, policy=policy, out_dir=target_dir, intents=list(intents.values())
        )
    except (KnowledgeError, UserError) as error:
        raise fail(str(error)) from None
    out.print(
        f"Drafted {written}: {len(draft.sections)} sections, {len(draft.answers)} draft answers "
        f"(every one reviewed: false), in {draft.seconds:.1f} s."
    )
    out.print("Next: review each answer (docs/onboarding.md), then run `chatbot kb check`.")
