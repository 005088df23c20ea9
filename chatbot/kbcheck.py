"""`chatbot kb check`: the knowledge base's promises, checked.

Beyond what loading already refuses (schema, unknown cited sections): every
catalogue id is present with its audience and kind; every section is verbatim in
the school's source policy; no phrasing or story is taught under two intents; every
catalogue `covered_by` school answers the intent (or the gap is reported).
"""

from __future__ import annotations

import re
from pathlib import Path

from chatbot.errors import KnowledgeError
from chatbot.knowledge import KnowledgeBase, load_knowledge_base
from chatbot.normalise import fold
from chatbot.yamlfile import YamlProblem, line_of, load_yaml

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})


def verbatim_form(text: str) -> str:
    """Fold white space and typographic quotes: what 'word for word' compares."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def _catalogue(path: Path) -> list[dict[str, object]]:
    data = load_yaml(path)
    intents = data.get("intents") if isinstance(data, dict) else None
    return [i for i in intents or [] if isinstance(i, dict)]


def check_knowledge(*, intents_dir: Path, knowledge_dir: Path, catalogue: Path) -> tuple[KnowledgeBase | None, list[str]]:
    """Return the loaded knowledge base (if it loads) and every problem found."""
    try:
        kb = load_knowledge_base(intents_dir=intents_dir, knowledge_dir=knowledge_dir)
    except KnowledgeError as err:
        return None, list(err.problems)
    problems: list[str] = []
    try:
        entries = _catalogue(catalogue)
    except YamlProblem as err:
        return kb, [str(err)]
    for entry in entries:
        intent_id = str(entry.get("id"))
        intent = kb.intents.get(intent_id)
        if intent is None:
            problems.append(f"{catalogue}:{line_of(entry)}: catalogue intent {intent_id!r} is missing from {intents_dir}")
            continue
        for key in ("audience", "kind"):
            if entry.get(key) != getattr(intent, key):
                problems.append(
                    f"{intent.file}:{intent.line}: intent {intent_id!r} has {key} {getattr(intent, key)!r}, "
                    f"the catalogue says {entry.get(key)!r}"
                )
        for school_id in entry.get("covered_by") or []:  # type: ignore[attr-defined]
            school = kb.schools.get(str(school_id))
            if school is not None and intent_id not in school.answers:
                problems.append(f"{school.file}: no answer for {intent_id!r}, which this school's policy covers")
    seen: dict[str, tuple[str, str, int]] = {}
    for intent in kb.intents.values():
        for kind, text in [("example", e) for e in intent.examples] + [("story", s) for s in intent.stories]:
            key = fold(text)
            if key in seen and seen[key][0] != intent.id:
                other = seen[key]
                problems.append(
                    f"{intent.file}:{intent.line}: {kind} {text!r:.80} of {intent.id!r} is also taught under "
                    f"{other[0]!r} ({other[1]}:{other[2]})"
                )
            seen.setdefault(key, (intent.id, intent.file, intent.line))
    for school in kb.schools.values():
        try:
            source = verbatim_form(school.source.read_text(encoding="utf-8"))
        except OSError as err:
            problems.append(f"{school.file}: cannot read the source policy {school.source}: {err}")
            continue
        for section in school.sections.values():
            if verbatim_form(section.text) not in source:
                problems.append(
                    f"{school.file}:{section.line}: section {section.id!r} is not word for word in {school.source.name}"
                )
    return kb, problems


def unreviewed_answers(kb: KnowledgeBase) -> list[str]:
    """Drafted answers still waiting for a person's review: not problems, but not yet given to anyone."""
    return [
        f"{school.file}:{answer.line}: answer {answer.intent!r} is a draft (reviewed: false)"
        for school in kb.schools.values()
        for answer in school.answers.values()
        if not answer.reviewed
    ]
