"""Each measure on the hand-made month of ``conftest.month``, against answers worked out
by hand (working hours on the São Paulo calendar, 10 a day)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.core.db import db
from jof.core.people import Agency
from jof.monitoring import measures
from jof.monitoring.measures import Filters
from jof.monitoring.models import RequestClock
from tests.monitoring.conftest import KIND

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def _agency(code: str) -> int:
    return db.session.scalar(select(Agency.id).where(Agency.code == code))


def _clock(reference: str) -> RequestClock:
    from jof.core.workflow import ServiceRequest

    return db.session.scalar(select(RequestClock).join(ServiceRequest, ServiceRequest.id == RequestClock.request_id)
                             .where(ServiceRequest.reference == reference))


def test_week_end_and_holiday_do_not_count_in_working_time(app, month):
    with app.app_context():
        c = _clock(month["weekend"])
        # Thursday 10:00-18:00 (8 h), Friday the holiday, the week-end, Monday 08:00-12:00 (4 h).
        assert c.working_seconds == 12 * 3600
        assert c.within_target is True and c.late_step is None
        assert c.target_seconds == 50 * 3600


def test_breached_request_names_the_step_that_was_late(app, month):
    with app.app_context():
        c = _clock(month["late"])
        # 10 h on the 3rd, 50 h more until the work started on the 11th (60 h: past the
        # 50 h target at that step), then 12 h to completion.
        assert c.working_seconds == 72 * 3600
        assert c.within_target is False
        assert c.late_step == "start"
        rows = measures.breaches(Filters(*NOVEMBER))
        assert [(r["reference"], r["late_step"], r["hours"]) for r in rows] == [
            (month["late"], "start", Decimal("72.00"))]


def test_median_p90_and_share_within_target_for_one_agency(app, month):
    with app.app_context():
        (row,) = measures.processing_times(Filters(*NOVEMBER, agency_id=_agency("UNDP")))
        assert row["kind"] == KIND and row["count"] == 3
        assert row["median_hours"] == Decimal("12.00")  # 2, 12, 72
        assert row["p90_hours"] == Decimal("60.00")  # 12 + 0.8 × (72 − 12)
        assert row["within_share"] == Decimal("66.7") and row["breached"] == 1
        assert row["target_hours"] == Decimal("50.00")


def test_facility_totals_interpolate_like_percentile_cont(app, month):
    with app.app_context():
        (row,) = measures.processing_times(Filters(*NOVEMBER))
        assert row["count"] == 4
        assert row["median_hours"] == Decimal("11.00")  # 2, 10, 12, 72 → 10 + 0.5 × 2
        assert row["p90_hours"] == Decimal("54.00")  # 12 + 0.7 × 60
        assert row["within_share"] == Decimal("75.0")


def test_period_outside_the_clocks_has_no_processing_times(app, month):
    with app.app_context():
        assert measures.processing_times(Filters(date(2026, 10, 1), date(2026, 10, 31))) == []


def test_volumes_count_submitted_completed_and_open(app, month):
    with app.app_context():
        (undp,) = measures.volumes(Filters(*NOVEMBER, agency_id=_agency("UNDP")))
        assert undp == {"line": "procurement", "submitted": 5, "completed": 3, "open": 3}
        (everyone,) = measures.volumes(Filters(*NOVEMBER))
        assert everyone["completed"] == 4 and everyone["submitted"] == 6


def test_backlog_bands_count_working_days_since_submission(app, month):
    with app.app_context():
        (row,) = measures.backlog(Filters(*NOVEMBER, agency_id=_agency("UNDP")), today=date(2026, 11, 30))
        # The 30th: 0 days; the 16th: 9 working days (the 20th is a holiday); 3 August: > 45.
        assert row == {"line": "procurement", "0-5": 1, "6-15": 1, "16-45": 0, ">45": 1}


def test_a_clock_is_written_once_per_request_and_kind(app, month):
    with app.app_context():
        n = db.session.scalar(select(db.func.count(RequestClock.id)))
        assert n == 4
