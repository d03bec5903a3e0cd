"""The subscription overview sorts within each agency, keeps its agency filter and exports
every filtered subscription with the page's columns, in a fixed number of statements."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests.conftest import csrf_from
from tests.querycount import statements

MANAGER = "manager@jof.example"


def _order(web, agency: str, seats: str, starts_on: str) -> str:
    c = web(f"requester@{agency}.jof.example")
    token = csrf_from(c.get("/ict/subscriptions/new").get_data(as_text=True))
    r = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": seats,
                                                "starts_on": starts_on, "csrf_token": token})
    assert r.status_code == 302
    return re.search(r"(ICS-\d{4}-\d{5})", r.headers["Location"]).group(1)


def test_the_subscription_list_sorts_keeps_the_agency_filter_and_exports_it(web):
    first = _order(web, "undp", "3", "2026-05-01")
    second = _order(web, "undp", "7", "2026-04-01")
    other = _order(web, "unfpa", "2", "2026-04-01")
    c = web(MANAGER)
    up = c.get("/ict/subscriptions?agency=UNDP&sort=starts_on&dir=asc").get_data(as_text=True)
    shown = re.findall(r'href="/ict/subscriptions/(ICS-[\d-]+)"', up)
    assert shown == [second, first]
    assert 'href="/ict/subscriptions?agency=UNDP&amp;sort=starts_on&amp;dir=desc"' in up
    rows = list(csv.DictReader(io.StringIO(
        c.get("/ict/subscriptions?agency=UNDP&sort=starts_on&dir=asc&format=csv").get_data(as_text=True))))
    assert [r["reference"] for r in rows] == [second, first] and other not in {r["reference"] for r in rows}
    assert [r["seats_now"] for r in rows] == ["7", "3"]
    assert Decimal(rows[0]["monthly_value_usd"]) == Decimal("84.00")  # 7 seats × 12.00, as the page shows
    assert "USD 84.00" in up
    ws = load_workbook(io.BytesIO(c.get("/ict/subscriptions?format=xlsx").data)).active
    assert ws.max_row - 3 == 3
    assert c.get("/ict/subscriptions?sort=seats").status_code == 422


def test_the_subscription_export_costs_the_same_statements_for_1_and_5_subscriptions(app, web):
    c = web(MANAGER)
    c.get("/ict/subscriptions")
    _order(web, "undp", "1", "2026-04-01")
    with statements(app) as small:
        assert c.get("/ict/subscriptions?format=csv").status_code == 200
    for i in range(4):
        _order(web, "unfpa", str(i + 2), "2026-04-01")
    with statements(app) as large:
        assert c.get("/ict/subscriptions?format=csv").status_code == 200
    assert large.count == small.count, large.statements[-5:]


def test_an_empty_subscription_list_says_how_to_order(web):
    assert "order one with Order a service" in web("requester@undp.jof.example").get(
        "/ict/subscriptions").get_data(as_text=True)
