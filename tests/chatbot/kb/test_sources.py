"""read_policy: .txt, .docx and .pdf read as text; anything else is a kind error."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.kb.sections import split_sections
from chatbot.kb.sources import UnreadablePolicy, read_policy
from tests.chatbot.kb.policy_files import PARAGRAPHS, write_docx, write_pdf, write_txt


@pytest.mark.parametrize("write", [write_txt, write_docx, write_pdf], ids=["txt", "docx", "pdf"])
def test_each_format_reads_into_sections_at_its_headings(tmp_path: Path, write: object) -> None:
    path = write(tmp_path / f"policy.{write.__name__[6:]}")  # type: ignore[operator]
    text = read_policy(path)
    sections = split_sections(text)
    assert {s.title for s in sections} >= {h for h, _ in PARAGRAPHS}
    photos = next(s for s in sections if s.title == "Photographs")
    assert " ".join(photos.text.split()) == PARAGRAPHS[0][1]


def test_an_unknown_format_or_missing_file_is_a_kind_error(tmp_path: Path) -> None:
    (tmp_path / "policy.odt").write_text("x")
    with pytest.raises(UnreadablePolicy, match="not .odt"):
        read_policy(tmp_path / "policy.odt")
    with pytest.raises(UnreadablePolicy, match="no such file"):
        read_policy(tmp_path / "absent.txt")
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    with pytest.raises(UnreadablePolicy, match="could not read"):
        read_policy(tmp_path / "broken.docx")
