"""Settings from one optional YAML file (default `chatbot.yaml`) plus the environment.

Secrets come from the environment; everything has a default, so with nothing
configured the console chat runs on the five seed schools.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatbot.errors import ConfigError
from chatbot.yamlfile import LINE_KEY, YamlProblem, line_of, load_yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path("chatbot.yaml")
CORE_KEYS = frozenset({"database", "intents_dir", "knowledge_dir", "schools", "timezone", "office_hours", "school_hours", "retention", "reply_promises"})
PLATFORM_KEYS = frozenset({"telegram", "slack"})  # each adapter reads (and checks) its own section
HOURS_KEYS = frozenset({"opens", "closes", "weekdays", "closures"})
RETENTION_KEYS = frozenset({"unsent_text_hours", "safeguarding_years"})


@dataclass(frozen=True, kw_only=True)
class OfficeHours:
    """When the office works, per school: opening hours, weekdays, closure dates."""

    opens: time = time(8, 30)
    closes: time = time(16, 30)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    closures: tuple[tuple[date, date], ...] = ()  # inclusive ranges


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """How long things are kept. Safeguarding records are kept far longer than anything else.

    `unsent_text_hours`: a concern's words typed into the intake but never sent
    are cleared after this long. `safeguarding_years`: a closed safeguarding record
    is only purged (and only with an explicit flag) once closed this long ago.
    """

    unsent_text_hours: float = 24.0
    safeguarding_years: int = 25


@dataclass(frozen=True, kw_only=True)
class Settings:
    db_path: Path = Path("chatbot.db")
    intents_dir: Path = PROJECT_ROOT / "intents"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    cache_dir: Path | None = PROJECT_ROOT / ".cache"  # example embeddings, trained weights; None: keep nothing
    schools: tuple[str, ...] | None = None  # None: every school in knowledge_dir
    timezone: str = "Europe/London"
    office_hours: OfficeHours = field(default_factory=OfficeHours)
    school_hours: Mapping[str, OfficeHours] = field(default_factory=dict)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    # What each school's office promises parents about replies to concerns raised here, in words
    # ("within two working days"). Unset: no time is promised. The office's own due times for
    # reminders come from the calendar (office hours), not from this.
    reply_promises: Mapping[str, str] = field(default_factory=dict)
    # Every other section of the config file (telegram:, slack:), unread: each adapter reads its own.
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def hours_for(self, school_id: str) -> OfficeHours:
        return self.school_hours.get(school_id, self.office_hours)


def as_list(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.replace(";", ",").split(",") if v.strip())
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ConfigError(f"expected a list, got {value!r}")


def _time(value: Any, where: str) -> time:
    if isinstance(value, int):  # YAML reads 08:30 as sexagesimal minutes
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a time like 08:30") from None


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date like 2026-12-21") from None


def _unknown_keys(raw: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k != LINE_KEY and k not in known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})")


def _hours(raw: Any, base: OfficeHours, where: str) -> OfficeHours:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: office hours must be a mapping")
    _unknown_keys(raw, HOURS_KEYS, where)
    closures: list[tuple[date, date]] = list(base.closures)
    for item in raw.get("closures") or []:
        if isinstance(item, dict):
            start = _date(item.get("from") or item.get("start"), where)
            end = _date(item.get("to") or item.get("end") or start, where)
        else:
            start = end = _date(item, where)
        if end < start:
            raise ConfigError(f"{where}: closure ends before it starts ({start} to {end})")
        closures.append((start, end))
    weekdays = raw.get("weekdays")
    if weekdays is not None and (not isinstance(weekdays, list) or not all(d in range(7) for d in weekdays)):
        raise ConfigError(f"{where}: weekdays are numbers 0 (Monday) to 6 (Sunday), e.g. [0, 1, 2, 3, 4]")
    hours = OfficeHours(
        opens=_time(raw["opens"], where) if "opens" in raw else base.opens,
        closes=_time(raw["closes"], where) if "closes" in raw else base.closes,
        weekdays=tuple(int(d) for d in weekdays) if weekdays else base.weekdays,
        closures=tuple(closures),
    )
    if hours.opens >= hours.closes:
        raise ConfigError(f"{where}: the office opens ({hours.opens:%H:%M}) after it closes ({hours.closes:%H:%M})")
    return hours


def _timezone(value: Any, where: str) -> str:
    name = str(value or "Europe/London")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {name!r} (use a name like Europe/London)") from None
    return name


def _key_line(path: Path, key: str) -> int:
    """The line a top-level key is on (scalars carry no line of their own), or 1."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, start=1) if line.startswith(f"{key}:")), 1)


