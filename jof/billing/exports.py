"""Spreadsheet exports of billing (DESIGN §7: "CSV and XLSX export"): the statement of
account as CSV and as a workbook.

Amounts go into the workbook as numbers written from their Decimal value (never through
a float computed here), formatted ``#,##0.00``; dates as dates. Text is always text: a
reference or a credit-note reason starting with ``=`` is not turned into a formula.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from jof.billing.statements import Entry
from jof.core.calendar import local_today
from jof.core.formatting import plain
from jof.core.listing import formula_safe as _formula_safe
from jof.core.people import Agency

AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("Date", "Type", "Reference", "Description", "Debit (USD)", "Credit (USD)", "Balance (USD)", "Status")
CSV_HEADER = ("date", "type", "reference", "description", "debit_usd", "credit_usd", "balance_usd", "status")
#: The row of the column headings; entries start on the next one.
HEADER_ROW = 4


def statement_csv(agency: Agency, entries: list[Entry]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_HEADER)
    for e in entries:
        w.writerow([e.on.isoformat(), e.kind, _text_cell(e.reference), _text_cell(e.description),
                    plain(e.debit), plain(e.credit), plain(e.balance), e.status or ""])
    return out.getvalue()


#: Keep typed text (a payment reference, a reason) from opening as a spreadsheet formula:
#: one guard for every export of JOF (:mod:`jof.core.listing`).
_text_cell = _formula_safe


#: The same guard under a public name, for the other exports of JOF (monitoring's tables).
formula_safe = _text_cell


def _text(cell, value: str) -> None:
    cell.value = value
    cell.data_type = "s"  # openpyxl would store "=..." as a formula


def _amount(cell, value: Decimal) -> None:
    cell.value = value
    cell.number_format = AMOUNT_FORMAT


def statement_xlsx(agency: Agency, entries: list[Entry]) -> bytes:
    """The statement of account as a workbook: a title block, one row per entry with
    the running balance, and the balance due."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"Statement {agency.code}"[:31]
    _text(ws.cell(1, 1), f"Statement of account: {agency.name} ({agency.code})")
    ws.cell(1, 1).font = Font(bold=True, size=13)
    _text(ws.cell(2, 1), "As of")
    ws.cell(2, 2).value = local_today()
    ws.cell(2, 2).number_format = DATE_FORMAT
    for col, title in enumerate(HEADER, start=1):
        _text(ws.cell(HEADER_ROW, col), title)
        ws.cell(HEADER_ROW, col).font = Font(bold=True)
    row = HEADER_ROW
    for row, e in enumerate(entries, start=HEADER_ROW + 1):
        ws.cell(row, 1).value = e.on
        ws.cell(row, 1).number_format = DATE_FORMAT
        _text(ws.cell(row, 2), e.kind)
        _text(ws.cell(row, 3), e.reference)
        _text(ws.cell(row, 4), e.description)
        _amount(ws.cell(row, 5), e.debit)
        _amount(ws.cell(row, 6), e.credit)
        _amount(ws.cell(row, 7), e.balance)
        if e.status:
            _text(ws.cell(row, 8), e.status)
    total_row = row + 2
    _text(ws.cell(total_row, 6), "Balance due")
    ws.cell(total_row, 6).font = Font(bold=True)
    _amount(ws.cell(total_row, 7), entries[-1].balance if entries else Decimal("0.00"))
    ws.cell(total_row, 7).font = Font(bold=True)
    for col, width in enumerate((12, 12, 18, 60, 15, 15, 15, 15), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
