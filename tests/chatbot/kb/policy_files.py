"""Small policies as .txt, .docx and .pdf, made in the test with the real libraries."""

from __future__ import annotations

from pathlib import Path

import docx
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

PARAGRAPHS = [
    ("Photographs", "We ask that photographs from school events that you publish on social media do not include other children."),
    ("Age limits", "Facebook's terms of service do not allow anyone under the age of 13 to open an account."),
    ("Complaints", "If you have a concern about the school, please come and speak to us rather than complaining on Facebook."),
]


def write_txt(path: Path) -> Path:
    path.write_text("Oak Primary Social Media Policy\n\n" + "\n\n".join(f"{h}\n\n{t}" for h, t in PARAGRAPHS) + "\n")
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Oak Primary Social Media Policy", level=1)
    for heading, text in PARAGRAPHS:
        document.add_heading(heading, level=2)
        document.add_paragraph(text)
    document.save(str(path))
    return path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path) -> Path:
    writer = PdfWriter()
    page = writer.add_blank_page(width=842, height=595)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })  # fmt: skip
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    lines = ["Oak Primary Social Media Policy"] + [line for pair in PARAGRAPHS for line in pair]
    body = " ".join(f"({_escape(line)}) Tj 0 -16 Td" for line in lines)
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 10 Tf 40 560 Td {body} ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)
    return path
