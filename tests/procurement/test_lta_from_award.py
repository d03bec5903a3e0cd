"""An award becomes a long-term agreement (DESIGN §3), in the API and on the pages;
sealed bids stay out of the supplier page until their tender closes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jof.core.calendar import local_today as today
from tests.conftest import csrf_from
from tests.procurement.conftest import LAPTOP, OFFICER, requisition_body, row_counts


@pytest.fixture
def awarded(flow):
    refs = [flow.approved("undp", requisition_body("5", "1000.00")),
            flow.approved("unfpa", requisition_body("3", "1000.00"))]
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    beta = flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    tender = flow.tender(refs)
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "900.00", "90").status_code == 201
    assert flow.bid(tender["id"], beta, "950.00", "80").status_code == 201
    flow.close(tender["id"])
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    winner = flow.officer.get(f"{url}/evaluation").get_json()["winner_bid_id"]
    r = flow.officer.post(f"{url}/award", json={"bid_id": winner, "justification": "Best value"})
    assert r.status_code == 201, r.get_json()
    return tender, alfa


def test_an_awarded_lot_becomes_an_lta_with_the_winning_prices_and_the_lots_agencies(flow, app, awarded):
    tender, alfa = awarded
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/lta", json={"ceiling_usd": "50000.00"})
    assert r.status_code == 201, r.get_json()
    lta = r.get_json()
    with app.app_context():
        day = today()
    assert lta["supplier_id"] == alfa and lta["agencies"] == ["UNDP", "UNFPA"]
    assert lta["valid_from"] == day.isoformat()
    assert lta["valid_to"] == (day.replace(year=day.year + 2) - timedelta(days=1)).isoformat()
    # the two agencies' laptop lines are one catalogue item at the awarded price
    assert [(ln["description"], ln["unspsc"], ln["unit"], ln["unit_price"]) for ln in lta["lines"]] == [
        ("Laptop 14in, 16 GB RAM", LAPTOP, "each", "900.0000")]
    assert lta["title"] == "Joint laptop tender, lot 1" and lta["consumed_usd"] == "0.00"
    # a participant calls off under it at the awarded price
    r = flow.api("requester@unfpa.jof.example").post(
        f"/api/v1/procurement/ltas/{lta['id']}/call-offs", json={"lines": [{"lta_line_id": lta["lines"][0]["id"],
                                                                          "quantity": "2"}]})
    assert r.status_code == 201 and r.get_json()["total_usd"] == "1800.00"
    # one agreement per lot
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/lta", json={"ceiling_usd": "1000.00"})
    assert r.status_code == 409 and "became agreement" in r.get_json()["detail"]
    assert row_counts(app) == before


def test_an_lta_from_a_lot_is_refused_before_the_award_and_to_agency_users(flow, app):
    ref = flow.approved("unfpa", requisition_body("3", "1000.00"))
    tender = flow.tender([ref])
    unfpa = flow.api("requester@unfpa.jof.example")
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/lta", json={"ceiling_usd": "1000.00"})
    assert r.status_code == 409 and "is not awarded yet" in r.get_json()["detail"]
    r = unfpa.post(
        f"/api/v1/procurement/tenders/{tender['id']}/lots/1/lta", json={"ceiling_usd": "1000.00"})
    assert r.status_code == 403
    assert row_counts(app) == before


def test_validity_beyond_three_years_is_refused_for_an_lta_from_a_lot(flow, app, awarded):
    tender, _alfa = awarded
    before = row_counts(app)
    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/lta",
                          json={"ceiling_usd": "1000.00", "valid_from": "2030-01-01", "valid_to": "2033-01-01"})
    assert r.status_code == 422
    assert r.get_json()["errors"]["valid_to"] == ["A long-term agreement runs at most three years."]
    assert row_counts(app) == before


def test_the_officer_makes_the_award_an_lta_on_the_tender_page(flow, web, awarded):
    tender, _alfa = awarded
    officer = web(OFFICER)
    page = officer.get(f"/procurement/tenders/{tender['id']}").get_data(as_text=True)
    assert 'data-testid="lta-form-1"' in page
    r = officer.post(f"/procurement/tenders/{tender['id']}/lots/1/lta",
                     data={"csrf_token": csrf_from(page), "ceiling_usd": "abc"})
    assert r.status_code == 422 and "Ceiling (USD): enter a number." in r.get_data(as_text=True)
    r = officer.post(f"/procurement/tenders/{tender['id']}/lots/1/lta",
                     data={"csrf_token": csrf_from(page), "ceiling_usd": "20000.00", "title": "Laptops LTA"})
    assert r.status_code == 302
    html = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert "Laptops LTA" in html and "Alfa Computadores" in html and "UNDP, UNFPA" in html
    page = officer.get(f"/procurement/tenders/{tender['id']}").get_data(as_text=True)
    assert 'data-testid="lot-lta-1"' in page and 'data-testid="lta-form-1"' not in page


def test_the_officer_enters_an_lta_directly_on_its_form(flow, web):
    sid = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    officer = web(OFFICER)
    page = officer.get("/procurement/ltas/new").get_data(as_text=True)
    assert "Alfa Computadores" in page
    data = {"csrf_token": csrf_from(page), "title": "Office laptops", "supplier_id": str(sid),
            "valid_from": "2030-01-01", "valid_to": "2034-01-01", "ceiling_usd": "10000.00",
            "agencies": ["UNDP", "UNEP"], "lines-0-description": "Laptop", "lines-0-unspsc": LAPTOP,
            "lines-0-unit": "each", "lines-0-unit_price": "950.00"}
    r = officer.post("/procurement/ltas/new", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "A long-term agreement runs at most three years." in html and 'value="Office laptops"' in html
    r = officer.post("/procurement/ltas/new", data={**data, "valid_to": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    html = officer.get(r.headers["Location"]).get_data(as_text=True)
    assert "Office laptops" in html and "Dec 31, 2031" in html and "UNDP, UNEP" in html
    assert web("requester@undp.jof.example").get("/procurement/ltas/new").status_code == 403


# --- 2. sealed bids ----------------------------------------------------------------------------------


def test_the_supplier_page_never_shows_bids_of_an_open_tender(flow, web):
    ref = flow.approved("unfpa", requisition_body("5", "1000.00"))
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "987.65", "90").status_code == 201
    sealed = "USD 4,938.25"
    for who in (OFFICER, "manager@jof.example", "requester@undp.jof.example", "requester@unfpa.jof.example"):
        html = web(who).get(f"/procurement/suppliers/{alfa}").get_data(as_text=True)
        assert sealed not in html and tender["number"] not in html, who
    flow.close(tender["id"])
    html = web(OFFICER).get(f"/procurement/suppliers/{alfa}").get_data(as_text=True)
    assert sealed in html and tender["number"] in html
    # agencies never see bids, even once the tender is closed
    html = web("requester@unfpa.jof.example").get(f"/procurement/suppliers/{alfa}").get_data(as_text=True)
    assert sealed not in html and 'data-testid="supplier-bids"' not in html
