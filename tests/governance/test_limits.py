"""Absurd periods, dates, pages and amounts are clear 4xx answers, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import csrf_from


@pytest.mark.parametrize("period", ["9999-12", "0000-01", "1999-12"])
def test_a_period_outside_2000_to_2099_is_a_422(api, period):
    manager = api("manager@jof.example")
    r = manager.get(f"/api/v1/governance/allocations/preview?period={period}")
    assert r.status_code == 422, r.get_json()
    r = manager.post("/api/v1/governance/cost-pools",
                     json={"period": period, "category": "staff", "amount": "10.00"})
    assert r.status_code == 422, r.get_json()
    assert "period" in r.get_json()["errors"]


@pytest.mark.parametrize("amount", ["1e999999999", "1e-999999999", "123456789012345678901"])
def test_an_absurd_amount_is_a_422_not_a_500(api, amount):
    r = api("manager@jof.example").post("/api/v1/governance/cost-pools", json={
        "period": "2026-01", "category": "staff", "amount": amount})
    assert r.status_code == 422, r.get_json()
    assert "amount" in r.get_json()["errors"]


@pytest.mark.parametrize("closes_at", ["9999-12-31T23:59:59-05:00", "far"])
def test_voting_cannot_close_in_the_far_future(api, closes_at):
    manager = api("manager@jof.example")
    decision = manager.post("/api/v1/governance/decisions", json={"title": "Far away"}).get_json()
    if closes_at == "far":
        closes_at = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    r = manager.post(f"/api/v1/governance/decisions/{decision['id']}/open", json={"closes_at": closes_at})
    assert r.status_code == 422, r.get_json()
    assert "closes_at" in r.get_json()["errors"]


def test_html_pages_survive_huge_numbers_and_deep_json(web):
    manager = web("manager@jof.example")
    assert manager.get("/governance/resolutions?page=99999999999999999999").status_code == 422  # the same answer as every list
    page = manager.get("/governance/costs?period=2026-01").get_data(as_text=True)
    r = manager.post("/governance/costs", data={
        "csrf_token": csrf_from(page), "period": "2026-01", "action": "delete",
        "pool_id": "99999999999999999999999"})
    assert r.status_code == 404
    page = manager.get("/governance/decisions/new").get_data(as_text=True)
    r = manager.post("/governance/decisions/new", data={
        "csrf_token": csrf_from(page), "title": "Huge", "kind": "cost_sharing_key", "key_month": "2030-01",
        "key_equal": "1e999999999", "weight_UNDP": "9" * 100000})
    assert r.status_code == 422
    r = manager.get("/governance/decisions/key-preview.json", query_string={"key_fixed": "1e999999999"})
    assert r.status_code == 200 and r.get_json()["shares"] == []


@pytest.mark.parametrize("period", ["2_026-01", "+2026-01", " 2026-01", "٢٠٢٦-01"])
def test_a_period_is_read_strictly(period):
    from jof.core.errors import ValidationFailed
    from jof.governance.cost_sharing import parse_period

    with pytest.raises(ValidationFailed):
        parse_period(period)
