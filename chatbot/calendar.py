"""When the office owes a parent an answer: the policy's "24 hours or the next working day".

Weekends, bank holidays in England and Wales, a school's closure dates and its
office hours all push the promise on; an urgent concern is due at once. All
reasoning happens on the school's wall clock, results are returned in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from chatbot.config import OfficeHours
from chatbot.errors import ConfigError

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_SEARCH_DAYS = 400  # a year of closures is a configuration mistake, not a schedule


@cache
def _bank_holidays() -> holidays.HolidayBase:
    """One shared England-and-Wales holiday table; it fills in years as they are asked about."""
    return holidays.country_holidays("GB", subdiv="ENG")


class WorkingCalendar:
    """One school's working days and office hours, in its own timezone."""

    def __init__(self, *, hours: OfficeHours, timezone: str = "Europe/London") -> None:
        if not hours.weekdays:
            raise ConfigError("office hours need at least one working weekday")
        if hours.opens >= hours.closes:
            raise ConfigError(f"the office must open before it closes ({hours.opens} to {hours.closes})")
        self.hours = hours
        self.tz = ZoneInfo(timezone)
        self._holidays = _bank_holidays()

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.hours.weekdays or day in self._holidays:
            return False
        return not any(start <= day <= end for start, end in self.hours.closures)

    def next_working_day(self, after: date) -> date:
        """The first working day strictly after `after`."""
        day = after
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ConfigError(f"no working day within {_SEARCH_DAYS} days of {after}: check the closure dates")

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(timezone.utc)

    def due_time(self, received: datetime, *, urgent: bool) -> datetime:
        """When the answer is owed, in UTC.

        During office hours: the same clock time a day later, moved on to the next
        working day if that day is not one. Outside them: closing time of the next
        working day (today's, if it is a working day and the office has not opened).
        """
        if received.tzinfo is None:
            raise ValueError("due_time needs an aware datetime")
        if urgent:
            return received.astimezone(timezone.utc)
        local = received.astimezone(self.tz)
        today, clock = local.date(), local.time().replace(tzinfo=None)
        opens, closes = self.hours.opens, self.hours.closes
        if self.is_working_day(today) and opens <= clock < closes:
            target = today + timedelta(days=1)
            if not self.is_working_day(target):
                target = self.next_working_day(target)
            return self._at(target, min(clock, closes))
        if self.is_working_day(today) and clock < opens:
            return self._at(today, closes)
        return self._at(self.next_working_day(today), closes)

    def describe_due(self, moment: datetime) -> str:
        """Words for a due time on the school's clock, e.g. "16:30 on Monday 23 November"."""
        local = moment.astimezone(self.tz)
        return f"{local:%H:%M} on {_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"

