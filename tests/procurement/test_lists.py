"""Procurement's lists (requisitions, joint tenders, purchase orders) sort by a whitelisted
column, keep their filters and export every filtered row with the page's columns."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests.procurement.conftest import OFFICER, requisition_body
from tests.querycount import statements

MANAGER = "manager@jof.example"


def _csv(c, path: str) -> list[dict]:
    r = c.get(path)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))


def test_the_requisition_list_sorts_by_estimate_both_ways_and_keeps_the_filter(flow, web):
    refs = [flow.file("undp", requisition_body("1", price)) for price in ("300.00", "100.00", "200.00")]
    c = web(MANAGER)
    up = c.get("/procurement/?status=draft&sort=estimate_usd&dir=asc").get_data(as_text=True)
    shown = re.findall(r'href="/procurement/requisitions/(PRC-[\d-]+)"', up)
    assert shown == [refs[1], refs[2], refs[0]]
    down = c.get("/procurement/?status=draft&sort=estimate_usd&dir=desc").get_data(as_text=True)
    assert re.findall(r'href="/procurement/requisitions/(PRC-[\d-]+)"', down) == shown[::-1]
    assert 'href="/procurement/?status=draft&amp;sort=estimate_usd&amp;dir=desc"' in up
    assert c.get("/procurement/?sort=budget_code").status_code == 422


def test_the_requisition_export_holds_every_filtered_row_with_the_page_amounts(flow, web):
    for price in ("1250.00", "99.50", "12880.00"):
        flow.file("undp", requisition_body("2", price))
    flow.approved("undp", requisition_body("1", "10.00"))
    c = web(MANAGER)
    page = c.get("/procurement/?status=draft").get_data(as_text=True)
    rows = _csv(c, "/procurement/?status=draft&format=csv")
    assert len(rows) == 3
    for row in rows:
        assert f"{Decimal(row['estimate_usd']):,.2f}" in page
    ws = load_workbook(io.BytesIO(c.get("/procurement/?status=draft&format=xlsx").data)).active
    assert ws.max_row - 3 == 3 and ws.cell(3, 4).value == "Estimate"


def test_the_requisition_export_costs_the_same_statements_for_2_and_8_rows(app, flow, web):
    c = web(MANAGER)
    c.get("/procurement/")
    for _ in range(2):
        flow.file("undp", requisition_body())
    with statements(app) as small:
        c.get("/procurement/?format=csv")
    for code in ("unfpa", "undp", "unfpa", "undp", "unfpa", "undp"):
        flow.file(code, requisition_body())
    with statements(app) as large:
        c.get("/procurement/?format=csv")
    assert large.count == small.count, large.statements[-5:]


def test_the_tender_list_sorts_and_exports(flow, web):
    numbers = []
    for title in ("Bravo laptops", "Alpha chairs"):
        ref = flow.approved("undp", requisition_body())
        r = flow.officer.post("/api/v1/procurement/tenders",
                              json={"title": title, "evaluation_method": "cumulative", "requisitions": [ref]})
        assert r.status_code == 201, r.get_json()
        numbers.append(r.get_json()["number"])
    c = web(OFFICER)
    up = c.get("/procurement/tenders?sort=title&dir=asc").get_data(as_text=True)
    assert re.findall(r'href="/procurement/tenders/\d+">([^<]+)<', up) == numbers[::-1]
    rows = _csv(c, "/procurement/tenders?sort=title&dir=asc&format=csv")
    assert [r["title"] for r in rows] == ["Alpha chairs", "Bravo laptops"]


def test_the_order_list_exports_with_its_columns_even_when_empty(web):
    c = web(MANAGER)
    assert "No purchase orders yet" in c.get("/procurement/purchase-orders").get_data(as_text=True)
    r = c.get("/procurement/purchase-orders?format=csv&sort=supplier")
    assert r.get_data(as_text=True).strip() == "number,agency,supplier,total_usd,status"
    assert c.get("/procurement/purchase-orders?sort=lta_id").status_code == 422


def test_an_empty_requisition_list_says_how_to_file_one(web):
    assert "file one with New requisition" in web("requester@undp.jof.example").get("/procurement/").get_data(as_text=True)


def test_the_supplier_list_sorts_by_name_and_exports_every_match_formula_safe(flow, web):
    for name, tax in (("Zeta Qwx Ltda", "11.111.111/0001-11"), ("Alfa Qwx SA", "22.222.222/0001-22"),
                      ("@qwx Ltda", "33.333.333/0001-33")):
        flow.supplier(name, tax)
    c = web(OFFICER)
    down = c.get("/procurement/suppliers?q=qwx&sort=name&dir=desc").get_data(as_text=True)
    assert re.findall(r'href="/procurement/suppliers/\d+">([^<]+)<', down) == ["Zeta Qwx Ltda", "Alfa Qwx SA", "@qwx Ltda"]
    assert 'href="/procurement/suppliers?q=qwx&amp;sort=name&amp;dir=asc"' in down
    rows = _csv(c, "/procurement/suppliers?q=qwx&format=csv")
    assert sorted(r["name"] for r in rows) == ["'@qwx Ltda", "Alfa Qwx SA", "Zeta Qwx Ltda"]
    assert rows[0]["status"] == "Active" and rows[0]["rating"] == ""


def test_the_supplier_export_costs_the_same_statements_for_2_and_6_suppliers(app, flow, web):
    c = web(OFFICER)
    c.get("/procurement/suppliers")
    for i in range(2):
        flow.supplier(f"S{i}", f"1{i}.111.111/0001-11")
    with statements(app) as small:
        c.get("/procurement/suppliers?format=xlsx")
    for i in range(4):
        flow.supplier(f"T{i}", f"2{i}.111.111/0001-11")
    with statements(app) as large:
        c.get("/procurement/suppliers?format=xlsx")
    assert large.count == small.count, large.statements[-5:]


def test_the_agreement_list_exports_with_its_columns(web):
    c = web(OFFICER)
    assert "No agreements yet" in c.get("/procurement/ltas").get_data(as_text=True)
    header = c.get("/procurement/ltas?format=csv").get_data(as_text=True).strip()
    assert header == "title,supplier,valid_from,valid_to,agencies,consumed_usd,ceiling_usd"
