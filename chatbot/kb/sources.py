"""Reading a school's policy as plain text, whatever it came as: .txt, .docx or .pdf.

The text returned is what the knowledge file's sections must quote word for word,
so it is kept as extracted (only line endings are normalised).
"""

from __future__ import annotations

from pathlib import Path

from chatbot.errors import UserError

SUPPORTED = (".txt", ".docx", ".pdf")


class UnreadablePolicy(UserError):
    """The policy file could not be read as text."""


def read_policy(path: Path) -> str:
    """The policy's text. Raises UnreadablePolicy with a kind message for a missing, unknown or broken file."""
    if not path.is_file():
        raise UnreadablePolicy(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".txt":
            text = _read_txt(path)
        elif suffix == ".docx":
            text = _read_docx(path)
        elif suffix == ".pdf":
            text = _read_pdf(path)
        else:
            raise UnreadablePolicy(f"{path}: I can read {', '.join(SUPPORTED)} files, not {suffix or 'files without an extension'}")
    except UnreadablePolicy:
        raise
    except Exception as error:  # a damaged document: say which file, never a traceback
        raise UnreadablePolicy(f"{path}: could not read this {suffix} file ({type(error).__name__})") from error
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UnreadablePolicy(f"{path}: no text found (a scanned PDF needs OCR first)")
    return text


def _read_txt(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _read_docx(path: Path) -> str:
    import docx  # python-docx: imported only when a .docx is drafted

    document = docx.Document(str(path))
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)
