"""Clocks that older data lacks (``jof monitoring backfill``) and the clock of an LTA
call-off (DESIGN §8: "LTA call-off 3 days", from submission to purchase order)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.people import Agency, User
from jof.core.workflow import ServiceRequest
from jof.monitoring import measures
from jof.monitoring.backfill import backfill
from jof.monitoring.models import RequestClock, ServiceLevelAgreement, SlaTarget
from jof.procurement.models import PurchaseOrder
from tests.monitoring.conftest import KIND

OFFICER = "procurement@jof.example"
HOUR = 3600
#: The demo facility works 08:00-18:00: a working day is ten working hours.
WORKING_DAY = 10 * HOUR


def _clocks() -> dict:
    """Every clock by what it measures, with all it says."""
    rows = db.session.execute(select(
        RequestClock.request_id, RequestClock.purchase_order_id, RequestClock.kind, RequestClock.line,
        RequestClock.agency_id, RequestClock.started_at, RequestClock.ended_at, RequestClock.working_seconds,
        RequestClock.target_seconds, RequestClock.within_target, RequestClock.late_step)).all()
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}


def _by_reference(refs: dict) -> dict:
    rows = db.session.execute(select(ServiceRequest.reference, RequestClock.working_seconds,
                                     RequestClock.within_target, RequestClock.late_step)
                              .join(ServiceRequest, ServiceRequest.id == RequestClock.request_id)
                              .where(RequestClock.kind == KIND)).all()
    named = {v: k for k, v in refs.items()}
    return {named[ref]: (ws, within, late) for ref, ws, within, late in rows if ref in named}


def test_backfill_rebuilds_the_clocks_of_a_hand_made_month_with_their_known_working_times(app, month):
    with app.app_context():
        written_live = _clocks()
        assert _by_reference(month) == {
            "two": (2 * HOUR, True, None), "weekend": (12 * HOUR, True, None),
            "late": (72 * HOUR, False, "start"), "unfpa": (10 * HOUR, True, None)}
        db.session.execute(delete(RequestClock))
        db.session.commit()

        dry = backfill(db.session, dry_run=True)
        db.session.rollback()
        assert dry.added == {KIND: 4} and dry.total == 4
        assert db.session.scalar(select(RequestClock.id)) is None  # a dry run adds nothing

        done = backfill(db.session)
        db.session.commit()
        assert done.added == {KIND: 4}
        # The same clocks as the live capture wrote, to the second: 2 h, 12 h over a
        # week-end and a holiday, 72 h late at "start", 10 h; the open requests get none.
        assert _clocks() == written_live
        assert _by_reference(month) == {
            "two": (2 * HOUR, True, None), "weekend": (12 * HOUR, True, None),
            "late": (72 * HOUR, False, "start"), "unfpa": (10 * HOUR, True, None)}

        again = backfill(db.session)
        db.session.commit()
        assert again.total == 0 and _clocks() == written_live


def test_the_backfill_command_reports_what_it_would_add_and_what_it_added(app, month):
    with app.app_context():
        db.session.execute(delete(RequestClock))
        db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["monitoring", "backfill", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would add 4 clocks (procurement.micro_purchase 4)" in dry.output
    done = runner.invoke(args=["monitoring", "backfill"])
    assert done.exit_code == 0 and "added 4 clocks (procurement.micro_purchase 4)" in done.output
    again = runner.invoke(args=["monitoring", "backfill"])
    assert again.exit_code == 0 and "added 0 clocks" in again.output


@pytest.fixture
def lta(app, api):
    officer = api(OFFICER)
    r = officer.post("/api/v1/procurement/suppliers",
                     json={"name": "Papelaria Central", "country": "BR", "tax_id": "11.000.000/0001-02",
                           "categories": ["4412"]})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        start = local_today() - timedelta(days=30)
    r = officer.post("/api/v1/procurement/ltas", json={
        "title": "Office supplies", "supplier_id": r.get_json()["id"], "valid_from": start.isoformat(),
        "ceiling_usd": "5000.00", "agencies": ["UNDP", "UNFPA"],
        "lines": [{"description": "Paper A4, box", "unspsc": "44121600", "unit": "box", "unit_price": "20.00"}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _call_off(api, lta, email="requester@undp.jof.example") -> str:
    r = api(email).post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
                        json={"lines": [{"lta_line_id": lta["lines"][0]["id"], "quantity": "3"}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["number"]


def _order_clock(number: str) -> RequestClock:
    return db.session.scalar(select(RequestClock).join(PurchaseOrder, PurchaseOrder.id == RequestClock.purchase_order_id)
                             .where(PurchaseOrder.number == number))


def test_an_lta_call_off_is_clocked_at_once_against_the_call_off_target_of_three_working_days(app, api, lta):
    number = _call_off(api, lta)
    with app.app_context():
        clock = _order_clock(number)
        order = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
        undp = db.session.scalar(select(Agency.id).where(Agency.code == "UNDP"))
        # Placed as its purchase order: submission and order are one moment, nil working
        # time, within the facility default of 3 working days (30 working hours).
        assert (clock.kind, clock.line, clock.agency_id, clock.request_id) == ("procurement.lta", "procurement",
                                                                               undp, None)
        assert clock.started_at == clock.ended_at == order.issued_at
        assert (clock.working_seconds, clock.target_seconds, clock.within_target, clock.late_step) == (
            0, 3 * WORKING_DAY, True, None)
        day = local_today()
        times = {row["kind"]: row for row in measures.processing_times(measures.Filters(day, day))}
        assert times["procurement.lta"]["count"] == 1 and times["procurement.lta"]["within_share"] == 100


def test_a_call_off_is_held_to_its_agencys_own_call_off_target(app, api, lta):
    with app.app_context():
        undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
        manager = db.session.scalar(select(User.id).where(User.email == "manager@jof.example"))
        sla = ServiceLevelAgreement(agency_id=undp.id, valid_from=local_today() - timedelta(days=10),
                                    reference="UNDP SLA 2026", recorded_by_id=manager)
        sla.targets = [SlaTarget(kind="procurement.lta", amount=1)]
        db.session.add(sla)
        db.session.commit()
    number = _call_off(api, lta)
    with app.app_context():
        clock = _order_clock(number)
        assert (clock.working_seconds, clock.target_seconds, clock.within_target) == (0, WORKING_DAY, True)


def test_backfill_gives_a_call_off_placed_before_its_clock_existed_the_same_clock(app, api, lta):
    number = _call_off(api, lta)
    with app.app_context():
        live = _clocks()
        db.session.execute(delete(RequestClock).where(RequestClock.purchase_order_id.is_not(None)))
        db.session.commit()
        done = backfill(db.session)
        db.session.commit()
        assert done.added == {"procurement.lta": 1} and done.call_offs_read == 1
        assert _clocks() == live and _order_clock(number).working_seconds == 0
        assert backfill(db.session).total == 0
