"""The pooling scenario through the API: three agencies' laptops bought once (DESIGN §3)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select

from jof.core.calendar import local_today as today
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.money import quantize, to_usd
from tests.procurement.conftest import LAPTOP_NEEDS, requisition_body, row_counts


def _d4(f: Fraction) -> str:
    return str(quantize(Decimal(f.numerator) / Decimal(f.denominator), 4))


def test_three_agencies_pool_laptops_into_one_tender_and_receive_exact_orders(flow, app):
    refs = {code: flow.approved(code, requisition_body(qty, price, cur)) for code, qty, price, cur in LAPTOP_NEEDS}

    # UNDP's USD 12,500 is above its 10,000 limit: its head certified before approval.
    undp = flow.manager.get(f"/api/v1/requests/{refs['undp']}").get_json()
    assert undp["certified_at"] is not None and undp["status"] == "approved"
    # UN Women estimated in BRL: converted at this month's operational rate.
    with app.app_context():
        unw_usd = to_usd(Decimal("19500.00"), "BRL", today())
    unw = flow.manager.get(f"/api/v1/procurement/requisitions/{refs['unwomen']}").get_json()
    assert Decimal(unw["estimate_usd"]) == unw_usd
    assert unw["method"] == "micro_purchase"
    assert flow.manager.get(f"/api/v1/procurement/requisitions/{refs['undp']}").get_json()["method"] == "rfq"

    alfa = flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    beta = flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    gama = flow.supplier("Gama Eletrônicos", "30.000.000/0001-03", status="suspended")

    tender = flow.tender(list(refs.values()))
    assert len(tender["lots"]) == 1
    lot = tender["lots"][0]
    assert lot["unspsc_class"] == "432115"
    assert sorted(ln["agency"] for ln in lot["lines"]) == ["UNDP", "UNFPA", "UNWOMEN"]
    assert tender["method"] == "rfq"  # pooled: 12,500 + 5,200 + ~3,600
    for ref in refs.values():
        assert flow.manager.get(f"/api/v1/requests/{ref}").get_json()["status"] == "sourcing"
    flow.publish(tender["id"])

    assert flow.bid(tender["id"], alfa, "1099.99", "72").status_code == 201
    assert flow.bid(tender["id"], beta, "1180.3333", "95").status_code == 201
    before = row_counts(app)
    refused = flow.bid(tender["id"], gama, "999.00", "90")
    assert refused.status_code == 409
    assert "suspended" in refused.get_json()["detail"] and "only active suppliers may bid" in refused.get_json()["detail"]
    assert row_counts(app) == before

    flow.close(tender["id"])
    ev = flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/evaluation").get_json()
    rows = {r["supplier"]: r for r in ev["rows"]}
    alfa_total, beta_total = Decimal("18699.83"), Decimal("11803.33") + Decimal("4721.33") + Decimal("3541.00")
    assert Decimal(rows["Alfa Computadores"]["price_usd"]) == alfa_total
    assert Decimal(rows["Beta Sistemas"]["price_usd"]) == beta_total
    assert Decimal(ev["lowest_considered_price"]) == alfa_total
    # total = tech/100 × 70 + lowest/price × 30, every term shown
    beta_fin = Fraction(alfa_total) / Fraction(beta_total) * 30
    assert rows["Alfa Computadores"]["technical_points"] == "50.4000"
    assert rows["Alfa Computadores"]["financial_points"] == "30.0000"
    assert rows["Alfa Computadores"]["total_points"] == "80.4000"
    assert rows["Beta Sistemas"]["technical_points"] == "66.5000"
    assert rows["Beta Sistemas"]["financial_points"] == _d4(beta_fin)
    assert rows["Beta Sistemas"]["total_points"] == _d4(Fraction("66.5") + beta_fin)
    # the better technical offer wins although it is dearer
    assert rows["Beta Sistemas"]["winner"] and rows["Beta Sistemas"]["rank"] == 1
    assert ev["winner_bid_id"] == rows["Beta Sistemas"]["bid_id"]

    r = flow.officer.post(f"/api/v1/procurement/tenders/{tender['id']}/lots/1/award",
                          json={"bid_id": ev["winner_bid_id"], "justification": "Highest combined score."})
    assert r.status_code == 201, r.get_json()
    orders = r.get_json()
    assert [po["agency"] for po in orders] == ["UNDP", "UNFPA", "UNWOMEN"]
    award = Decimal(flow.officer.get(f"/api/v1/procurement/tenders/{tender['id']}").get_json()["lots"][0]["award_total"])
    assert award == beta_total
    assert sum(Decimal(po["total_usd"]) for po in orders) == award
    wanted = {code.upper(): Decimal(qty) for code, qty, _p, _c in LAPTOP_NEEDS}
    for po in orders:
        assert [Decimal(ln["quantity"]) for ln in po["lines"]] == [wanted[po["agency"]]]
        assert po["service_item"] == "rfq_process"
    assert [po["total_usd"] for po in orders] == ["11803.33", "4721.33", "3541.00"]
    for ref in refs.values():
        assert flow.manager.get(f"/api/v1/requests/{ref}").get_json()["status"] == "ordered"

    for po in orders:
        r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{po['number']}/receipts", json={"rating": 4})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["order_status"] == "received"
    for ref in refs.values():
        assert flow.manager.get(f"/api/v1/requests/{ref}").get_json()["status"] == "completed"

    with app.app_context():
        events = db.session.scalars(select(ChargeableEvent).order_by(ChargeableEvent.source_ref)).all()
        fees = [e for e in events if e.kind == "fee"]
        goods = [e for e in events if e.kind == "pass_through"]
        assert sorted(e.agency.code for e in fees) == ["UNDP", "UNFPA", "UNWOMEN"]
        assert {e.service_item for e in fees} == {"rfq_process"}
        assert {e.source_ref for e in fees} == {f"{po['number']}/receipt" for po in orders}
        assert sorted(e.agency.code for e in goods) == ["UNDP", "UNFPA", "UNWOMEN"]
        assert sum(e.value_usd for e in goods) == award
        db.session.remove()

    supplier = flow.officer.get(f"/api/v1/procurement/suppliers/{beta}").get_json()
    assert supplier["rating"] == "4.00"
    savings = flow.manager.get(f"/api/v1/procurement/savings?tender_id={tender['id']}").get_json()
    estimate = Decimal("12500.00") + Decimal("5200.00") + unw_usd
    assert Decimal(savings[0]["estimate_usd"]) == estimate
    assert Decimal(savings[0]["savings_usd"]) == estimate - award
    per_agency = {a["agency"]: a for a in savings[0]["agencies"]}
    assert Decimal(per_agency["UNDP"]["savings_usd"]) == Decimal("12500.00") - Decimal("11803.33")
