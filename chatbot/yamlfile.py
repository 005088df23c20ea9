"""Read YAML while remembering where each mapping came from, so errors can name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LINE_KEY = "__line__"


_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader that stamps every mapping with the 1-based line it starts on."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = dict(loader.construct_mapping(node, deep=True))
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date-looking value that is no real date (2026-02-30) stays text, for the reader to reject by name."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class YamlProblem(Exception):
    """A file that is not valid YAML; the message names file and line."""


def load_yaml(path: Path) -> Any:
    """Parse `path`; syntax errors become a `YamlProblem` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise YamlProblem(f"{path}: cannot read: {err}") from err
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise YamlProblem(f"{path}:{line}: invalid YAML: {err.problem or err}") from err
    except yaml.YAMLError as err:
        raise YamlProblem(f"{path}: invalid YAML: {err}") from err


def line_of(value: Any) -> int:
    """The line a mapping started on, or 0 when unknown."""
    if isinstance(value, dict):
        line = value.get(LINE_KEY, 0)
        return line if isinstance(line, int) else 0
    return 0
