"""Every dashboard table as CSV and as XLSX (DESIGN §8, issue 12): the same rows the page
shows, written by core.listing's cell writers like every list's export. In CSV an amount
is plain decimal text to the cent (never ``1.288E+7``); in XLSX it is a number with the
amount format. A column is money when its key ends in ``_usd``; other decimals (working
hours, shares in percent) are numbers with the measure format. Text never opens as a
formula."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from jof.core.listing import AMOUNT_FORMAT, MEASURE_FORMAT, XLSX_MIMETYPE, csv_cell, write_cell
from jof.core.money import quantize
from jof.monitoring.dashboard import Dashboard, Table

__all__ = ["XLSX_MIMETYPE", "table_csv", "table_xlsx"]


def _is_money(key: str) -> bool:
    return key.endswith("_usd")


def _value(key: str, value):
    return quantize(value) if isinstance(value, Decimal) and _is_money(key) else value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(table.keys)
    for row in table.rows:
        w.writerow([csv_cell(_value(k, v)) for k, v in zip(table.keys, row, strict=True)])
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
        for col, (key, value) in enumerate(zip(table.keys, row, strict=True), start=1):
            write_cell(ws.cell(r, col), _value(key, value),
                       number_format=AMOUNT_FORMAT if _is_money(key) else MEASURE_FORMAT)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
