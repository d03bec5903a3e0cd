"""Every list's CSV and XLSX export writes amounts right: the money test of the pages
(tests/test_formatting_pages.py), for the exports.

The app is crawled as the manager, the administrator and an agency requester over the busy
month of the page test (invoices of USD 12,895,320.12, an overpaid one with a negative
balance, a DSA rate of USD 0.01, an approval limit of USD 12,880,000.00); every export link
a list page offers is downloaded in both formats. In CSV an amount is plain decimal text
with the currency's decimals (``12880000.00``: no exponent, no grouping, no float
artefacts); in XLSX it is a number cell whose format has the currency's decimals. Every
list declared on :mod:`jof.core.listing` must be among the exports reached, so a new list
is checked too.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from jof.billing.models import Invoice, Payment
from jof.core.db import db
from jof.core.listing import AMOUNT_FORMAT, MEASURE_FORMAT, Listing
from jof.core.money import CURRENCIES
from jof.core.notifications import notify
from jof.core.people import Agency
from jof.travel.models import DsaRate
from tests.billing.conftest import month, user  # noqa: F401  (month is a fixture)
from tests.hr.conftest import recruitment_body
from tests.test_formatting_pages import EXPONENT, SKIP, busy_month, every_kind_of_page, shape  # noqa: F401

MANAGER = "manager@jof.example"
READERS = (MANAGER, "admin@jof.example", "requester@undp.jof.example")
#: An amount in USD (every list's amounts are USD) as CSV must write it.
PLAIN_USD = re.compile(rf"-?\d+\.\d{{{CURRENCIES['USD']}}}")
#: A number written with group separators: not a number a spreadsheet reads.
GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
USD_FORMAT = "#,##0." + "0" * CURRENCIES["USD"]
#: A monitoring dashboard table's CSV export (its XLSX is the same path ending ``.xlsx``).
MONITORING_CSV = re.compile(r"^/monitoring/export/(\w+)\.csv(?=\?|$)")


@pytest.fixture
def amounts_everywhere(app, api, every_kind_of_page):  # noqa: F811 - the page test's data, extended
    """The page test's data, plus a negative balance, a tiny rate, a huge limit, a
    recruitment and a notification (so that every list has a row to export)."""
    with app.app_context():
        unesco = db.session.get(Invoice, every_kind_of_page["UNESCO"])
        db.session.add(Payment(invoice_id=unesco.id, paid_on=date(2026, 5, 20), amount=unesco.total_usd + 100,
                               reference="Paid twice", recorded_by_id=user(MANAGER).id))
        db.session.scalar(select(DsaRate).order_by(DsaRate.id)).usd_per_night = Decimal("0.01")
        db.session.scalar(select(Agency).where(Agency.code == "UNDP")).approval_limit_usd = Decimal("12880000.00")
        notify(user(MANAGER), "Invoices of USD 12,880,000.00 are due", link="/billing/invoices")
        db.session.commit()
    r = api("requester@undp.jof.example").post("/api/v1/hr/recruitments", json=recruitment_body())
    assert r.status_code == 201, r.get_json()
    return every_kind_of_page


def export_links(client) -> set[str]:
    """The CSV export link of every list page the reader reaches from the dashboard, and of
    every monitoring dashboard table (``/monitoring/export/<table>.csv``)."""
    queue, visited, shapes, found = ["/"], set(), {}, set()
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        kind = shape(urlsplit(path).path)
        if shapes.get(kind, 0) >= 2:
            continue
        shapes[kind] = shapes.get(kind, 0) + 1
        r = client.get(path)
        if r.status_code != 200 or r.mimetype != "text/html":
            continue
        for href in re.findall(r'href="([^"#]+)"', r.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            if "format=csv" in href or MONITORING_CSV.match(href):
                found.add(href)
            elif href.startswith("/") and not SKIP.match(href) and "format=" not in href and href not in visited:
                queue.append(href)
    return found


def declared_lists() -> set[str]:
    return {obj.name for obj in gc.get_objects() if isinstance(obj, Listing)}


def _filename(r) -> str:
    return re.search(r'filename="([^"]+)"', r.headers["Content-Disposition"]).group(1).rsplit(".", 1)[0]


def check_export(client, href: str) -> tuple[str, list[Decimal]]:
    """One list's CSV and XLSX: the problems found, and the amounts the CSV holds."""
    r = client.get(href)
    assert r.status_code == 200 and r.mimetype == "text/csv", href
    name = _filename(r)
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))[1:]
    monitoring = MONITORING_CSV.match(href)
    book = client.get(MONITORING_CSV.sub(r"/monitoring/export/\1.xlsx", href) if monitoring else href.replace("format=csv", "format=xlsx"))
    assert book.status_code == 200 and _filename(book) == name, href
    # a list's workbook: title, headings on row 3; a monitoring table's: title, period, headings on row 4
    first = 5 if monitoring else 4
    cells = [list(row) for row in load_workbook(io.BytesIO(book.data)).active.iter_rows(min_row=first)]
    assert len(cells) == len(rows), (name, "the CSV and the XLSX hold different rows")
    problems, amounts = [], []
    for text_row, cell_row in zip(rows, cells, strict=True):
        for text, cell in zip(text_row, cell_row, strict=True):
            if EXPONENT.search(text) or GROUPED.fullmatch(text):
                problems.append(f"{name}: CSV cell {text!r}")
            if cell.number_format == AMOUNT_FORMAT:
                if not isinstance(cell.value, (int, float)):
                    problems.append(f"{name}: XLSX amount {cell.value!r} is not a number")
                if not PLAIN_USD.fullmatch(text):
                    problems.append(f"{name}: CSV amount {text!r}")
                else:
                    amounts.append(Decimal(text))
                if Decimal(text) != Decimal(str(cell.value)).quantize(Decimal(1).scaleb(-CURRENCIES["USD"])):
                    problems.append(f"{name}: XLSX {cell.value!r} is not CSV {text!r}")
            elif cell.number_format == MEASURE_FORMAT and isinstance(cell.value, (int, float)):
                # a measure that is not money (working hours, a share): plain text equal to the number
                if not re.fullmatch(r"-?\d+(?:\.\d+)?", text) or Decimal(text) != Decimal(str(cell.value)):
                    problems.append(f"{name}: XLSX measure {cell.value!r} is not CSV {text!r}")
            elif isinstance(cell.value, float) and not cell.is_date:
                problems.append(f"{name}: XLSX number {cell.value!r} without the currency's format")
    assert not problems, problems
    return name, amounts


def test_every_list_export_writes_plain_decimals_in_csv_and_formatted_numbers_in_xlsx(app, web, amounts_everywhere):
    assert AMOUNT_FORMAT == USD_FORMAT  # the currency's decimals (every list amount is in USD)
    exported: set[str] = set()
    tables: set[str] = set()  # the monitoring dashboard's tables, exported too
    amounts: list[Decimal] = []
    for email in READERS:
        client = web(email)
        for href in sorted(export_links(client)):
            name, found = check_export(client, href)
            exported.add(name)
            if MONITORING_CSV.match(href):
                tables.add(MONITORING_CSV.match(href).group(1))
            amounts += found
    assert sorted(declared_lists() - exported) == [], "lists whose export the crawl never reached"
    assert {"agencies", "cost", "savings", "times", "breaches"} <= tables, tables
    assert max(amounts) >= Decimal("12880000.00") and Decimal("0.01") in amounts and min(amounts) < 0
