"""An award freezes the evaluation it was made on: what happens to the bidders later
(a supplier suspended, debarred) never rewrites the record the lot page and API show."""

from __future__ import annotations

from tests.procurement.conftest import requisition_body


def _two_bids_awarded(flow):
    ref = flow.approved("undp", requisition_body("5", "1000.00"))
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    beta = flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    tender = flow.tender([ref])
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "900.00", "90").status_code == 201
    assert flow.bid(tender["id"], beta, "950.00", "80").status_code == 201
    flow.close(tender["id"])
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    before = flow.officer.get(f"{url}/evaluation").get_json()
    r = flow.officer.post(f"{url}/award", json={"bid_id": before["winner_bid_id"], "justification": "Best value"})
    assert r.status_code == 201, r.get_json()
    return tender, url, before, alfa


def test_suspending_the_winner_after_the_award_leaves_the_awarded_evaluation_as_it_was(flow):
    tender, url, before, alfa = _two_bids_awarded(flow)
    r = flow.officer.post(f"/api/v1/procurement/suppliers/{alfa}/status",
                          json={"status": "suspended", "reason": "Late deliveries under review"})
    assert r.status_code == 200, r.get_json()

    after = flow.officer.get(f"{url}/evaluation").get_json()
    assert after["winner_bid_id"] == before["winner_bid_id"]
    assert before["frozen"] is False and after["frozen"] is True
    assert after["rows"] == before["rows"]  # prices, scores, points, ranks, reasons as they were
    assert after["lowest_considered_price"] == before["lowest_considered_price"]
    assert after["awarded_by"] and after["awarded_at"]
    assert after["committee"] == {"required": False, "signed_at": None, "signed_by": None}
    lot = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}").get_json()["lots"][0]
    assert lot["awarded_bid_id"] == after["winner_bid_id"] and lot["status"] == "awarded"


def test_the_lot_page_shows_the_evaluation_the_award_was_made_on(flow, web):
    tender, _url, _before, alfa = _two_bids_awarded(flow)
    flow.officer.post(f"/api/v1/procurement/suppliers/{alfa}/status",
                      json={"status": "debarred", "reason": "Fraudulent documents"})
    page = web("procurement@jof.example").get(f"/procurement/tenders/{tender['id']}").get_data(as_text=True)
    winner_row = page.split('data-testid="winner"', 1)[1].split("</tr>", 1)[0]
    assert "Alfa Computadores" in winner_row
    assert 'data-testid="frozen-1"' in page
