"""Cost pools and their allocation by the key in force, through the API (DESIGN §7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof.core.db import db
from jof.core.timeutil import utcnow
from jof.governance.models import AllocationShare
from tests.governance.conftest import MANAGER, MEMBERS, head_email

POOLS = "/api/v1/governance/cost-pools"
PREVIEW = "/api/v1/governance/allocations/preview"
ALLOCATIONS = "/api/v1/governance/allocations"


def _period() -> str:
    return utcnow().strftime("%Y-%m")


def _pool(client, category: str, amount: str, period: str | None = None):
    return client.post(POOLS, json={"period": period or _period(), "category": category, "amount": amount,
                                    "description": f"{category} this month"})


@pytest.mark.parametrize("email", ["auditor@jof.example", "requester@undp.jof.example", head_email("UNDP"),
                                   "procurement@jof.example"])
def test_only_the_manager_enters_cost_pools(api, email):
    assert _pool(api(email), "staff", "1000.00").status_code == 403
    r = _pool(api(MANAGER), "staff", "1000.00")
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"id": r.get_json()["id"], "period": _period(), "category": "staff",
                            "amount": "1000.00", "description": "staff this month"}
    assert [p["category"] for p in api(email).get(POOLS, query_string={"period": _period()}).get_json()] == ["staff"]


@pytest.mark.parametrize("amount", ["-1.00", "10.001", "ten"])
def test_a_pool_amount_is_a_non_negative_amount_to_the_cent(api, amount):
    assert _pool(api(MANAGER), "staff", amount).status_code == 422


def test_one_pool_per_category_and_month(api):
    manager = api(MANAGER)
    assert _pool(manager, "premises", "100.00").status_code == 201
    r = _pool(manager, "premises", "200.00")
    assert r.status_code == 422 and "category" in r.get_json()["errors"]


def test_the_preview_explains_every_share_and_sums_to_each_pool(api):
    manager = api(MANAGER)
    _pool(manager, "staff", "45678.91")
    _pool(manager, "premises", "1000.00")
    body = manager.get(PREVIEW, query_string={"period": _period()}).get_json()
    assert body["recorded"] is False
    assert body["key"]["components"] == {"equal": "40", "headcount": "60"}
    assert body["key"]["resolution_number"] == f"RES-{utcnow().year}-001"
    for pool in body["pools"]:
        assert [s["agency"] for s in pool["shares"]] == MEMBERS  # members only, the partner pays fees
        assert sum(Decimal(s["amount"]) for s in pool["shares"]) == Decimal(pool["pool"]["amount"])
        assert pool["total"] == pool["pool"]["amount"]
    premises = next(p for p in body["pools"] if p["pool"]["category"] == "premises")
    undp = next(s for s in premises["shares"] if s["agency"] == "UNDP")
    # 1000 × (40% × 1/6 + 60% × 120/300): demo headcounts 120+35+48+22+60+15 = 300
    assert undp["explanation"]["inputs"] == {"equal": "1 of 6", "headcount": "120 of 300"}
    assert undp["explanation"]["weights"] == {"equal": "40%", "headcount": "60%"}
    assert undp["explanation"]["raw_share"] == "306.666667"
    assert undp["amount"] == "306.67"
    assert Decimal(undp["explanation"]["rounding_adjustment"]) == Decimal("0.003333")


def _digest(client, period: str | None = None) -> str:
    return client.get(PREVIEW, query_string={"period": period or _period()}).get_json()["digest"]


def test_recording_needs_confirmation_and_the_manager(api, session):
    manager = api(MANAGER)
    _pool(manager, "staff", "100.00")
    digest = _digest(manager)
    assert manager.post(ALLOCATIONS, json={"period": _period(), "digest": digest}).status_code == 422
    assert manager.post(ALLOCATIONS, json={"period": _period(), "confirm": False, "digest": digest}).status_code == 422
    assert manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True}).status_code == 422  # no digest
    for email in ("auditor@jof.example", head_email("UNDP")):
        r = api(email).post(ALLOCATIONS, json={"period": _period(), "confirm": True, "digest": digest})
        assert r.status_code == 403
    assert db.session.scalar(select(func.count(AllocationShare.id))) == 0
    assert manager.get(ALLOCATIONS, query_string={"period": _period()}).status_code == 404


def test_the_recorded_shares_sum_exactly_to_each_pool(api, session):
    manager = api(MANAGER)
    amounts = {"staff": "98765.43", "premises": "0.05", "ict_infrastructure": "1234.57"}
    for category, amount in amounts.items():
        _pool(manager, category, amount)
    r = manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True, "digest": _digest(manager)})
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == manager.get(ALLOCATIONS, query_string={"period": _period()}).get_json()

    recorded = manager.get(ALLOCATIONS, query_string={"period": _period()}).get_json()
    assert recorded["recorded"] is True
    assert {p["pool"]["category"]: sum(Decimal(s["amount"]) for s in p["shares"]) for p in recorded["pools"]} == \
        {c: Decimal(a) for c, a in amounts.items()}
    rows = db.session.scalars(select(AllocationShare)).all()
    assert len(rows) == 3 * len(MEMBERS)
    assert sum(r.amount for r in rows) == sum(Decimal(a) for a in amounts.values())
    assert all("raw_share" in r.explanation for r in rows)
    # Recording again replaces the shares, it never adds to them.
    assert manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True,
                                           "digest": _digest(manager)}).status_code == 201
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AllocationShare.id))) == 3 * len(MEMBERS)
    assert db.session.scalar(select(func.sum(AllocationShare.amount))) == sum(Decimal(a) for a in amounts.values())
    # The month's pools are frozen once its allocation is recorded.
    assert _pool(manager, "other", "10.00").status_code == 409


def test_a_month_without_pools_or_key_cannot_be_previewed(api):
    manager = api(MANAGER)
    assert manager.get(PREVIEW, query_string={"period": _period()}).status_code == 409
    _pool(manager, "staff", "10.00", period=f"{utcnow().year - 1}-06")  # before the founding key
    assert manager.get(PREVIEW, query_string={"period": f"{utcnow().year - 1}-06"}).status_code == 409
    assert manager.get(PREVIEW, query_string={"period": "2026-13"}).status_code == 422


def test_usage_counts_come_from_the_requests_completed_in_the_month(api, board, make):
    start = date(utcnow().year, utcnow().month, 1)
    decision = board.open(kind="cost_sharing_key", title="Pay by use", payload={
        "effective_from": start.isoformat(), "components": {"usage_count": "50", "usage_value": "50"}})
    board.votes(decision, yes=4)
    assert board.close(decision).outcome == "adopted"

    make.request("requester@undp.jof.example", status="completed", amount_usd="300.00")
    make.request("requester@undp.jof.example", status="completed", amount_usd="100.00")
    make.request("requester@unfpa.jof.example", status="completed", amount_usd="600.00")
    make.request("requester@unfpa.jof.example", status="in_progress", amount_usd="5000.00")  # not done
    make.request("requester@unaids.jof.example", status="completed", amount_usd="900.00")  # a partner
    manager = api(MANAGER)
    _pool(manager, "staff", "3000.00")

    body = manager.get(PREVIEW, query_string={"period": _period()}).get_json()
    shares = {s["agency"]: s for s in body["pools"][0]["shares"]}
    assert shares["UNDP"]["explanation"]["inputs"] == {"usage_count": "2 of 3", "usage_value": "400 of 1000"}
    assert shares["UNFPA"]["explanation"]["inputs"] == {"usage_count": "1 of 3", "usage_value": "600 of 1000"}
    assert shares["UNEP"]["explanation"]["inputs"] == {"usage_count": "0 of 3", "usage_value": "0 of 1000"}
    # 3000 × (½ × 2/3 + ½ × 0.4) = 1600; 3000 × (½ × 1/3 + ½ × 0.6) = 1400
    assert {c: s["amount"] for c, s in shares.items()} == {
        "UNDP": "1600.00", "UNFPA": "1400.00", "UNEP": "0.00", "UNESCO": "0.00", "UNOPS": "0.00",
        "UNWOMEN": "0.00"}
    # Last month's key and inputs are untouched by this month's requests.
    assert body["key"]["resolution_number"] == decision.resolution_number


def test_recording_refuses_figures_that_changed_since_the_preview(api, session):
    manager = api(MANAGER)
    pool = _pool(manager, "staff", "600.00").get_json()
    digest = _digest(manager)
    assert manager.patch(f"{POOLS}/{pool['id']}", json={"amount": "660.00"}, headers={"If-Match": "*"}).status_code == 200
    for stale in (digest, "", "é" * 64):
        r = manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True, "digest": stale})
        assert r.status_code == 409 and "changed since your preview" in r.get_json()["detail"]
    assert db.session.scalar(select(func.count(AllocationShare.id))) == 0
    r = manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True, "digest": _digest(manager)})
    assert r.status_code == 201
    assert sum(Decimal(s["amount"]) for s in r.get_json()["pools"][0]["shares"]) == Decimal("660.00")


def test_the_recorded_allocation_is_what_was_stored_not_a_recomputation(api, session):
    from jof.core.people import Agency, AgencyHeadcount

    manager = api(MANAGER)
    _pool(manager, "staff", "600.00")
    recorded = manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True,
                                               "digest": _digest(manager)}).get_json()
    # UNDP's headcount is corrected afterwards: a recomputation would now differ.
    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    db.session.execute(AgencyHeadcount.__table__.update().where(
        AgencyHeadcount.agency_id == undp.id, AgencyHeadcount.year == utcnow().year).values(headcount=1))
    db.session.commit()
    preview = manager.get(PREVIEW, query_string={"period": _period()}).get_json()
    assert preview["pools"][0]["shares"] != recorded["pools"][0]["shares"]
    stored = manager.get(ALLOCATIONS, query_string={"period": _period()}).get_json()
    assert stored["pools"] == recorded["pools"] and stored["recorded"] is True


@pytest.mark.parametrize("email", ["auditor@jof.example", head_email("UNDP"), "requester@undp.jof.example"])
def test_only_the_manager_edits_or_removes_a_pool(api, email):
    pool = _pool(api(MANAGER), "premises", "100.00").get_json()
    assert api(email).patch(f"{POOLS}/{pool['id']}", json={"amount": "1.00"}).status_code == 403
    assert api(email).delete(f"{POOLS}/{pool['id']}").status_code == 403
    assert api(MANAGER).get(POOLS, query_string={"period": _period()}).get_json()[0]["amount"] == "100.00"


def test_the_manager_corrects_and_removes_a_pool_with_audit_until_the_month_is_recorded(api, session):
    from jof.core.audit import AuditEvent

    manager = api(MANAGER)
    pool = _pool(manager, "premises", "100.00").get_json()
    url = f"{POOLS}/{pool['id']}"
    assert manager.patch(url, json={"amount": "100.001"}).status_code == 422
    r = manager.patch(url, json={"amount": "120.50", "description": "Rent and cleaning"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["amount"] == "120.50"
    assert r.get_json()["description"] == "Rent and cleaning"
    assert manager.delete(url).status_code == 204
    assert manager.get(POOLS, query_string={"period": _period()}).get_json() == []
    assert manager.patch(url, json={"amount": "1.00"}).status_code == 404
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("cost_pool.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["cost_pool.create", "cost_pool.update", "cost_pool.delete"]

    staff = _pool(manager, "staff", "300.00").get_json()
    assert manager.post(ALLOCATIONS, json={"period": _period(), "confirm": True,
                                           "digest": _digest(manager)}).status_code == 201
    assert manager.patch(f"{POOLS}/{staff['id']}", json={"amount": "1.00"}).status_code == 409
    assert manager.delete(f"{POOLS}/{staff['id']}").status_code == 409
    assert manager.get(POOLS, query_string={"period": _period()}).get_json()[0]["amount"] == "300.00"
