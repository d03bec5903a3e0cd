"""Every dashboard table as CSV and as XLSX (DESIGN §8, issue 12): the same rows the page
shows. Text goes through billing's formula guard (a cell starting with ``=`` stays text);
amounts are written to the workbook from their Decimal value, as numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from jof.billing.exports import XLSX_MIMETYPE, formula_safe
from jof.core.listing import write_cell
from jof.monitoring.dashboard import Dashboard, Table

__all__ = ["XLSX_MIMETYPE", "table_csv", "table_xlsx"]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, (int, Decimal, date)):
        return value.isoformat() if isinstance(value, date) else value
    return formula_safe(value)


def table_csv(table: Table) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(table.keys)
    for row in table.rows:
        w.writerow([_csv_value(v) for v in row])
    return out.getvalue()


def table_xlsx(board: Dashboard, table: Table) -> bytes:
    """One table as a workbook: a title block (table, period, agency) and the rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = table.key[:31]
    write_cell(ws.cell(1, 1), str(table.title))
    ws.cell(1, 1).font = Font(bold=True, size=13)
    f = board.filters
    write_cell(ws.cell(2, 1), f"{f.start.isoformat()} – {f.end.isoformat()}"
          + (f" · {board.agency.code}" if board.agency else "") + (f" · {f.line}" if f.line else ""))
    for col, title in enumerate(table.columns, start=1):
        write_cell(ws.cell(4, col), str(title))
        ws.cell(4, col).font = Font(bold=True)
    for r, row in enumerate(table.rows, start=5):
        for col, value in enumerate(row, start=1):
            write_cell(ws.cell(r, col), value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
