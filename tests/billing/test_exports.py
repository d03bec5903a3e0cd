"""The statement of account as XLSX (DESIGN §7: CSV and XLSX export), read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from openpyxl import load_workbook

from jof.billing import exports, invoices, services, statements
from jof.core.calendar import local_today
from jof.core.db import db
from tests.billing.conftest import user

MANAGER = "manager@jof.example"


def _issue_pay_and_credit(app, month) -> None:
    """UNDP: its invoice, a partial payment and a partial credit note whose reason looks like a formula."""
    with app.app_context():
        manager = user(MANAGER)
        services.close_period(manager, month.period)
        issued = {i.agency.code: i for i in invoices.issue_period(manager, month.period)}
        undp = issued["UNDP"]
        invoices.record_payment(manager, undp, paid_on=local_today(), amount="1234.56", reference="BB-2026-17")
        invoices.credit_note(manager, undp, reason='=HYPERLINK("http://evil.example","x")', amount="0.10")
        db.session.commit()


def _as_decimal(value) -> Decimal:
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(str(value))


def test_statement_xlsx_has_every_entry_with_decimal_amounts_and_the_balance(app, api, month):
    _issue_pay_and_credit(app, month)
    with app.app_context():
        _, entries = statements.statement(user(MANAGER), "UNDP")
    assert [e.kind for e in entries] == ["invoice", "credit_note", "payment"]

    r = api("head@undp.jof.example").get("/api/v1/billing/statements/UNDP.xlsx")
    assert r.status_code == 200 and r.mimetype == exports.XLSX_MIMETYPE
    assert 'filename="statement-UNDP.xlsx"' in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data)).active
    assert "UNDP" in ws.cell(1, 1).value
    assert [c.value for c in ws[exports.HEADER_ROW]] == list(exports.HEADER)
    for offset, e in enumerate(entries, start=1):
        row = ws[exports.HEADER_ROW + offset]
        on = row[0].value
        assert isinstance(on, datetime) and on.date() == e.on and row[0].is_date
        assert (row[1].value, row[2].value) == (e.kind, e.reference)
        for cell, amount in zip(row[4:7], (e.debit, e.credit, e.balance), strict=True):
            assert _as_decimal(cell.value) == amount and cell.number_format == "#,##0.00"
    # the credit note's reason stays text, never a formula
    reason = ws[exports.HEADER_ROW + 2][3]
    assert reason.data_type == "s" and reason.value.startswith('Credit note on JOF-') and "=HYPERLINK(" in reason.value
    invoice_total = entries[0].debit
    expected = invoice_total - Decimal("0.10") - Decimal("1234.56")
    assert entries[-1].balance == expected
    due = ws[exports.HEADER_ROW + len(entries) + 2]
    assert due[5].value == "Balance due" and _as_decimal(due[6].value) == expected
    assert due[6].number_format == "#,##0.00"


def test_statement_xlsx_for_other_agencies_is_404_and_the_page_links_it(app, api, web, month):
    _issue_pay_and_credit(app, month)
    undp = api("head@undp.jof.example")
    assert undp.get("/api/v1/billing/statements/UNFPA.xlsx").status_code == 404
    assert undp.get("/api/v1/billing/statements/NOPE.xlsx").status_code == 404
    csv_text = undp.get("/api/v1/billing/statements/UNDP.csv").get_data(as_text=True)
    assert csv_text.startswith("date,type,reference") and "BB-2026-17" in csv_text

    browser = web("requester@undp.jof.example")
    page = browser.get("/billing/statements/UNDP").get_data(as_text=True)
    assert 'href="/billing/statements/UNDP.xlsx"' in page
    r = browser.get("/billing/statements/UNDP.xlsx")
    assert r.status_code == 200 and r.mimetype == exports.XLSX_MIMETYPE
    ws = load_workbook(io.BytesIO(r.data)).active
    assert ws.cell(exports.HEADER_ROW + 3, 3).value == "BB-2026-17"
    assert browser.get("/billing/statements/UNFPA.xlsx").status_code == 404


def test_an_empty_statement_exports_a_zero_balance(app, api, month):
    r = api(MANAGER).get("/api/v1/billing/statements/UNEP.xlsx")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert r.status_code == 200 and ws.cell(exports.HEADER_ROW + 1, 1).value is None
    due = ws[exports.HEADER_ROW + 2]
    assert due[5].value == "Balance due" and _as_decimal(due[6].value) == Decimal("0.00")
    with app.app_context():
        assert isinstance(ws.cell(2, 2).value, datetime) and ws.cell(2, 2).value.date() == local_today()


def test_statement_csv_never_turns_typed_text_into_a_formula():
    from datetime import date

    entry = statements.Entry(on=date(2026, 1, 5), kind="payment", reference='=HYPERLINK("http://x","pay")',
                           description="@SUM(A1)", debit=Decimal("0.00"), credit=Decimal("10.00"),
                           balance=Decimal("-10.00"))
    text = exports.statement_csv(None, [entry])
    row = text.splitlines()[1]
    assert "'=HYPERLINK" in row and "'@SUM(A1)" in row
    assert row.endswith(",0.00,10.00,-10.00,")  # a payment has no status of its own
