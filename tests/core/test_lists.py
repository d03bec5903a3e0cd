"""Lists sort by a whitelisted column, keep their filters in the URL and export every
filtered row (CSV formula-safe, XLSX readable) with the page's columns."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from jof.core.db import db
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from tests.querycount import statements

MANAGER = "manager@jof.example"
REQUESTER = "requester@undp.jof.example"


def _requests(app, titles: list[str], status: str = "submitted") -> None:
    with app.app_context():
        who = db.session.scalar(select(User).where(User.email == REQUESTER))
        now = utcnow()
        start = db.session.query(ServiceRequest).count()
        for i, title in enumerate(titles, start=start + 1):
            db.session.add(ServiceRequest(
                reference=f"TST-2026-{i:05d}", request_type="test", agency_id=who.agency_id,
                requester_id=who.id, title=title, status=status, created_at=now,
                status_changed_at=now))
        db.session.commit()
        db.session.remove()


def _refs(html: str) -> list[str]:
    return re.findall(r'href="/requests/(TST-2026-\d+)"', html)


def test_the_queue_sorts_by_a_column_both_ways_and_keeps_the_filters(app, web):
    _requests(app, ["banana", "apple", "cherry"])
    _requests(app, ["zebra"], status="draft")
    manager = web(MANAGER)
    up = manager.get("/queue?status=submitted&sort=title&dir=asc").get_data(as_text=True)
    assert _refs(up) == ["TST-2026-00002", "TST-2026-00001", "TST-2026-00003"]
    down = manager.get("/queue?status=submitted&sort=title&dir=desc").get_data(as_text=True)
    assert _refs(down) == ["TST-2026-00003", "TST-2026-00001", "TST-2026-00002"]
    # the heading links keep the filter and reverse the order in force
    assert 'href="/queue?status=submitted&amp;sort=title&amp;dir=desc"' in up
    assert 'aria-sort="ascending"' in up
    # paging keeps sort and filter
    assert "TST-2026-00004" not in up


def test_the_queue_refuses_a_sort_outside_its_whitelist(app, web):
    manager = web(MANAGER)
    assert manager.get("/queue?sort=password_hash").status_code == 422
    assert manager.get("/queue?sort=title&dir=sideways").status_code == 422
    assert manager.get("/queue?format=pdf").status_code == 422


def test_the_queue_export_holds_every_filtered_row_not_just_the_page(app, web):
    _requests(app, [f"Request {i}" for i in range(30)] + ["=HYPERLINK(\"http://x\")"])
    _requests(app, ["a draft"], status="draft")
    manager = web(MANAGER)
    app.config["PER_PAGE_DEFAULT"], default = 10, app.config["PER_PAGE_DEFAULT"]
    try:
        page = manager.get("/queue?status=submitted").get_data(as_text=True)
        r = manager.get("/queue?status=submitted&format=csv")
    finally:
        app.config["PER_PAGE_DEFAULT"] = default
    assert len(_refs(page)) == 10
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 31
    assert "a draft" not in {row["title"] for row in rows}
    assert "'=HYPERLINK(\"http://x\")" in {row["title"] for row in rows}
    assert all(not row["title"].startswith("=") for row in rows)
    assert rows[0]["status"] == "Submitted"


def test_the_queue_xlsx_opens_with_the_page_columns_and_every_row(app, web):
    _requests(app, ["=1+1", "plain"])
    r = web(MANAGER).get("/queue?format=xlsx&sort=title&dir=asc")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in ws[3]][:4] == ["Reference", "Line", "Agency", "Title"]
    titles = [ws.cell(row, 4).value for row in range(4, ws.max_row + 1)]
    assert titles == ["=1+1", "plain"]
    assert ws.cell(4, 4).data_type == "s"


def test_the_queue_export_costs_the_same_statements_for_10_and_100_rows(app, web):
    manager = web(MANAGER)
    manager.get("/queue")
    _requests(app, [f"R{i}" for i in range(10)])
    with statements(app) as small:
        assert manager.get("/queue?format=csv").status_code == 200
    _requests(app, [f"S{i}" for i in range(90)])
    with statements(app) as large:
        assert manager.get("/queue?format=xlsx").status_code == 200
    assert large.count == small.count, large.statements[-5:]


def test_an_empty_queue_says_what_to_do(app, web):
    mine = web(REQUESTER).get("/queue").get_data(as_text=True)
    assert "file one with New request" in mine
    filtered = web(MANAGER).get("/queue?status=closed").get_data(as_text=True)
    assert "No request matches these filters" in filtered
