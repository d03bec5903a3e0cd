"""Refusals: the right 4xx with a clear message, and nothing written (the database is unchanged)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jof.core.calendar import local_today as today
from jof.core.db import db
from jof.procurement.models import LongTermAgreement
from tests.procurement.conftest import LAPTOP, requisition_body, row_counts


@pytest.fixture
def closed_tender(flow):
    ref = flow.approved("unfpa", requisition_body("5", "1000.00"))
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    beta = flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "900.00", "90").status_code == 201
    assert flow.bid(tender["id"], beta, "950.00", "80").status_code == 201
    flow.close(tender["id"])
    return tender, alfa, beta


def test_a_bid_after_the_closing_time_is_refused_with_409(flow, app, closed_tender):
    tender, _alfa, _beta = closed_tender
    late = flow.supplier("Late Ltda", "40.000.000/0001-04")
    before = row_counts(app)
    r = flow.bid(tender["id"], late, "800.00", "99")
    assert r.status_code == 409
    body = r.get_json()
    assert body["title"] == "Conflict"
    assert f"Tender {tender['number']} closed at" in body["detail"]
    assert "bids received after the closing time are refused" in body["detail"]
    assert row_counts(app) == before


def test_an_award_to_a_suspended_supplier_is_refused_with_409(flow, app, closed_tender):
    tender, alfa, _beta = closed_tender
    r = flow.officer.post(f"/api/v1/procurement/suppliers/{alfa}/status",
                          json={"status": "suspended", "reason": "Fraud investigation"})
    assert r.status_code == 200
    bids = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/bids").get_json()
    alfa_bid = next(b["id"] for b in bids if b["supplier_id"] == alfa)
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/award",
                          json={"bid_id": alfa_bid, "justification": "Lowest price and best score"})
    assert r.status_code == 409
    assert "Alfa Computadores is suspended (Fraud investigation)" in r.get_json()["detail"]
    assert row_counts(app) == before
    # the evaluation no longer considers it: the other bid now wins and can be awarded
    ev = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/evaluation").get_json()
    assert next(r for r in ev["rows"] if r["supplier"] == "Alfa Computadores")["reason"] == "Supplier is suspended."
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/award",
                          json={"bid_id": ev["winner_bid_id"], "justification": "Best active offer"})
    assert r.status_code == 201 and r.get_json()[0]["supplier"] == "Beta Sistemas"


def test_evaluation_and_bids_stay_sealed_until_closing(flow):
    ref = flow.approved("unfpa", requisition_body("5", "1000.00"))
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    r = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/evaluation")
    assert r.status_code == 409 and "sealed" in r.get_json()["detail"]


def test_award_needs_a_justification(flow, app, closed_tender):
    tender, alfa, _beta = closed_tender
    ev = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/evaluation").get_json()
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/award",
                          json={"bid_id": ev["winner_bid_id"], "justification": "  "})
    assert r.status_code == 422 and "justification" in r.get_json()["errors"]
    assert row_counts(app) == before


@pytest.fixture
def lta(flow, app):
    sid = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    with app.app_context():
        start = today() - timedelta(days=30)
    r = flow.officer.post("/api/v1/procurement/ltas", json={
        "title": "Laptops 2026-2027", "supplier_id": sid, "valid_from": start.isoformat(),
        "ceiling_usd": "5000.00", "agencies": ["UNDP", "UNWOMEN"],
        "lines": [{"description": "Laptop 14in", "unspsc": LAPTOP, "unit": "each", "unit_price": "1000.00"}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_call_off_beyond_the_lta_ceiling_is_refused_with_409(flow, app, lta):
    undp = flow.api("requester@undp.jof.example")
    line = lta["lines"][0]["id"]
    r = undp.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
                  json={"lines": [{"lta_line_id": line, "quantity": "4"}]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["service_item"] == "lta_call_off" and r.get_json()["agency"] == "UNDP"
    before = row_counts(app)
    r = undp.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs",
                  json={"lines": [{"lta_line_id": line, "quantity": "2"}]})
    assert r.status_code == 409
    assert "would exceed the agreement's ceiling of USD 5,000.00 (USD 1,000.00 left)" in r.get_json()["detail"]
    assert row_counts(app) == before
    assert flow.officer.get(f"/api/v1/procurement/ltas/{lta['id']}").get_json()["consumed_usd"] == "4000.00"


def test_a_call_off_by_a_non_participant_or_after_expiry_is_refused(flow, app, lta):
    line = lta["lines"][0]["id"]
    body = {"lines": [{"lta_line_id": line, "quantity": "1"}]}
    unfpa, undp = flow.api("requester@unfpa.jof.example"), flow.api("requester@undp.jof.example")
    before = row_counts(app)
    r = unfpa.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs", json=body)
    assert r.status_code == 403 and "UNFPA does not participate" in r.get_json()["detail"]
    assert row_counts(app) == before
    with app.app_context():
        agreement = db.session.get(LongTermAgreement, lta["id"])
        agreement.valid_to = today() - timedelta(days=1)
        db.session.commit()
    before = row_counts(app)
    r = undp.post(f"/api/v1/procurement/ltas/{lta['id']}/call-offs", json=body)
    assert r.status_code == 409 and "no call-off can be placed today" in r.get_json()["detail"]
    assert row_counts(app) == before


def test_a_requester_cannot_read_another_agencys_requisition(flow, app):
    ref = flow.file("undp", requisition_body())
    other = flow.api("requester@unfpa.jof.example")
    before = row_counts(app)
    r = other.get(f"/api/v1/procurement/requisitions/{ref}")
    assert r.status_code == 404 and r.get_json()["detail"] == "No such request."
    listed = other.get("/api/v1/procurement/requisitions").get_json()
    assert listed["total"] == 0
    assert row_counts(app) == before
    assert flow.api("requester@undp.jof.example").get(f"/api/v1/procurement/requisitions/{ref}").status_code == 200


def test_agency_users_do_not_run_tenders_and_the_auditor_changes_nothing(flow, app):
    ref = flow.approved("undp", requisition_body())
    r = flow.api("requester@undp.jof.example").post("/api/v1/procurement/tenders",
                                                    json={"title": "T", "requisitions": [ref]})
    assert r.status_code == 403
    r = flow.api("auditor@jof.example").post("/api/v1/procurement/suppliers",
                                             json={"name": "X Ltda", "country": "BR", "tax_id": "99"})
    assert r.status_code == 403
    assert flow.api("auditor@jof.example").get(f"/api/v1/procurement/requisitions/{ref}").status_code == 200


def test_requisition_input_is_validated(flow):
    requester = flow.api("requester@undp.jof.example")
    body = requisition_body()
    body["lines"][0].update({"unspsc": "4321", "quantity": 2.5, "currency": "XYZ"})
    r = requester.post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert "lines.0.unspsc" in errors and "lines.0.quantity" in errors
    r = requester.post("/api/v1/procurement/requisitions", json={**requisition_body(), "lines": []})
    assert r.status_code == 422 and "lines" in r.get_json()["errors"]
    assert date.fromisoformat(requester.get("/api/v1/procurement/manuals").get_json()[0]["effective_from"])
