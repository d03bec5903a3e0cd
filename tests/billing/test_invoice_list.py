"""The invoice list sorts by a whitelisted column, keeps its filter and exports every
filtered invoice with the same totals and balances as the page."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests.billing.conftest import MONTH, close
from tests.querycount import statements

MANAGER = "manager@jof.example"
P = f"{MONTH:%Y-%m}"


def _numbers(html: str) -> list[str]:
    return re.findall(r'href="/billing/invoices/\d+">([^<]+)<', html)


def test_the_invoice_list_sorts_by_total_both_ways(app, web, month):
    close(app, month)
    c = web(MANAGER)
    up = c.get(f"/billing/?period={P}&sort=total_usd&dir=asc").get_data(as_text=True)
    down = c.get(f"/billing/?period={P}&sort=total_usd&dir=desc").get_data(as_text=True)
    totals_up = [r["total_usd"] for r in csv.DictReader(io.StringIO(
        c.get(f"/billing/?period={P}&sort=total_usd&dir=asc&format=csv").get_data(as_text=True)))]
    assert [Decimal(t) for t in totals_up] == sorted(Decimal(t) for t in totals_up)
    agencies_up = re.findall(r'<td>([A-Z]+)</td><td>' + P, up)
    agencies_down = re.findall(r'<td>([A-Z]+)</td><td>' + P, down)
    assert len(agencies_up) == 7 and agencies_up[0] == agencies_down[-1] and agencies_up[-1] == agencies_down[0]
    assert f'href="/billing/?period={P}&amp;sort=total_usd&amp;dir=desc"' in up
    assert c.get("/billing/?sort=agency_id").status_code == 422


def test_the_invoice_export_holds_every_filtered_invoice_with_the_page_numbers(app, web, month):
    close(app, month, issue=("UNESCO",))
    c = web(MANAGER)
    page = c.get(f"/billing/?period={P}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(c.get(f"/billing/?period={P}&format=csv").get_data(as_text=True))))
    assert len(rows) == 7
    unesco = next(r for r in rows if r["agency"] == "UNESCO")
    assert unesco["number"].startswith("JOF-") and Decimal(unesco["balance_usd"]) == Decimal(unesco["total_usd"])
    for row in rows:  # the page shows the same totals
        assert f"{Decimal(row['total_usd']):,.2f}" in page
    ws = load_workbook(io.BytesIO(c.get(f"/billing/?period={P}&format=xlsx").data)).active
    assert ws.max_row - 3 == 7 and ws.cell(3, 5).value == "Total"
    assert isinstance(ws.cell(4, 5).value, (int, float))


def test_the_invoice_export_costs_the_same_statements_whatever_the_number_of_invoices(app, web, month):
    c = web(MANAGER)
    c.get("/billing/")
    close(app, month, issue=("UNESCO",))
    with statements(app) as one:
        assert c.get("/billing/?agency=UNESCO&format=csv").status_code == 200
    with statements(app) as seven:
        assert c.get("/billing/?format=csv").status_code == 200
    assert one.count == seven.count, seven.statements[-6:]


def test_an_empty_invoice_list_says_what_to_do(web):
    assert "close a month on Period close" in web(MANAGER).get("/billing/").get_data(as_text=True)
