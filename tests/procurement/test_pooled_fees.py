"""Pooling never costs a partner more than buying alone: a joint lot carries one process
fee, shared among its agencies by their orders, none above its own standalone fee."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from jof.billing.models import Charge
from jof.core.db import db
from jof.core.money import allocate
from tests.procurement.conftest import LAPTOP_NEEDS, requisition_body


def _pooled_and_received(flow, needs, unit_price):
    """Requisitions for ``needs`` pooled in one tender, the one bid awarded, all received;
    returns {agency: (order total, fee charged)}."""
    refs = [flow.approved(code, requisition_body(qty, price, cur)) for code, qty, price, cur in needs]
    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    tender = flow.tender(refs)
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, unit_price, "90").status_code == 201
    flow.close(tender["id"])
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    ev = flow.officer.get(f"{url}/evaluation").get_json()
    r = flow.officer.post(f"{url}/award", json={"bid_id": ev["winner_bid_id"], "justification": "Only offer."})
    assert r.status_code == 201, r.get_json()
    orders = r.get_json()
    for po in orders:
        r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{po['number']}/receipts", json={"rating": 4})
        assert r.status_code == 201, r.get_json()
    out = {}
    with flow.app.app_context():
        for po in orders:
            charge = db.session.scalar(select(Charge).where(Charge.source_ref == f"{po['number']}/receipt"))
            out[po["agency"]] = (Decimal(po["total_usd"]), charge.amount)
        db.session.remove()
    return tender, out


def test_a_joint_rfq_lot_bills_one_fee_shared_by_the_orders(flow):
    """The laptop scenario: one RFQ fee of USD 350 for UNDP, UNFPA and UN Women together,
    split by their orders (UN Women's share stays below its micro-purchase fee of 2%)."""
    tender, billed = _pooled_and_received(flow, LAPTOP_NEEDS, "1180.3333")
    assert tender["method"] == "rfq"
    codes = sorted(billed)
    assert [billed[c][0] for c in codes] == [Decimal("11803.33"), Decimal("4721.33"), Decimal("3541.00")]
    fees = [billed[c][1] for c in codes]
    assert sum(fees) == Decimal("350.00")
    assert fees == allocate(Decimal("350.00"), [billed[c][0] for c in codes], codes)
    assert billed["UNWOMEN"][1] < Decimal("70.82")  # 2% of its USD 3,541.00 alone


def test_the_small_partner_of_a_joint_rfq_pays_no_more_than_its_micro_purchase_fee(flow):
    """UNESCO's USD 3,149.97 alone is a micro-purchase at 2% (USD 63.00), not a third of an
    RFQ; the USD 287.00 the cap removes from it goes to UNDP and UNFPA by their orders."""
    needs = [("undp", "6", "1000.00", "USD"), ("unfpa", "5", "1100.00", "USD"), ("unesco", "3", "1100.00", "USD")]
    tender, billed = _pooled_and_received(flow, needs, "1049.99")
    assert tender["method"] == "rfq"
    assert billed["UNESCO"] == (Decimal("3149.97"), Decimal("63.00"))
    rest = allocate(Decimal("287.00"), [billed["UNDP"][0], billed["UNFPA"][0]], ["UNDP", "UNFPA"])
    assert [billed["UNDP"][1], billed["UNFPA"][1]] == rest
    assert sum(fee for _total, fee in billed.values()) == Decimal("350.00")
    assert all(fee <= Decimal("350.00") for _total, fee in billed.values())  # each RFQ alone: 350


def test_repricing_the_open_month_leaves_the_shares_of_a_pooled_fee_as_recorded(flow):
    """A price list adopted later, dated earlier in the open month, reprices the fees billing
    priced itself; the shares of a pooled fee were fixed from the list in force when the
    goods were received and stay as recorded."""
    from jof.billing import pricing
    from jof.core.calendar import local_today

    _tender, billed = _pooled_and_received(flow, LAPTOP_NEEDS, "1180.3333")
    with flow.app.app_context():
        pricing.create_version([{"code": "rfq_process", "service_line": "procurement", "method": "flat",
                                 "amount": "500.00"}], local_today().replace(day=1))
        pricing.reprice_unbilled(local_today().replace(day=1))
        fees = {c.agency.code: c.amount for c in db.session.scalars(
            select(Charge).where(Charge.item_code == "rfq_process"))}
        db.session.rollback()
        db.session.remove()
    assert fees == {code: fee for code, (_total, fee) in billed.items()}
