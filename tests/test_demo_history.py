"""The demo history (``jof demo history``): months of the pilot played through the services.

Each test generates two whole months (July and August 2026, so the figures do not depend
on the day the tests run) on a fresh database.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
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


@dataclass
class Seen:
    """What one generated history left in the database, read before the tables are emptied."""

    seconds: float
    result: demo_history.HistoryResult
    figures: dict
    by_type: dict
    completed: dict
    unresolved_tickets_before_end: int
    late_tickets: int
    charge_lines: set
    last_audit_at: datetime
    verify_exit: int
    verify_output: str
    invoice_numbers: list
    periods: dict = field(default_factory=dict)
    keys: list = field(default_factory=list)
    key_of_month: dict = field(default_factory=dict)
    this_month_statuses: list = field(default_factory=list)
    this_month_period: str | None = None


@pytest.fixture(scope="module")
def history(app) -> Seen:
    """One history, generated once for the tests that only read it (it takes a while)."""
    empty_tables(app)
    started = time.monotonic()
    result = _generate(app)
    seconds = time.monotonic() - started
    figures = _figures(app)
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    with app.app_context():
        s = db.session
        count = select(func.count())
        seen = Seen(
            seconds, result, figures,
            by_type=dict(s.execute(select(ServiceRequest.request_type, func.count())
                                   .group_by(ServiceRequest.request_type)).all()),
            completed=dict(s.execute(select(ServiceRequest.request_type, func.count())
                                     .where(ServiceRequest.status == "completed")
                                     .group_by(ServiceRequest.request_type)).all()),
            unresolved_tickets_before_end=s.scalar(count.select_from(IctTicket).join(IctTicket.request).where(
                IctTicket.resolved_at.is_(None), ServiceRequest.created_at < BEFORE_END)),
            late_tickets=s.scalar(count.select_from(IctTicket).where(IctTicket.resolve_breached)),
            charge_lines=set(s.scalars(select(Charge.service_line).distinct())),
            last_audit_at=s.scalar(select(func.max(AuditEvent.at))),
            verify_exit=verify.exit_code, verify_output=verify.output,
            invoice_numbers=s.scalars(select(Invoice.number).where(Invoice.number.is_not(None))).all(),
        )
        for month in MONTHS:
            invoices = s.scalars(select(Invoice).where(Invoice.period == month)).all()
            seen.periods[month] = {
                "status": s.scalar(select(BillingPeriod.status).where(BillingPeriod.month == month)),
                "invoiced": {i.agency_id for i in invoices},
                "all_issued": all(i.status != "draft" and i.number for i in invoices),
                "billed": set(s.scalars(select(Charge.agency_id).where(Charge.period == month))),
                "shares": s.scalar(count.select_from(AllocationShare).join(CostPool).where(CostPool.period == month)),
            }
        seen.keys = [(k.id, k.effective_from) for k in
                     s.scalars(select(CostSharingKey).order_by(CostSharingKey.effective_from))]
        seen.key_of_month = dict(s.execute(select(CostPool.period, func.min(AllocationShare.key_id))
                                           .join(AllocationShare.cost_pool).group_by(CostPool.period)).all())
        seen.this_month_statuses = s.scalars(select(ServiceRequest.status)
                                             .where(ServiceRequest.created_at >= BEFORE_END)).all()
        seen.this_month_period = s.scalar(select(BillingPeriod.status).where(BillingPeriod.month == END))
        db.session.remove()
    empty_tables(app)
    return seen


def test_two_months_of_history_load_through_every_line_in_bounded_time(history):
    assert history.seconds < CEILING_SECONDS
    assert history.result.months == MONTHS
    assert set(history.by_type) == {"procurement", "travel", "ict_ticket", "ict_subscription"}
    assert history.completed["procurement"] >= 2 and history.completed["travel"] >= 3
    assert history.charge_lines == {"procurement", "travel", "ict"}


def test_every_ticket_of_the_whole_months_is_resolved_and_some_after_their_sla_target(history):
    assert history.unresolved_tickets_before_end == 0
    assert history.late_tickets >= 1


def test_nothing_happens_after_the_history_s_present(history):
    assert history.last_audit_at <= NOW


def test_the_current_month_is_played_up_to_now_and_leaves_work_open(history):
    assert history.this_month_statuses
    assert set(history.this_month_statuses) - {"completed", "closed", "rejected", "cancelled"}
    assert history.this_month_period != "closed"


def test_the_same_seed_gives_the_same_history_twice(app, history):
    _generate(app)
    assert _figures(app) == history.figures
    assert history.figures["invoices"] and history.figures["requests"]


def test_another_seed_gives_another_history(app, history):
    _generate(app, seed=7)
    assert _figures(app)["requests"] != history.figures["requests"]


def test_the_audit_trail_verifies_after_the_history(history):
    assert history.verify_exit == 0, history.verify_output
    assert "audit trail intact" in history.verify_output


def test_invoice_numbers_are_gapless_per_year(history):
    by_year: dict[str, list[int]] = {}
    for number in history.invoice_numbers:
        found = re.fullmatch(r"JOF-(\d{4})-(\d{5})", number)
        assert found, number
        by_year.setdefault(found[1], []).append(int(found[2]))
    assert by_year
    for year, seqs in by_year.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), year


def test_every_month_is_closed_with_an_issued_invoice_per_agency_billed(history):
    for month in MONTHS:
        period = history.periods[month]
        assert period["status"] == "closed", month
        assert period["billed"] and period["invoiced"] >= period["billed"], month
        assert period["all_issued"], month
        # Every month also shares its pools (the manager enters them on its first day).
        assert period["shares"] > 0, month


def test_the_board_changes_the_cost_sharing_key_in_the_middle_of_the_history(history):
    newest_id, newest_from = history.keys[-1]
    assert newest_from == MONTHS[1]
    assert history.key_of_month[MONTHS[0]] != history.key_of_month[MONTHS[1]] == newest_id


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
