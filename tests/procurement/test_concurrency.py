"""Parallel awards and receipts (PostgreSQL): the row locks and the unique index hold.

Each thread has its own API client (its own connection and transaction); a barrier
releases them together, so the requests really race.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.procurement.models import GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from tests.conftest import race
from tests.procurement.conftest import OFFICER, requisition_body

pytestmark = pytest.mark.postgres_only




@pytest.fixture
def closed_pooled_tender(flow):
    refs = [flow.approved("undp", requisition_body("5", "1000.00")),
            flow.approved("unfpa", requisition_body("3", "1000.00"))]
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender(refs)
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "900.00", "90").status_code == 201
    flow.close(tender["id"])
    return tender


def test_four_parallel_awards_of_one_lot_issue_its_orders_once(app, api, flow, closed_pooled_tender):
    tender = closed_pooled_tender
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    winner = flow.officer.get(f"{url}/evaluation").get_json()["winner_bid_id"]
    clients = [api(OFFICER) for _ in range(4)]

    def award(i: int):
        r = clients[i].post(f"{url}/award", json={"bid_id": winner, "justification": f"Best value ({i})"})
        return r.status_code, r.get_json()

    results = race(4, award)
    statuses = sorted(r[0] if isinstance(r, tuple) else r for r in results)
    assert statuses == [201, 409, 409, 409], results
    refused = [body for status, body in results if status == 409]
    assert all("is awarded already" in body["detail"] for body in refused)
    with app.app_context():
        orders = db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.lot_id.is_not(None))).all()
        assert len(orders) == 2  # one per agency, once
        assert sum((po.total_usd for po in orders), Decimal("0")) == Decimal("7200.00")
        db.session.remove()


def test_four_parallel_receipts_never_receive_more_than_was_ordered(app, api, flow, closed_pooled_tender):
    tender = closed_pooled_tender
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    winner = flow.officer.get(f"{url}/evaluation").get_json()["winner_bid_id"]
    orders = flow.officer.post(f"{url}/award", json={"bid_id": winner, "justification": "Best value"}).get_json()
    po = next(o for o in orders if o["agency"] == "UNDP")  # 5 laptops
    line_id = po["lines"][0]["id"]
    clients = [api(OFFICER) for _ in range(4)]

    def receive(i: int):
        r = clients[i].post(f"/api/v1/procurement/purchase-orders/{po['number']}/receipts",
                            json={"rating": 4, "lines": [{"order_line_id": line_id, "quantity": "2"}]})
        return r.status_code, r.get_json()

    results = race(4, receive)
    statuses = sorted(r[0] if isinstance(r, tuple) else r for r in results)
    # 2 + 2 of 5 fit; a third 2 no longer does (1 left).
    assert statuses == [201, 201, 422, 422], results
    assert all("At most 1.00 each are still expected" in body["errors"]["lines.0.quantity"][0]
               for status, body in results if status == 422)
    with app.app_context():
        line = db.session.get(PurchaseOrderLine, line_id)
        assert line.received_quantity == Decimal("4.00")
        assert db.session.scalar(select(func.count()).select_from(GoodsReceipt)) == 2
        assert db.session.scalar(select(func.count()).select_from(ChargeableEvent)) == 0  # not complete
        db.session.remove()
