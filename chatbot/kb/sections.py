"""Splitting a policy's text into sections at its headings, each a word-for-word passage.

Policies arrive as plain text with little structure, so headings are recognised the
way a reader would: a short line on its own, not a sentence, not a list item. Under
each heading, paragraphs become sections; a list becomes one section per item; a
very long paragraph (some policies are one line) is cut at sentence ends. Every
section's text is a substring of the source, so `kb check` finds it word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.knowledge import Section

MAX_HEADING_CHARS = 80
MAX_HEADING_WORDS = 12
LONG_PARAGRAPH_CHARS = 700  # longer than this, a paragraph is cut into passages of about...
PASSAGE_CHARS = 350  # ...this many characters, at sentence ends
_ITEM = re.compile(r"^\s*(?:[-•·*–]|\d{1,2}[.)])\s*")
_NOISE = re.compile(r"^(?:page \d+|-+|signed|\d+)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"‘'(])|\s+(?=·\s)")


@dataclass(frozen=True)
class _Block:
    text: str
    line: int  # 1-based line of its first line in the source


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if current and is_heading(line) and current[-1][-1:] in ".?!:":
            # A heading with no blank line around it (PDFs): it follows a finished sentence, so it
            # is not the wrapped end of one.
            blocks.append(_Block("\n".join(current), start))
            current = []
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append(_Block("\n".join(current), start))
            current = []
    if current:
        blocks.append(_Block("\n".join(current), start))
    return blocks


def is_heading(text: str) -> bool:
    """A short line standing alone that reads as a title, not a sentence or a list item."""
    line = text.strip()
    if "\n" in line or not line or len(line) > MAX_HEADING_CHARS or len(line.split()) > MAX_HEADING_WORDS:
        return False
    if _ITEM.match(line) or line[-1] in ".,;:" or not any(ch.isalpha() for ch in line):
        return False
    first = next(ch for ch in line if ch.isalnum())
    return first.isupper() or first.isdigit()


def _passages(block: _Block) -> list[str]:
    """A block as passages: list items one by one, long paragraphs cut at sentence ends."""
    lines = block.text.split("\n")
    items = [line for line in lines if _ITEM.match(line)]
    if len(lines) > 1 and len(items) >= len(lines) - 1:
        return [line for line in lines if any(ch.isalpha() for ch in line)]
    if len(block.text) <= LONG_PARAGRAPH_CHARS:
        return [block.text]
    passages: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(block.text):
        if current and len(current) + len(sentence) > PASSAGE_CHARS:
            passages.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        passages.append(current)
    return passages


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-") or "section"


def split_sections(text: str, *, first_title: str = "Introduction") -> list[Section]:
    """The policy as sections, in order; titles are its own headings."""
    sections: list[Section] = []
    used: dict[str, int] = {}
    title = first_title
    for block in _blocks(text):
        if _NOISE.match(block.text.strip()):
            continue
        if is_heading(block.text):
            title = block.text.strip()
            continue
        while True:  # headings run into their text (PDFs): peel them off the top
            first, _, rest = block.text.partition("\n")
            if not (rest and is_heading(first) and len(first) < 0.6 * max(len(line) for line in rest.split("\n"))):
                break
            title, block = first, _Block(rest, block.line + 1)
        for passage in _passages(block):
            base = _slug(title)
            used[base] = used.get(base, 0) + 1
            section_id = base if used[base] == 1 else f"{base}-{used[base]}"
            sections.append(Section(id=section_id, title=title, text=passage, line=block.line))
    return sections
