"""The ICT ticket list sorts by a whitelisted column, keeps its status filter and exports
every filtered ticket with the page's columns, in a fixed number of statements."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from tests.ict.test_tickets import file
from tests.querycount import statements

REQUESTER = "requester@undp.jof.example"
MANAGER = "manager@jof.example"


def test_the_ticket_list_sorts_by_title_both_ways_and_keeps_the_filter(api, web):
    refs = {t: file(api(REQUESTER), title=t)["reference"] for t in ("Bravo", "Alpha", "Charlie")}
    c = web(MANAGER)
    up = c.get("/ict/tickets?status=new&sort=title&dir=asc").get_data(as_text=True)
    shown = re.findall(r'data-reference="(ICT-[\d-]+)"', up)
    assert shown == [refs["Alpha"], refs["Bravo"], refs["Charlie"]]
    down = c.get("/ict/tickets?status=new&sort=title&dir=desc").get_data(as_text=True)
    assert re.findall(r'data-reference="(ICT-[\d-]+)"', down) == shown[::-1]
    assert 'href="/ict/tickets?status=new&amp;sort=title&amp;dir=desc"' in up
    assert c.get("/ict/tickets?sort=assignee_id").status_code == 422


def test_the_ticket_export_holds_every_filtered_ticket_formula_safe(api, web):
    for i in range(3):
        file(api(REQUESTER), title=f"Ticket {i}")
    file(api(REQUESTER), title="=cmd|' /C calc'!A0")
    c = web(MANAGER)
    rows = list(csv.DictReader(io.StringIO(c.get("/ict/tickets?status=new&format=csv").get_data(as_text=True))))
    assert len(rows) == 4
    assert all(not r["title"].startswith("=") for r in rows)
    assert {r["priority"] for r in rows} <= {"P1", "P2", "P3", "P4"}
    ws = load_workbook(io.BytesIO(c.get("/ict/tickets?status=new&format=xlsx").data)).active
    assert ws.max_row - 3 == 4 and ws.cell(3, 1).value == "Reference"
    assert c.get("/ict/tickets?status=closed&format=csv").get_data(as_text=True).count("\n") == 1  # header only


def test_the_ticket_export_costs_the_same_statements_for_2_and_10_tickets(app, api, web):
    c = web(MANAGER)
    c.get("/ict/tickets")
    for i in range(2):
        file(api(REQUESTER), title=f"A{i}")
    with statements(app) as small:
        assert c.get("/ict/tickets?format=csv").status_code == 200
    for i in range(8):
        file(api(REQUESTER), title=f"B{i}")
    with statements(app) as large:
        assert c.get("/ict/tickets?format=csv").status_code == 200
    assert large.count == small.count, large.statements[-5:]


def test_an_empty_ticket_list_says_how_to_open_one(web):
    assert "open one with Open a ticket" in web(REQUESTER).get("/ict/tickets").get_data(as_text=True)
