"""JOF's one clock: ``clock_at`` holds utcnow() and the facility's today for a block."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jof.core.calendar import local_now, local_today
from jof.core.timeutil import clock_at, utcnow


def test_utcnow_reads_the_held_moment_inside_the_block_and_the_real_time_after():
    moment = datetime(2025, 3, 14, 12, 30, tzinfo=UTC)
    with clock_at(moment):
        assert utcnow() == moment
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_facility_today_follows_the_held_clock_in_its_time_zone(demo, app):
    # 31 December 2025 at 23:30 in UTC is still 31 December at 20:30 in Brasília …
    with app.app_context(), clock_at(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)):
        assert local_today() == date(2025, 12, 31)
        assert local_now().hour == 20
    # … and 1 January at 03:30 UTC is 1 January at 00:30 there.
    with app.app_context(), clock_at(datetime(2026, 1, 1, 3, 30, tzinfo=UTC)):
        assert local_today() == date(2026, 1, 1)


def test_a_nested_block_gives_the_outer_moment_back_on_leaving():
    outer, inner = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    with clock_at(outer):
        with clock_at(inner):
            assert utcnow() == inner
        assert utcnow() == outer


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError):
        with clock_at(datetime(2025, 1, 1)):
            pass
