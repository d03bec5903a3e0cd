"""The facility's working calendar: working hours on weekdays, minus public holidays.

SLA clocks (ICT tickets, procurement steps) count only working time, in the facility's
time zone, so a P1 ticket opened on Friday at 16:00 with four working hours to resolve
is due on Monday at 10:00 (with 08:00–18:00 working hours).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from jof.core.db import db
from jof.core.people import Facility


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
