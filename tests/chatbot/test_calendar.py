"""Due times keep the policy's promise: 24 hours or the next working day, on the school's clock."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from chatbot.calendar import WorkingCalendar
from chatbot.config import OfficeHours
from chatbot.errors import ConfigError

LONDON = ZoneInfo("Europe/London")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LONDON)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(hours=OfficeHours())  # 08:30-16:30, Monday to Friday


def due(cal: WorkingCalendar, received: datetime, urgent: bool = False) -> datetime:
    return cal.due_time(received, urgent=urgent).astimezone(LONDON)


def test_friday_after_closing_is_due_at_monday_closing(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 20, 17, 0)) == local(2026, 11, 23, 16, 30)


def test_friday_afternoon_is_due_monday_at_the_same_time(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 20, 15, 0)) == local(2026, 11, 23, 15, 0)


def test_weekday_in_hours_is_due_24_hours_later(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 24, 10, 15)) == local(2026, 11, 25, 10, 15)


def test_late_summer_bank_holiday_monday_is_skipped(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 8, 31))
    assert due(cal, local(2026, 8, 28, 15, 0)) == local(2026, 9, 1, 15, 0)
    assert due(cal, local(2026, 8, 28, 17, 0)) == local(2026, 9, 1, 16, 30)
    assert due(cal, local(2026, 8, 31, 11, 0)) == local(2026, 9, 1, 16, 30)  # received on the holiday


def test_easter_skips_good_friday_the_weekend_and_easter_monday(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2027, 3, 26))  # Good Friday
    assert not cal.is_working_day(date(2027, 3, 29))  # Easter Monday
    # Thursday 10:00 GMT; the clocks go forward on the Sunday, and the promise keeps the wall clock.
    result = cal.due_time(local(2027, 3, 25, 10, 0), urgent=False)
    assert result.astimezone(LONDON) == local(2027, 3, 30, 10, 0)
    assert result == datetime(2027, 3, 30, 9, 0, tzinfo=timezone.utc)


def test_received_on_easter_monday_is_due_tuesday_closing(cal: WorkingCalendar) -> None:
    assert due(cal, local(2027, 3, 29, 11, 0)) == local(2027, 3, 30, 16, 30)


def test_school_closure_week_pushes_the_promise_past_it() -> None:
    cal = WorkingCalendar(hours=OfficeHours(closures=((date(2026, 10, 26), date(2026, 10, 30)),)))
    assert not cal.is_working_day(date(2026, 10, 28))
    assert due(cal, local(2026, 10, 23, 15, 0)) == local(2026, 11, 2, 15, 0)
    assert due(cal, local(2026, 10, 27, 9, 0)) == local(2026, 11, 2, 16, 30)
    assert due(cal, local(2026, 10, 22, 15, 0)) == local(2026, 10, 23, 15, 0)  # before the closure: untouched


def test_before_opening_on_a_working_day_is_due_that_day_at_closing(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 24, 7, 0)) == local(2026, 11, 24, 16, 30)


def test_after_closing_is_due_next_working_day_at_closing(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 24, 17, 0)) == local(2026, 11, 25, 16, 30)


def test_opening_and_closing_instants(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 24, 8, 30)) == local(2026, 11, 25, 8, 30)  # open at 08:30 exactly
    assert due(cal, local(2026, 11, 24, 16, 30)) == local(2026, 11, 25, 16, 30)  # closed at 16:30 exactly


def test_weekend_is_due_monday_closing(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 11, 21, 10, 0)) == local(2026, 11, 23, 16, 30)


def test_christmas_and_boxing_day_observed(cal: WorkingCalendar) -> None:
    assert due(cal, local(2026, 12, 24, 12, 0)) == local(2026, 12, 29, 12, 0)


def test_urgent_is_due_at_once_in_utc(cal: WorkingCalendar) -> None:
    received = local(2026, 11, 21, 23, 5)  # a Saturday night
    result = cal.due_time(received, urgent=True)
    assert result == received
    assert result.tzinfo == timezone.utc


def test_results_are_utc(cal: WorkingCalendar) -> None:
    assert cal.due_time(local(2026, 7, 1, 10, 0), urgent=False).tzinfo == timezone.utc


def test_office_weekdays_and_hours_are_the_schools_own() -> None:
    cal = WorkingCalendar(hours=OfficeHours(opens=time(9, 0), closes=time(15, 0), weekdays=(0, 1, 2, 3)))
    assert not cal.is_working_day(date(2026, 11, 27))  # Friday
    assert due(cal, local(2026, 11, 26, 10, 0)) == local(2026, 11, 30, 10, 0)  # Thursday → Monday
    assert due(cal, local(2026, 11, 24, 15, 0)) == local(2026, 11, 25, 15, 0)  # 15:00 is closed


def test_naive_datetimes_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.due_time(datetime(2026, 11, 24, 10, 0), urgent=False)


def test_describe_due_uses_the_schools_clock(cal: WorkingCalendar) -> None:
    assert cal.describe_due(datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)) == "16:30 on Monday 23 November"
    assert cal.describe_due(datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)) == "15:00 on Tuesday 1 September"


def test_other_timezones() -> None:
    cal = WorkingCalendar(hours=OfficeHours(), timezone="America/New_York")
    result = cal.due_time(datetime(2026, 11, 24, 22, 0, tzinfo=timezone.utc), urgent=False)  # 17:00 in New York
    assert result.astimezone(ZoneInfo("America/New_York")) == datetime(2026, 11, 25, 16, 30, tzinfo=ZoneInfo("America/New_York"))


def test_impossible_calendars_are_configuration_errors() -> None:
    with pytest.raises(ConfigError):
        WorkingCalendar(hours=OfficeHours(weekdays=()))
    with pytest.raises(ConfigError):
        WorkingCalendar(hours=OfficeHours(opens=time(17, 0), closes=time(9, 0)))
    forever = WorkingCalendar(hours=OfficeHours(closures=((date(2026, 1, 1), date(2030, 1, 1)),)))
    with pytest.raises(ConfigError):
        forever.due_time(local(2026, 6, 1, 10, 0), urgent=False)
