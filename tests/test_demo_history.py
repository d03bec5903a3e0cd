"""The demo history (``jof demo history``): months of the pilot played through the services.

Each test generates two whole months (July and August 2026, so the figures do not depend
on the day the tests run) on a fresh database.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from jof import demo, demo_history
from jof.billing.models import BillingPeriod, Charge, Invoice
from jof.core.audit import AuditEvent
from jof.core.calendar import local_today, previous_month
from jof.core.db import db
from jof.core.people import Agency
from jof.core.workflow import ServiceRequest
from jof.governance.models import AllocationShare, CostPool, CostSharingKey, Decision
from jof.ict.models import IctTicket
from tests.conftest import TEST_PASSWORD, empty_tables

NOW = datetime(2026, 9, 10, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
END = date(2026, 9, 1)
MONTHS = [date(2026, 7, 1), date(2026, 8, 1)]
#: 1 September 2026, 00:00 in Brasília.
BEFORE_END = datetime(2026, 9, 1, tzinfo=ZoneInfo("America/Sao_Paulo"))
#: A guard against a runaway agenda on a busy machine, not a speed target (bench/ holds those).
CEILING_SECONDS = 600


def _generate(app, months: int = 2, seed: int = 2026):
    with app.app_context():
        with demo_history.founding_clock(MONTHS[0]):
            demo.load(TEST_PASSWORD, since=MONTHS[0], until=END)
        db.session.commit()
        result = demo_history.generate(months, seed=seed, now=NOW, on_month=lambda _m: db.session.commit())
        db.session.commit()
        db.session.remove()
        return result


def _figures(app) -> dict:
    """What a dashboard would show, row by row."""
    with app.app_context():
        s = db.session
        figures = {
            "requests": s.execute(select(ServiceRequest.reference, ServiceRequest.status, ServiceRequest.amount_usd,
                                         ServiceRequest.created_at, ServiceRequest.completed_at)
                                  .order_by(ServiceRequest.reference)).all(),
            "invoices": s.execute(select(Invoice.number, Agency.code, Invoice.period, Invoice.total_usd)
                                  .join(Agency).order_by(Invoice.number)).all(),
            "charges": s.execute(select(Charge.source_ref, Charge.period, Charge.amount)
                                 .order_by(Charge.source_ref)).all(),
            "decisions": s.execute(select(Decision.title, Decision.outcome, Decision.resolution_number)
                                   .order_by(Decision.id)).all(),
            "audit_events": s.scalar(select(func.count()).select_from(AuditEvent)),
        }
        db.session.remove()
        return figures


def test_two_months_of_history_load_through_every_line_in_bounded_time(app):
    started = time.monotonic()
    result = _generate(app)
    assert time.monotonic() - started < CEILING_SECONDS
    assert result.months == MONTHS
    with app.app_context():
        by_type = dict(db.session.execute(select(ServiceRequest.request_type, func.count())
                                          .group_by(ServiceRequest.request_type)).all())
        assert set(by_type) == {"procurement", "travel", "ict_ticket", "ict_subscription"}
        completed = dict(db.session.execute(
            select(ServiceRequest.request_type, func.count()).where(ServiceRequest.status == "completed")
            .group_by(ServiceRequest.request_type)).all())
        assert completed["procurement"] >= 2 and completed["travel"] >= 3
        # Every ticket of the whole months was resolved, and some after their SLA target.
        assert db.session.scalar(select(func.count()).select_from(IctTicket).join(IctTicket.request).where(
            IctTicket.resolved_at.is_(None), ServiceRequest.created_at < BEFORE_END)) == 0
        assert db.session.scalar(select(func.count()).select_from(IctTicket).where(IctTicket.resolve_breached)) >= 1
        lines = set(db.session.scalars(select(Charge.service_line).distinct()))
        assert lines == {"procurement", "travel", "ict"}
        # Acting in the past: nothing happened after the history's present.
        assert db.session.scalar(select(func.max(AuditEvent.at))) <= NOW


def test_the_current_month_is_played_up_to_now_and_leaves_work_open(app):
    _generate(app)
    with app.app_context():
        this_month = select(ServiceRequest).where(ServiceRequest.created_at >= BEFORE_END)
        filed = db.session.scalars(this_month).all()
        assert filed
        assert any(sr.status not in ("completed", "closed", "rejected", "cancelled") for sr in filed)
        assert db.session.scalar(select(BillingPeriod.status).where(BillingPeriod.month == END)) != "closed"


def test_the_same_seed_gives_the_same_history_twice(app):
    _generate(app)
    first = _figures(app)
    empty_tables(app)
    _generate(app)
    assert _figures(app) == first
    assert first["invoices"] and first["requests"]


def test_another_seed_gives_another_history(app):
    _generate(app)
    first = _figures(app)
    empty_tables(app)
    _generate(app, seed=7)
    assert _figures(app)["requests"] != first["requests"]


def test_the_audit_trail_verifies_after_the_history(app):
    _generate(app)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit trail intact" in result.output


def test_invoice_numbers_are_gapless_per_year(app):
    _generate(app)
    with app.app_context():
        numbers = db.session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))).all()
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        found = re.fullmatch(r"JOF-(\d{4})-(\d{5})", number)
        assert found, number
        by_year.setdefault(found[1], []).append(int(found[2]))
    assert by_year
    for year, seqs in by_year.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), year


def test_every_month_is_closed_with_an_issued_invoice_per_agency_billed(app):
    _generate(app)
    with app.app_context():
        for month in MONTHS:
            period = db.session.scalar(select(BillingPeriod).where(BillingPeriod.month == month))
            assert period is not None and period.status == "closed", month
            invoices = db.session.scalars(select(Invoice).where(Invoice.period == month)).all()
            billed = set(db.session.scalars(select(Charge.agency_id).where(Charge.period == month)))
            assert billed and {i.agency_id for i in invoices} >= billed
            assert all(i.status != "draft" and i.number for i in invoices)
            # Every month also shares its pools (the manager enters them on its first day).
            assert db.session.scalar(select(func.count()).select_from(AllocationShare).join(CostPool)
                                     .where(CostPool.period == month)) > 0


def test_the_board_changes_the_cost_sharing_key_in_the_middle_of_the_history(app):
    _generate(app)
    with app.app_context():
        keys = db.session.scalars(select(CostSharingKey).order_by(CostSharingKey.effective_from)).all()
        assert [k.effective_from for k in keys][-1] == MONTHS[1]
        used = dict(db.session.execute(select(CostPool.period, func.min(AllocationShare.key_id))
                                       .join(AllocationShare.cost_pool).group_by(CostPool.period)).all())
        assert used[MONTHS[0]] != used[MONTHS[1]] == keys[-1].id


def test_the_command_loads_the_demo_and_history_once_and_then_changes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "history", "--months", "1", "--password", TEST_PASSWORD])
    assert result.exit_code == 0, result.output
    with app.app_context():
        requests = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        assert requests > 0
        assert db.session.scalar(select(BillingPeriod.status).where(
            BillingPeriod.month == previous_month(local_today().replace(day=1)))) == "closed"
    again = runner.invoke(args=["demo", "history", "--months", "1", "--password", TEST_PASSWORD])
    assert again.exit_code == 0, again.output
    assert "Demo history not generated" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == requests


@pytest.mark.parametrize("months", [0, 37])
def test_a_history_outside_one_to_thirty_six_months_is_refused(app, months):
    with app.app_context():
        with pytest.raises(demo_history.HistoryError):
            demo_history.generate(months, now=NOW)
