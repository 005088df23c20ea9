"""The house rules the redesign set, kept by a test: the core knows no platform, and rooms stay small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
PLATFORM_PACKAGES = ("adapters", "cli", "telegram", "slack_bolt", "slack_sdk", "aiohttp")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_no_adapter_cli_or_platform_library() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules("chatbot")
        for name in _imports(path)
        if name.split(".")[0] in PLATFORM_PACKAGES
    }
    assert not offenders, sorted(offenders)


def test_the_scan_sees_an_adapter_import(tmp_path: Path) -> None:
    """The import scan itself can fail: a module that imports an adapter is caught."""
    module = tmp_path / "bad.py"
    module.write_text("from adapters.telegram import TelegramAdapter\nimport slack_sdk\n")
    assert {"adapters.telegram", "slack_sdk"} <= _imports(module)


def test_no_module_in_the_core_or_the_adapters_passes_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for package in ("chatbot", "adapters")
        for path in _modules(package)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long
