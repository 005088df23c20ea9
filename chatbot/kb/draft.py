"""`chatbot kb draft`: a new school's knowledge file, drafted from its policy for a person to review.

The policy's text is split into sections at its headings; for every policy intent,
the sections most like it (chatbot/kb/similarity.py) are cited and a draft answer
is built from the best one, quoted. Where no section clears the threshold the
intent gets no answer, so the bot says plainly that the policy is silent. Every
drafted answer is marked `reviewed: false`: `kb check` lists them, and the bot
does not give them to parents until a person has checked and edited them.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from chatbot.kb.coverage import POLICY_KINDS
from chatbot.kb.sections import split_sections
from chatbot.kb.similarity import SectionMatch, SectionRanker
from chatbot.kb.sources import read_policy
from chatbot.knowledge import Intent, Section

ANSWER_MIN_SCORE = 0.13  # the best section must resemble the intent at least this much to draft an answer
CITE_RELATIVE = 0.6  # further sections are cited when they score within this share of the best
MAX_CITES = 3
QUOTE_CHARS = 320


@dataclass(frozen=True, kw_only=True)
class DraftAnswer:
    intent_id: str
    text: str
    cites: tuple[SectionMatch, ...]


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A school's knowledge as drafted: sections, unreviewed answers, and how long it took."""

    school_id: str
    name: str
    source: str  # file name under sources/
    sections: tuple[Section, ...]
    answers: tuple[DraftAnswer, ...]
    seconds: float


def _quote(text: str) -> str:
    """The clause to quote: its opening sentences, up to QUOTE_CHARS."""
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    cut = flat[:QUOTE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("; "))
    return (cut[: end + 1] if end > QUOTE_CHARS // 3 else cut.rsplit(" ", 1)[0] + " …").strip()


def draft_answer(intent: Intent, matches: Sequence[SectionMatch], sections: dict[str, Section], name: str) -> DraftAnswer | None:
    """An answer citing the best matches, or None when nothing clears the threshold (the policy is silent)."""
    if not matches or matches[0].score < ANSWER_MIN_SCORE:
        return None
    best = matches[0].score
    cites = tuple(m for m in matches[:MAX_CITES] if m.score >= max(ANSWER_MIN_SCORE, best * CITE_RELATIVE))
    text = f"DRAFT, please check: on {intent.label.lower()}, {name}'s policy says: \"{_quote(sections[cites[0].section_id].text)}\""
    return DraftAnswer(intent_id=intent.id, text=text, cites=cites)


def draft_school(*, school_id: str, name: str, policy_text: str, source: str, intents: Sequence[Intent]) -> Draft:
    """Draft a school's knowledge from its policy's text alone."""
    started = time.perf_counter()
    sections = split_sections(policy_text)
    policy = [i for i in intents if i.kind in POLICY_KINDS]
    ranker = SectionRanker(sections=sections, intents=policy)
    by_id = {s.id: s for s in sections}
    answers = []
    for intent in policy:
        answer = draft_answer(intent, ranker.rank(intent, top=MAX_CITES + 1), by_id, name)
        if answer is not None:
            answers.append(answer)
    return Draft(
        school_id=school_id, name=name, source=source, sections=tuple(sections), answers=tuple(answers),
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def _policy_title(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return first if 0 < len(first) <= 80 else fallback


def as_knowledge(draft: Draft, policy_text: str) -> dict[str, Any]:
    """The draft in the knowledge file format (docs/data-formats.md)."""
    return {
        "school": {
            "id": draft.school_id,
            "name": draft.name,
            "short_name": draft.name,
            "policy": _policy_title(policy_text, "Social Media Policy"),
            "version": "draft",
            "source": f"sources/{draft.source}",
        },
        "contacts": {"office": "the school office", "safeguarding_lead": "the school's Designated Safeguarding Lead"},
        "sections": [{"id": s.id, "title": s.title, "text": s.text} for s in draft.sections],
        "answers": {
            a.intent_id: {"text": a.text, "cites": [m.section_id for m in a.cites], "reviewed": False}
            for a in draft.answers
        },
    }


class _Dumper(yaml.SafeDumper):
    """Long and multi-line text as readable blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def source_name(school_id: str, policy: Path) -> str:
    return f"{school_id}-{re.sub(r'[^a-z0-9]+', '-', policy.stem.lower()).strip('-') or 'policy'}.txt"


def draft_from_file(*, school_id: str, name: str, policy: Path, out_dir: Path, intents: Sequence[Intent]) -> tuple[Draft, Path]:
    """Read the policy, keep its text word for word under out_dir/sources/, and write out_dir/ID.yaml."""
    text = read_policy(policy)
    source = source_name(school_id, policy)
    draft = draft_school(school_id=school_id, name=name, policy_text=text, source=source, intents=intents)
    sources = out_dir / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / source).write_text(text, encoding="utf-8")
    if policy.suffix.lower() != ".txt":
        shutil.copyfile(policy, sources / f"{Path(source).stem}{policy.suffix.lower()}")  # the original, for the reviewer
    target = out_dir / f"{school_id}.yaml"
    header = (
        f"# Drafted by `chatbot kb draft` from {policy.name}. Every answer is a draft (reviewed: false):\n"
        "# check each against the policy, rewrite it in the school's voice, then set reviewed: true.\n"
        "# See docs/onboarding.md.\n"
    )
    body = yaml.dump(as_knowledge(draft, text), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    target.write_text(header + body, encoding="utf-8")
    return draft, target
