"""The ICT service desk's SLA clocks (DESIGN §5): working hours 08:00–18:00 Monday to
Friday in America/Sao_Paulo, public holidays excluded, paused while waiting on the
requester, recomputed when the priority changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jof.core.calendar import Holiday, WorkingCalendar
from jof.ict import sla

SP = ZoneInfo("America/Sao_Paulo")


def brazil(holidays=()) -> WorkingCalendar:
    return WorkingCalendar("America/Sao_Paulo", 8 * 60, 18 * 60, set(holidays))


def at(y, m, d, hh, mm=0) -> datetime:
    """A facility-local wall-clock time, as the UTC instant it is stored as."""
    return datetime(y, m, d, hh, mm, tzinfo=SP).astimezone(UTC)


def ticket(opened_at: datetime, priority: str, status: str = "in_progress"):
    t = SimpleNamespace(opened_at=opened_at, priority=priority, paused_seconds=0, paused_since=None,
                        own_due_at=None, resolve_due_at=None, owned_at=None,
                        request=SimpleNamespace(status=status, sla_due_at=None))
    return t


def test_p1_opened_friday_16h_is_due_monday_10h():
    own, resolve = sla.due_times(brazil(), at(2026, 3, 13, 16), "P1")  # Friday 13 March 2026

    assert resolve == at(2026, 3, 16, 10)  # Monday
    assert resolve.astimezone(SP).strftime("%A %H:%M") == "Monday 10:00"
    assert own == at(2026, 3, 13, 17)


def test_opened_before_working_hours_starts_counting_at_eight():
    own, resolve = sla.due_times(brazil(), at(2026, 3, 16, 6, 30), "P2")

    assert own == at(2026, 3, 16, 10)
    assert resolve == at(2026, 3, 16, 16)


@pytest.mark.parametrize("priority, own_hours, resolve_hours", [
    ("P1", 1, 4), ("P2", 2, 8), ("P3", 4, 24), ("P4", 8, 64)])
def test_targets_per_priority_are_the_design_defaults(priority, own_hours, resolve_hours):
    assert sla.SLA_TARGETS[priority] == (timedelta(hours=own_hours), timedelta(hours=resolve_hours))


def test_p4_resolve_target_spans_six_and_a_half_working_days():
    # 64 working hours of 10-hour days from Monday 08:00: 6 days and 4 hours → the next
    # Tuesday 12:00 (the weekend does not count).
    _own, resolve = sla.due_times(brazil(), at(2026, 3, 16, 8), "P4")
    assert resolve == at(2026, 3, 24, 12)


def test_public_holiday_is_skipped(session, demo):
    # Good Friday 2026 (Paixão de Cristo) is a national holiday in Brazil (the demo loads
    # it when it runs in 2025 or 2026).
    if session.scalar(select(Holiday.id).where(Holiday.day == date(2026, 4, 3))) is None:
        session.add(Holiday(day=date(2026, 4, 3), name="Paixão de Cristo"))
        session.flush()
    cal = WorkingCalendar.of_facility()

    _own, resolve = sla.due_times(cal, at(2026, 4, 2, 16), "P1")  # Thursday 16:00

    assert resolve == at(2026, 4, 6, 10)  # Thursday 2 h, holiday, weekend, Monday 2 h
    # Without the holiday row the same ticket would be due on Friday.
    assert sla.due_times(brazil(), at(2026, 4, 2, 16), "P1")[1] == at(2026, 4, 3, 10)


def test_pause_of_three_working_hours_moves_the_due_time_by_three_working_hours():
    cal = brazil()
    clock = sla.Clock(cal)
    t = ticket(at(2026, 3, 16, 9), "P2")  # Monday 09:00, P2: 8 working hours
    clock.open(t, at(2026, 3, 16, 9))
    due_before = t.resolve_due_at
    assert due_before == at(2026, 3, 16, 17)

    t.request.status = "waiting_on_requester"
    clock.pause(t, at(2026, 3, 16, 17))  # Monday 17:00 …
    assert t.request.sla_due_at is None  # a stopped clock is not due (nor breached)
    t.request.status = "in_progress"
    clock.resume(t, at(2026, 3, 17, 10))  # … to Tuesday 10:00: 1 h + 2 h of working time

    assert t.paused_seconds == 3 * 3600
    assert t.resolve_due_at == cal.add(due_before, timedelta(hours=3))
    assert t.resolve_due_at == at(2026, 3, 17, 10)  # Monday 17:00 + 3 working hours
    assert t.request.sla_due_at == t.resolve_due_at


def test_time_left_is_frozen_while_paused():
    cal = brazil()
    clock = sla.Clock(cal)
    t = ticket(at(2026, 3, 16, 8), "P1")
    clock.open(t, at(2026, 3, 16, 8))
    t.request.status = "waiting_on_requester"
    clock.pause(t, at(2026, 3, 16, 9))

    assert clock.time_left(t, at(2026, 3, 16, 11)) == timedelta(hours=3)
    assert clock.time_left(t, at(2026, 3, 19, 15)) == timedelta(hours=3)


def test_time_left_is_negative_once_late():
    cal = brazil()
    clock = sla.Clock(cal)
    t = ticket(at(2026, 3, 16, 8), "P1")
    clock.open(t, at(2026, 3, 16, 8))

    assert clock.time_left(t, at(2026, 3, 16, 13, 30)) == -timedelta(hours=1, minutes=30)
    assert clock.time_left(t, at(2026, 3, 17, 9)) == -timedelta(hours=7)  # 12:00 → 18:00, 08:00 → 09:00


def test_evening_in_sao_paulo_is_already_the_next_day_in_utc():
    # Thursday 2 April 2026 at 22:00 in Brasília is Friday 01:00 UTC. Friday is a holiday
    # there (Good Friday); a calendar reading the UTC date would count Thursday as over and
    # Friday as the holiday by accident, or start the clock at the wrong day's 08:00.
    opened = at(2026, 4, 2, 22)
    assert opened.date() == date(2026, 4, 3) and opened.astimezone(SP).date() == date(2026, 4, 2)
    cal = brazil({date(2026, 4, 3)})

    own, resolve = sla.due_times(cal, opened, "P1")

    assert own == at(2026, 4, 6, 9) == datetime(2026, 4, 6, 12, 0, tzinfo=UTC)
    assert resolve == at(2026, 4, 6, 12) == datetime(2026, 4, 6, 15, 0, tzinfo=UTC)


def test_evening_without_holiday_counts_from_the_next_local_morning():
    # Monday 16 March 2026 at 21:30 local is Tuesday 00:30 UTC: the clock starts on
    # Tuesday at 08:00 local (11:00 UTC), not at 08:00 UTC.
    _own, resolve = sla.due_times(brazil(), at(2026, 3, 16, 21, 30), "P1")
    assert resolve == datetime(2026, 3, 17, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("urgency, impact, priority", [
    ("high", "high", "P1"), ("high", "medium", "P2"), ("high", "low", "P3"),
    ("medium", "high", "P2"), ("medium", "medium", "P3"), ("medium", "low", "P4"),
    ("low", "high", "P3"), ("low", "medium", "P4"), ("low", "low", "P4")])
def test_priority_matrix(urgency, impact, priority):
    assert sla.priority_of(sla.LEVELS[urgency], sla.LEVELS[impact]) == priority


def test_priority_change_recomputes_due_times_from_the_opening():
    cal = brazil()
    clock = sla.Clock(cal)
    t = ticket(at(2026, 3, 13, 16), "P4")
    clock.open(t, at(2026, 3, 13, 16))
    assert t.resolve_due_at == cal.add(at(2026, 3, 13, 16), timedelta(hours=64))

    t.priority = "P1"
    clock.recompute(t)

    assert t.resolve_due_at == at(2026, 3, 16, 10)
    assert t.own_due_at == at(2026, 3, 13, 17)
    assert t.request.sla_due_at == t.resolve_due_at


def test_format_working():
    assert sla.format_working(timedelta(hours=3, minutes=5)) == "3 h 05 min"
    assert sla.format_working(-timedelta(minutes=20)) == "-0 h 20 min"
    assert sla.format_working(None) == "—"