def _section(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"config: '{key}' must be a mapping")
    return {k: v for k, v in value.items() if k != "__line__"}


def _retention(raw: Mapping[str, Any], where: str) -> RetentionPolicy:
    _unknown_keys(raw, RETENTION_KEYS, where)
    try:
        hours = float(raw.get("unsent_text_hours", RetentionPolicy.unsent_text_hours))
        years = int(raw.get("safeguarding_years", RetentionPolicy.safeguarding_years))
    except (TypeError, ValueError):
        raise ConfigError("retention: unsent_text_hours and safeguarding_years must be numbers") from None
    if hours <= 0 or years < 1:
        raise ConfigError("retention: unsent_text_hours must be above 0 and safeguarding_years at least 1")
    return RetentionPolicy(unsent_text_hours=hours, safeguarding_years=years)


def _promises(raw: Mapping[str, Any]) -> dict[str, str]:
    promises: dict[str, str] = {}
    for school_id, words in raw.items():
        if not isinstance(words, str) or not words.strip():
            raise ConfigError(f"reply_promises.{school_id}: give the promise in words, e.g. \"within two working days\"")
        promises[str(school_id)] = words.strip()
    return promises


def load_settings(config_path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (if any) and overlay the environment."""
    env = os.environ if env is None else env
    path = config_path or Path(env.get("CHATBOT_CONFIG", DEFAULT_CONFIG))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = load_yaml(path)
        except YamlProblem as err:
            raise ConfigError(str(err)) from err
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}:{line_of(loaded) or 1}: the config file must be a mapping")
        data = loaded or {}
    elif config_path is not None:
        raise ConfigError(f"{path}: no such config file")
    base = Path(path).resolve().parent

    def rel(value: Any, default: Path) -> Path:
        if value in (None, ""):
            return default
        p = Path(str(value)).expanduser()
        return p if p.is_absolute() else base / p

    def at(key: str, node: Any = None) -> str:
        return f"{path}:{line_of(node) or _key_line(path, key)}: {key}"

    for key in sorted(str(k) for k in data if k != LINE_KEY and k not in CORE_KEYS and k not in PLATFORM_KEYS):
        raise ConfigError(f"{at(key)}: unknown setting (known: {', '.join(sorted(CORE_KEYS | PLATFORM_KEYS))})")
    raw_office = data.get("office_hours") or {}
    office = _hours(raw_office, OfficeHours(), at("office_hours", raw_office))
    school_hours = {
        school_id: _hours(raw, office, f"{at('school_hours', raw)}.{school_id}")
        for school_id, raw in _section(data, "school_hours").items()
    }
    schools = as_list(env.get("CHATBOT_SCHOOLS") or data.get("schools")) or None

    return Settings(
        db_path=rel(env.get("CHATBOT_DB") or data.get("database"), Path.cwd() / "chatbot.db"),
        intents_dir=rel(data.get("intents_dir"), PROJECT_ROOT / "intents"),
        knowledge_dir=rel(data.get("knowledge_dir"), PROJECT_ROOT / "knowledge"),
        cache_dir=rel(env.get("CHATBOT_CACHE_DIR") or data.get("cache_dir"), PROJECT_ROOT / ".cache"),
        schools=schools,
        timezone=_timezone(data.get("timezone"), at("timezone")),
        office_hours=office,
        school_hours=school_hours,
        retention=_retention(_section(data, "retention"), at("retention", data.get("retention"))),
        reply_promises=_promises(_section(data, "reply_promises")),
        platforms={
            str(key): _section(data, key) for key, value in data.items() if key not in CORE_KEYS and isinstance(value, dict)
        },
    )


def platform_setting(
    settings: Settings, platform: str, env: Mapping[str, str] | None = None
) -> Callable[[str, str], Any]:
    """How an adapter reads one of its settings: the environment variable first, then its config section."""
    environ = os.environ if env is None else env
    section: Mapping[str, Any] = settings.platforms.get(platform, {})
    return lambda name, key: environ.get(name) or section.get(key)
