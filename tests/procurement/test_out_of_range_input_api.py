"""Input out of any sensible range (amounts beyond the money ceiling or rounding to nothing,
receipt dates before the order or in the future, ids beyond any row, dates in year 9999)
and awards over requisitions that left sourcing: each a clear 4xx (never a 500), nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jof.core import calendar
from jof.core.calendar import local_today as today
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.people import Facility
from jof.procurement import common
from jof.procurement.models import PurchaseOrder, RequisitionLine
from tests.procurement.conftest import LAPTOP, requisition_body, row_counts

HUGE_QTY, HUGE_PRICE = "999999999", "999999999.9999"


@pytest.fixture
def pooled(flow):
    """UNDP and UNFPA laptops in one closed tender with one bid."""
    refs = {"undp": flow.approved("undp", requisition_body("5", "1000.00")),
            "unfpa": flow.approved("unfpa", requisition_body("3", "1000.00"))}
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender(list(refs.values()))
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "900.00", "90").status_code == 201
    flow.close(tender["id"])
    return tender, refs


def _award(flow, tender):
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    winner = flow.officer.get(f"{url}/evaluation").get_json()["winner_bid_id"]
    return flow.officer.post(f"{url}/award", json={"bid_id": winner, "justification": "Best value"})


# --- 3. an award never orders for a requisition that left sourcing --------------------------------


def test_an_award_is_refused_when_a_requisition_of_the_lot_was_cancelled(flow, app, pooled):
    tender, refs = pooled
    flow.transition(flow.manager, refs["unfpa"], "cancel", comment="Budget withdrawn")
    before = row_counts(app)
    r = _award(flow, tender)
    assert r.status_code == 409, r.get_json()
    detail = r.get_json()["detail"]
    assert f"{refs['unfpa']} is cancelled" in detail and refs["undp"] not in detail
    assert row_counts(app) == before
    assert flow.manager.get(f"/api/v1/requests/{refs['undp']}").get_json()["status"] == "sourcing"


# --- 5. amounts beyond the money columns ----------------------------------------------------------


def test_a_requisition_line_beyond_any_amount_is_a_422_not_a_500(flow, app):
    requester = flow.api("requester@undp.jof.example")
    before = row_counts(app)
    r = requester.post("/api/v1/procurement/requisitions", json=requisition_body(HUGE_QTY, HUGE_PRICE))
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "amounts must stay below USD 1,000,000,000,000" in r.get_json()["errors"]["lines.0.quantity"][0]
    assert row_counts(app) == before


def test_lines_that_add_up_beyond_any_amount_are_a_422(flow, app):
    body = requisition_body("999999", "999999.00")  # each line just under 10^12
    body["lines"] = body["lines"] * 3
    r = flow.api("requester@undp.jof.example").post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422
    assert "a requisition must stay below USD 1,000,000,000,000" in r.get_json()["errors"]["lines"][0]


def test_a_bid_beyond_any_amount_is_a_422_not_a_500(flow, app):
    ref = flow.approved("undp", requisition_body(HUGE_QTY, "0.01"))
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender([ref])
    flow.publish(tender["id"], days=60)  # an ITB stays open 20 working days
    before = row_counts(app)
    r = flow.bid(tender["id"], alfa, HUGE_PRICE, "90")
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "amounts must stay below" in r.get_json()["errors"]["lines.0.unit_price"][0]
    assert row_counts(app) == before


def test_a_bid_that_rounds_to_nothing_is_a_422_naming_the_price(flow, app):
    ref = flow.approved("undp", requisition_body("5", "1000.00"))
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    before = row_counts(app)
    r = flow.bid(tender["id"], alfa, "0.0001", "90")  # 5 × 0.0001 = USD 0.0005 → 0.00
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "USD 0.00" in r.get_json()["errors"]["lines.0.unit_price"][0]
    assert row_counts(app) == before


def test_a_stored_bid_of_nothing_never_breaks_the_evaluation_the_bids_or_the_award(flow, app, web, pooled):
    """Bids of USD 0.00 taken before they were refused stay in the database: the lot's
    evaluation, its bid list and its award answer, and the bid is not considered."""
    from decimal import Decimal

    from jof.procurement.models import Bid, BidLine

    tender, _refs = pooled
    beta = flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    with app.app_context():
        first = db.session.scalars(select(Bid).order_by(Bid.id)).first()
        db.session.add(Bid(lot_id=first.lot_id, supplier_id=beta, submitted_at=first.submitted_at,
                           technical_score=90, technically_compliant=True, total_usd=Decimal("0.00"),
                           recorded_by_id=first.recorded_by_id,
                           lines=[BidLine(lot_line_id=bl.lot_line_id, unit_price=Decimal("0.0001"),
                                          amount_usd=Decimal("0.00")) for bl in first.lines]))
        db.session.commit()
        db.session.remove()
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    ev = flow.officer.get(f"{url}/evaluation")
    assert ev.status_code == 200, ev.get_data(as_text=True)[:300]
    rows = {r["supplier"]: r for r in ev.get_json()["rows"]}
    assert not rows["Beta Sistemas"]["considered"] and "USD 0.00" in rows["Beta Sistemas"]["reason"]
    assert rows["Alfa Computadores"]["winner"]
    assert flow.officer.get(f"{url}/bids").status_code == 200
    assert web("procurement@jof.example").get(f"/procurement/tenders/{tender['id']}").status_code == 200
    r = _award(flow, tender)
    assert r.status_code == 201, r.get_json()


# --- 6. receipts: dates and lines --------------------------------------------------------------------


@pytest.fixture
def order(flow, pooled):
    tender, _refs = pooled
    orders = _award(flow, tender).get_json()
    return next(o for o in orders if o["agency"] == "UNDP")


def test_a_receipt_dated_in_the_future_is_refused(flow, app, order):
    with app.app_context():
        tomorrow = today() + timedelta(days=1)
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order['number']}/receipts",
                          json={"rating": 5, "received_on": tomorrow.isoformat()})
    assert r.status_code == 422
    assert "cannot be received in the future" in r.get_json()["errors"]["received_on"][0]
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order['number']}/receipts",
                          json={"rating": 5, "received_on": "2099-12-31"})
    assert r.status_code == 422
    assert row_counts(app) == before


def test_a_receipt_dated_before_the_order_was_issued_is_refused(flow, app, order):
    with app.app_context():
        issued = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == order["number"])).issued_at
        tz = calendar.facility_zone()
        db.session.remove()
    day_before = issued.astimezone(tz).date() - timedelta(days=1)
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order['number']}/receipts",
                          json={"rating": 5, "received_on": day_before.isoformat()})
    assert r.status_code == 422
    assert f"{order['number']} was issued on" in r.get_json()["errors"]["received_on"][0]
    assert row_counts(app) == before


def test_a_receipt_today_is_taken_and_dates_its_charges(flow, app, order):
    with app.app_context():
        day = today()
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order['number']}/receipts",
                          json={"rating": 5, "received_on": day.isoformat()})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        events = db.session.scalars(select(ChargeableEvent)).all()
        assert sorted(e.source_ref for e in events) == [f"{order['number']}/goods", f"{order['number']}/receipt"]
        assert {e.delivered_on for e in events} == {day}
        db.session.remove()


def test_an_explicit_empty_list_of_lines_is_not_everything(flow, app, order):
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order['number']}/receipts",
                          json={"rating": 5, "lines": []})
    assert r.status_code == 422
    assert "leave lines out to receive everything" in r.get_json()["errors"]["lines"][0]
    assert row_counts(app) == before


# --- 7. smaller ----------------------------------------------------------------------------------------


def test_a_blank_description_or_unit_is_refused_not_stored_empty(flow, app):
    requester = flow.api("requester@undp.jof.example")
    body = requisition_body()
    body["lines"][0].update({"description": "   ", "unit": " \t"})
    before = row_counts(app)
    r = requester.post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert errors["lines.0.description"] == ["Must not be blank."]
    assert errors["lines.0.unit"] == ["Must not be blank."]
    assert row_counts(app) == before
    r = requester.post("/api/v1/procurement/requisitions", json={**requisition_body(), "title": "  "})
    assert r.status_code == 422 and r.get_json()["errors"]["title"] == ["Must not be blank."]


@pytest.fixture
def lta(flow, app):
    sid = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    with app.app_context():
        start = today() - timedelta(days=30)
    r = flow.officer.post("/api/v1/procurement/ltas", json={
        "title": "Laptops", "supplier_id": sid, "valid_from": start.isoformat(), "ceiling_usd": "50000.00",
        "agencies": ["UNDP", "UNFPA"],
        "lines": [{"description": "Laptop 14in", "unspsc": LAPTOP, "unit": "each", "unit_price": "1000.00"}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_requester_naming_another_agency_on_a_call_off_is_refused(flow, app, lta):
    undp = flow.api("requester@undp.jof.example")
    line = lta["lines"][0]["id"]
    before = row_counts(app)
    r = undp.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
                  json={"agency": "UNFPA", "lines": [{"lta_line_id": line, "quantity": "1"}]})
    assert r.status_code == 422
    assert "own agency (UNDP)" in r.get_json()["errors"]["agency"][0]
    assert row_counts(app) == before
    r = undp.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
                  json={"agency": "undp", "lines": [{"lta_line_id": line, "quantity": "1"}]})
    assert r.status_code == 201 and r.get_json()["agency"] == "UNDP"


def test_the_same_catalogue_line_twice_in_one_call_off_is_refused(flow, app, lta):
    line = lta["lines"][0]["id"]
    undp = flow.api("requester@undp.jof.example")
    before = row_counts(app)
    r = undp.post(
        f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
        json={"lines": [{"lta_line_id": line, "quantity": "1"}, {"lta_line_id": line, "quantity": "2"}]})
    assert r.status_code == 422
    assert "Given twice" in r.get_json()["errors"]["lines.1.lta_line_id"][0]
    assert row_counts(app) == before


def test_a_call_off_beyond_any_amount_is_a_422(flow, app, lta):
    r = flow.api("requester@undp.jof.example").post(
        f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
        json={"lines": [{"lta_line_id": lta["lines"][0]["id"], "quantity": HUGE_QTY + "999"}]})
    assert r.status_code == 422
    assert "amounts must stay below" in r.get_json()["errors"]["lines.0.quantity"][0]


@pytest.mark.parametrize("field", ["supplier_id", "lot_line_id"])
def test_an_id_beyond_any_row_in_a_body_is_a_422(flow, app, field):
    ref = flow.approved("undp", requisition_body())
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    line = tender["lots"][0]["lines"][0]["id"]
    body = {"supplier_id": alfa, "technical_score": "90", "lines": [{"lot_line_id": line, "unit_price": "900.00"}]}
    huge = 2**64 + 1
    if field == "supplier_id":
        body["supplier_id"] = huge
    else:
        body["lines"][0]["lot_line_id"] = huge
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/bids", json=body)
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    key = "supplier_id" if field == "supplier_id" else "lines.0.lot_line_id"
    assert r.get_json()["errors"][key] == ["No such id."]
    assert row_counts(app) == before


def test_numbers_take_the_facility_local_year(demo, session, monkeypatch):
    """At 22:00 on 31 December in Brasília it is already next year in UTC."""
    assert session.get(Facility, 1).time_zone == "America/Sao_Paulo"
    monkeypatch.setattr(calendar, "local_now",
                        lambda: datetime(2027, 1, 1, 1, 0, tzinfo=UTC).astimezone(calendar.facility_zone()))
    assert calendar.local_today().year == 2026
    assert common.next_number("PO").startswith("PO-2026-")
    assert common.next_number("TND").startswith("TND-2026-")


def test_every_line_of_a_requisition_is_ordered_once_by_the_database(flow, app, order):
    """The unique index stops a second order line for the same requisition line."""
    from sqlalchemy.exc import IntegrityError

    from jof.procurement.models import PurchaseOrderLine

    with app.app_context():
        existing = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.requisition_line_id.is_not(None)))
        rl = db.session.get(RequisitionLine, existing.requisition_line_id)
        db.session.add(PurchaseOrderLine(order_id=existing.order_id, requisition_line_id=rl.id,
                                         description="again", unspsc=rl.unspsc, quantity=rl.quantity, unit=rl.unit,
                                         unit_price=existing.unit_price, amount_usd=existing.amount_usd,
                                         received_quantity=existing.received_quantity))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.remove()


@pytest.mark.parametrize("valid_from", ["9999-06-01", "0001-01-01"])
def test_an_lta_starting_out_of_any_sensible_range_is_a_422_not_a_500(api, valid_from):
    officer = api("procurement@jof.example")
    supplier = officer.get("/api/v1/procurement/suppliers").get_json()["items"][0]
    r = officer.post("/api/v1/procurement/ltas", json={
        "supplier_id": supplier["id"], "title": "Office paper", "ceiling_usd": "10000.00",
        "valid_from": valid_from, "agencies": ["UNDP"],
        "lines": [{"description": "Paper A4", "unspsc": "14111507", "unit": "box",
                   "unit_price": "25.00"}],
    })
    assert r.status_code == 422, r.get_json()
    assert "valid_from" in r.get_json()["errors"]
