"""Load and validate `intents/` and `knowledge/` into one immutable KnowledgeBase.

Every problem is reported with its file and line, all at once, so a broken edit
is fixed in one pass instead of one error at a time.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from chatbot.errors import KnowledgeError
from chatbot.knowledge_model import (  # the model lives there; importing it from here keeps working
    AUDIENCES,
    Answer,
    FLOW_CONDITIONS,
    Intent,
    KINDS,
    KnowledgeBase,
    Outcome,
    ReplyPromise,
    School,
    Section,
)
from chatbot.yamlfile import YamlProblem, line_of, load_yaml

class _Problems:
    """Collects 'file:line: message' strings."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: Path | str, line: int, message: str) -> None:
        self.items.append(f"{file}:{line}: {message}" if line else f"{file}: {message}")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _str_list(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return None


def _stories(path: Path, line: int, intent_id: str, raw: Any, problems: _Problems) -> tuple[str, ...]:
    """The optional `stories` list: each a non-empty string, none repeated within the intent."""
    if raw is None:
        return ()
    owner = f"intent {intent_id!r}"
    if not isinstance(raw, list) or not raw:
        problems.add(path, line, f"{owner}: 'stories' must be a non-empty list of messages")
        return ()
    stories: list[str] = []
    for number, value in enumerate(raw, start=1):
        text = _text(value)
        if not isinstance(value, str):
            problems.add(path, line, f"{owner}: story {number} must be text, got {type(value).__name__}")
        elif text is None:
            problems.add(path, line, f"{owner}: story {number} is empty")
        elif text in stories:
            problems.add(path, line, f"{owner}: story {number} repeats story {stories.index(text) + 1}")
        else:
            stories.append(text)
    return tuple(stories)


def _load_intent_file(path: Path, problems: _Problems, intents: dict[str, Intent]) -> None:
    try:
        data = load_yaml(path)
    except YamlProblem as err:
        problems.items.append(str(err))
        return
    if data is None:
        return
    if not isinstance(data, list):
        problems.add(path, 1, "an intents file must be a list of intents")
        return
    for entry in data:
        if not isinstance(entry, dict):
            problems.add(path, 0, f"each intent must be a mapping, got {entry!r:.40}")
            continue
        line = line_of(entry)
        intent_id = _text(entry.get("id"))
        if intent_id is None:
            problems.add(path, line, "intent has no 'id'")
            continue
        if intent_id in intents:
            other = intents[intent_id]
            problems.add(path, line, f"intent {intent_id!r} is defined twice (also {other.file}:{other.line})")
            continue
        audience = entry.get("audience")
        kind = entry.get("kind")
        if audience not in AUDIENCES:
            problems.add(path, line, f"intent {intent_id!r}: audience must be one of {AUDIENCES}, got {audience!r}")
        if kind not in KINDS:
            problems.add(path, line, f"intent {intent_id!r}: kind must be one of {KINDS}, got {kind!r}")
        examples = _str_list(entry.get("examples"))
        if not examples:
            problems.add(path, line, f"intent {intent_id!r}: 'examples' must be a non-empty list of phrasings")
        keywords = _str_list(entry.get("keywords"))
        if keywords is None:
            problems.add(path, line, f"intent {intent_id!r}: 'keywords' must be a list of words")
        summary = _text(entry.get("summary")) or intent_id.replace("_", " ")
        intents[intent_id] = Intent(
            id=intent_id,
            audience=str(audience),
            kind=str(kind),
            summary=summary,
            label=_text(entry.get("label")) or summary,
            keywords=keywords or (),
            examples=examples or (),
            stories=_stories(path, line, intent_id, entry.get("stories"), problems),
            offers_contact=entry.get("offer_contact") is True,
            file=str(path),
            line=line,
        )


def load_intents(intents_dir: Path) -> dict[str, Intent]:
    """Read every `*.yaml` under `intents_dir`; raise KnowledgeError listing all problems."""
    problems = _Problems()
    intents: dict[str, Intent] = {}
    files = sorted(intents_dir.glob("*.yaml"))
    if not files:
        problems.add(intents_dir, 0, "no intent files (*.yaml) found")
    for path in files:
        _load_intent_file(path, problems, intents)
    if problems.items:
        raise KnowledgeError(problems.items)
    return intents


def _load_sections(path: Path, raw: Any, problems: _Problems) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    if not isinstance(raw, list) or not raw:
        problems.add(path, 0, "'sections' must be a non-empty list")
        return sections
    for entry in raw:
        line = line_of(entry)
        if not isinstance(entry, dict):
            problems.add(path, line, "each section must be a mapping with id, title and text")
            continue
        section_id, title, text = _text(entry.get("id")), _text(entry.get("title")), _text(entry.get("text"))
        if section_id is None or title is None or text is None:
            problems.add(path, line, "a section needs 'id', 'title' and 'text'")
            continue
        if section_id in sections:
            problems.add(path, line, f"section {section_id!r} is defined twice")
            continue
        sections[section_id] = Section(id=section_id, title=title, text=text, line=line)
    return sections


def _cites(path: Path, owner: str, line: int, raw: Any, sections: Mapping[str, Section], problems: _Problems) -> tuple[str, ...]:
    cites = _str_list(raw)
    if cites is None:
        problems.add(path, line, f"{owner}: 'cites' must be a list of section ids")
        return ()
    for cite in cites:
        if cite not in sections:
            problems.add(path, line, f"{owner}: cites unknown section {cite!r}")
    return cites


def _load_outcomes(path: Path, intent_id: str, raw: Any, sections: Mapping[str, Section], problems: _Problems) -> tuple[Outcome, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(path, 0, f"answer {intent_id!r}: 'outcomes' must be a list")
        return ()
    outcomes = []
    for entry in raw:
        line = line_of(entry)
        if not isinstance(entry, dict) or _text(entry.get("text")) is None:
            problems.add(path, line, f"answer {intent_id!r}: each outcome needs 'when' and 'text'")
            continue
        when_raw = entry.get("when") or {}
        when: dict[str, str] = {}
        if not isinstance(when_raw, dict):
            problems.add(path, line, f"answer {intent_id!r}: 'when' must be a mapping")
            when_raw = {}
        for key, value in when_raw.items():
            if key == "__line__":
                continue
            value = "yes" if value is True else "no" if value is False else str(value)
            if key not in FLOW_CONDITIONS or value not in FLOW_CONDITIONS[key]:
                problems.add(path, line, f"answer {intent_id!r}: unknown condition {key}={value!r}")
            when[key] = value
        outcomes.append(
            Outcome(
                when=MappingProxyType(when),
                text=str(_text(entry.get("text"))),
                cites=_cites(path, f"answer {intent_id!r} outcome", line, entry.get("cites"), sections, problems),
                line=line,
            )
        )
    return tuple(outcomes)


def _load_answers(
    path: Path, raw: Any, sections: Mapping[str, Section], intents: Mapping[str, Intent] | None, problems: _Problems
) -> dict[str, Answer]:
    """Answers keyed by intent; `intents` None means the intents failed to load (skip that check)."""
    answers: dict[str, Answer] = {}
    if raw is None:
        return answers
    if not isinstance(raw, dict):
        problems.add(path, 0, "'answers' must be a mapping of intent id to answer")
        return answers
    for intent_id, entry in raw.items():
        if intent_id == "__line__":
            continue
        line = line_of(entry)
        if intents is not None and intent_id not in intents:
            problems.add(path, line, f"answer for unknown intent {intent_id!r}")
            continue
        if not isinstance(entry, dict) or _text(entry.get("text")) is None:
            problems.add(path, line, f"answer {intent_id!r} needs a 'text'")
            continue
        cites = _cites(path, f"answer {intent_id!r}", line, entry.get("cites"), sections, problems)
        if not cites:
            problems.add(path, line, f"answer {intent_id!r} cites no section: every answer must quote its clause")
        reviewed = entry.get("reviewed", True)
        if not isinstance(reviewed, bool):
            problems.add(path, line, f"answer {intent_id!r}: 'reviewed' must be true or false")
        answers[intent_id] = Answer(
            reviewed=reviewed is not False,
            intent=intent_id,
            text=str(_text(entry.get("text"))),
            cites=cites,
            outcomes=_load_outcomes(path, intent_id, entry.get("outcomes"), sections, problems),
            line=line,
        )
    return answers


def _load_reply_promise(path: Path, raw: Any, sections: Mapping[str, Section], problems: _Problems) -> ReplyPromise | None:
    """`school.reply_promise`: only where the policy itself makes one, quoted from its section."""
    if raw is None:
        return None
    line = line_of(raw)
    fields = {key: _text(raw.get(key)) for key in ("section", "text", "scope")} if isinstance(raw, dict) else {}
    if not fields or None in fields.values():
        problems.add(path, line, "school.reply_promise needs 'section', 'text' (the policy's words) and 'scope'")
        return None
    section = sections.get(str(fields["section"]))
    if section is None:
        problems.add(path, line, f"school.reply_promise cites unknown section {fields['section']!r}")
        return None
    if " ".join(str(fields["text"]).split()) not in " ".join(section.text.split()):
        problems.add(path, line, f"school.reply_promise text is not word for word in section {section.id!r}")
        return None
    return ReplyPromise(section=section.id, text=str(fields["text"]), scope=str(fields["scope"]))


def _load_school(path: Path, intents: Mapping[str, Intent] | None, problems: _Problems) -> School | None:
    try:
        data = load_yaml(path)
    except YamlProblem as err:
        problems.items.append(str(err))
        return None
    if not isinstance(data, dict):
        problems.add(path, 1, "a knowledge file must be a mapping with school, sections and answers")
        return None
    meta = data.get("school")
    if not isinstance(meta, dict):
        problems.add(path, 1, "missing 'school' mapping (id, name, policy, version, source)")
        return None
    meta_line = line_of(meta)
    required = {key: _text(meta.get(key)) for key in ("id", "name", "policy", "version", "source")}
    for key, value in required.items():
        if value is None:
            problems.add(path, meta_line, f"school.{key} is missing")
    school_id = required["id"] or path.stem
    if school_id != path.stem:
        problems.add(path, meta_line, f"school.id {school_id!r} must match the file name {path.stem!r}")
    contacts_raw = data.get("contacts") or {}
    contacts = {str(k): str(v) for k, v in contacts_raw.items() if k != "__line__"} if isinstance(contacts_raw, dict) else {}
    sections = _load_sections(path, data.get("sections"), problems)
    answers = _load_answers(path, data.get("answers"), sections, intents, problems)
    name = required["name"] or school_id
    return School(
        id=school_id,
        name=name,
        short_name=_text(meta.get("short_name")) or name,
        policy=required["policy"] or "",
        version=required["version"] or "",
        source=(path.parent / (required["source"] or "")).resolve(),
        contacts=MappingProxyType(contacts),
        sections=MappingProxyType(sections),
        answers=MappingProxyType(answers),
        file=str(path),
        label=_text(meta.get("label")) or "",
        reply_promise=_load_reply_promise(path, meta.get("reply_promise"), sections, problems),
    )


def load_knowledge_base(*, intents_dir: Path, knowledge_dir: Path, schools: list[str] | None = None) -> KnowledgeBase:
    """Load intents and the schools' knowledge; raise KnowledgeError naming every problem.

    `schools` limits which schools are served (default: every file in knowledge_dir).
    """
    problems = _Problems()
    intents: dict[str, Intent] | None
    try:
        intents = load_intents(intents_dir)
    except KnowledgeError as err:
        problems.items.extend(err.problems)
        intents = None
    loaded: dict[str, School] = {}
    files = sorted(knowledge_dir.glob("*.yaml"))
    if not files:
        problems.add(knowledge_dir, 0, "no school knowledge files (*.yaml) found")
    for path in files:
        if schools is not None and path.stem not in schools:
            continue
        school = _load_school(path, intents, problems)
        if school is not None:
            loaded[school.id] = school
    for wanted in schools or []:
        if wanted not in loaded and not any(p.startswith(str(knowledge_dir / wanted)) for p in problems.items):
            problems.add(knowledge_dir, 0, f"configured school {wanted!r} has no knowledge file {wanted}.yaml")
    if problems.items:
        raise KnowledgeError(problems.items)
    assert intents is not None  # a failed load reported problems above
    return KnowledgeBase(
        intents=MappingProxyType(intents),
        schools=MappingProxyType(loaded),
    )


__all__ = [
    "AUDIENCES",
    "Answer",
    "FLOW_CONDITIONS",
    "Intent",
    "KINDS",
    "KnowledgeBase",
    "Outcome",
    "ReplyPromise",
    "School",
    "Section",
    "load_intents",
    "load_knowledge_base",
]
