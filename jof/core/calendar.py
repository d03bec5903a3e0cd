"""The facility's calendar: its local date and time, months, and working hours.

Every line asks here for "today at the facility", reads ``YYYY-MM`` months and steps
to the next month, so the rules are the same everywhere: a month is ``YYYY-MM`` from
2000-01 to 2099-12 (a year like 9999 would overflow the month after it), and "today"
is the date in the facility's time zone, not in UTC.

The working calendar counts working hours on weekdays, minus public holidays.

SLA clocks (ICT tickets, procurement steps) count only working time, in the facility's
time zone, so a P1 ticket opened on Friday at 16:00 with four working hours to resolve
is due on Monday at 10:00 (with 08:00–18:00 working hours).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g, has_app_context
from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.people import Facility
from jof.core.timeutil import utcnow

#: Months JOF accepts anywhere.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MONTH_MESSAGE = "Expected a month as YYYY-MM, from 2000-01 to 2099-12."
_MONTH = re.compile(r"(20\d{2})-(0[1-9]|1[0-2])", re.ASCII)


def facility_zone() -> ZoneInfo:
    """The facility's time zone (UTC before the facility is set up), read once per request:
    a page formats dozens of times, and the session does not keep the facility row alive
    between them, so each would be a statement."""
    cached = g.get("_jof_facility_zone") if has_app_context() else None
    if cached is not None:
        return cached
    facility = db.session.get(Facility, 1)
    zone = ZoneInfo(facility.time_zone if facility else "UTC")
    if facility is not None and has_app_context():
        g._jof_facility_zone = zone
    return zone


def local_now() -> datetime:
    """Now at the facility, read from JOF's one clock (:func:`jof.core.timeutil.utcnow`)."""
    return utcnow().astimezone(facility_zone())


def local_today() -> date:
    """Today at the facility: 31 December at 22:00 in Brasília is still 31 December."""
    return local_now().date()


def local_date(moment: datetime) -> date:
    """The facility's date of an instant (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(facility_zone()).date()


def parse_month(text: str | None, field: str = "month") -> date:
    """``2026-03`` → 1 March 2026; anything else is a 422 naming ``field``."""
    found = _MONTH.fullmatch((text or "").strip()) if isinstance(text, str) else None
    if found is None:
        raise ValidationFailed({field: [MONTH_MESSAGE]})
    return date(int(found[1]), int(found[2]), 1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s."""
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


class Holiday(db.Model):
    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class WorkingCalendar:
    """Working-time arithmetic for one facility; holidays are loaded once per instance."""

    def __init__(self, tz: str, start_minute: int, end_minute: int, holidays: set[date]):
        self.tz = ZoneInfo(tz)
        self.start = time(start_minute // 60, start_minute % 60)
        self.end = time(end_minute // 60, end_minute % 60)
        self.holidays = holidays

    @classmethod
    def of_facility(cls, facility: Facility | None = None) -> WorkingCalendar:
        facility = facility or db.session.get(Facility, 1)
        holidays = set(db.session.scalars(select(Holiday.day)))
        if facility is None:
            return cls("UTC", 8 * 60, 18 * 60, holidays)
        return cls(facility.time_zone, facility.work_start_minute, facility.work_end_minute, holidays)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, self.tz), datetime.combine(day, self.end, self.tz))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of working time has passed after ``start``."""
        remaining = duration
        local = start.astimezone(self.tz)
        day = local.date()
        cursor = local
        for _ in range(3660):  # ten years of days: a bound, not a limit anyone meets
            if self.is_working_day(day):
                open_at, close_at = self._window(day)
                begin = max(cursor, open_at)
                if begin < close_at:
                    available = close_at - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), self.tz)
        raise ValueError("duration too long for the working calendar")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero if end is before start)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_working_day(day):
                open_at, close_at = self._window(day)
                a, b = max(open_at, start), min(close_at, end)
                if b > a:
                    total += b - a
            day += timedelta(days=1)
        return total

    def add_working_days(self, day: date, days: int) -> date:
        current = day
        while days > 0:
            current += timedelta(days=1)
            if self.is_working_day(current):
                days -= 1
        return current
