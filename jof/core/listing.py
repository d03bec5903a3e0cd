"""One way for every HTML list to sort, keep its filters and export what it shows.

A list declares its :class:`Column` s once: the heading, the value a row shows (for the
export) and, for a sortable column, the SQL it sorts by. ``?sort=<key>&dir=asc|desc`` picks
the order from that whitelist only (anything else is the same 422 as a bad ``?page``), the
links keep every other argument of the URL (the filters), and ``?format=csv|xlsx`` on the
same URL answers every row the filters select (not just the page) with the page's columns.

Text in an export goes through :func:`formula_safe` (a cell typed as ``=HYPERLINK(...)``
opens as text, not as a formula); amounts go into the workbook as numbers written from their
Decimal value, dates as dates. In CSV an amount is plain decimal text (``12880000.00``,
never ``1.288E+7``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from jof.core.calendar import facility_zone
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.paging import html_page

AMOUNT_FORMAT = "#,##0.00"
#: A measure that is not money (working hours, a share in percent): up to two decimals.
MEASURE_FORMAT = "#,##0.0#"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
#: The most rows an export answers: far beyond any list of the facility.
MAX_EXPORT_ROWS = 50_000


def formula_safe(value) -> str:
    """Keep typed text (a title, a reference, a reason) from opening as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class Column:
    key: str
    #: The heading (a lazy string: the page's language).
    label: Any
    #: The row's value in an export (Decimal, int, date, datetime or text).
    value: Callable[[Any], Any]
    #: The SQL expression the list sorts by, or None for a column that does not sort.
    sort: Any = None
    #: For a column that may be empty: rows without a value come last either way, on both
    #: databases (SQLite puts NULL first going up, PostgreSQL last).
    empty_last: bool = False


@dataclass
class Listing:
    """The columns of one list and its default order."""

    name: str
    columns: Sequence[Column]
    default_sort: str
    default_dir: str = "desc"
    #: Appended to every order, so that equal values keep a stable order across pages.
    tiebreak: Sequence[Any] = field(default_factory=tuple)

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def sortable(self) -> list[str]:
        return [c.key for c in self.columns if c.sort is not None]


@dataclass
class Sorted:
    """The order a request asked for, and the links that change it (filters kept)."""

    listing: Listing
    key: str
    dir: str

    def url(self, key: str) -> str:
        """The link of a column heading: sort by it, or reverse it when it is the order."""
        direction = ("desc" if self.dir == "asc" else "asc") if key == self.key else "asc"
        return _self_url(sort=key, dir=direction, page=None)

    def aria(self, key: str) -> str:
        if key != self.key:
            return "none"
        return "ascending" if self.dir == "asc" else "descending"

    def export_url(self, fmt: str) -> str:
        return _self_url(format=fmt, page=None)


def _self_url(**changes) -> str:
    args = {k: v for k, v in request.args.items() if k not in changes}
    args.update({k: v for k, v in changes.items() if v is not None})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def requested_sort(listing: Listing) -> Sorted:
    """``?sort`` and ``?dir`` of the current request, from the list's whitelist (else 422)."""
    key = request.args.get("sort", "").strip() or listing.default_sort
    direction = request.args.get("dir", "").strip() or (
        listing.default_dir if key == listing.default_sort else "asc")
    errors: dict[str, list[str]] = {}
    if key not in listing.sortable():
        errors["sort"] = [_("Sort by one of: %(keys)s.", keys=", ".join(listing.sortable()))]
    if direction not in ("asc", "desc"):
        errors["dir"] = [_("The direction is asc or desc.")]
    if errors:
        raise ValidationFailed(errors)
    return Sorted(listing, key, direction)


def ordered(stmt, s: Sorted):
    column = s.listing.column(s.key)
    first = column.sort.asc() if s.dir == "asc" else column.sort.desc()
    if column.empty_last:
        first = first.nulls_last()
    return stmt.order_by(None).order_by(first, *s.listing.tiebreak)


def requested_format() -> str | None:
    fmt = request.args.get("format", "").strip()
    if fmt == "":
        return None
    if fmt not in FORMATS:
        raise ValidationFailed({"format": [_("Export as csv or xlsx.")]})
    return fmt


def _local(moment: datetime, zone) -> datetime:
    """A stored (UTC) moment in the facility's time zone, as every page shows it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def csv_cell(value, zone=None):
    """One CSV cell: amounts as plain decimal text, moments in the facility's time, text
    never a formula."""
    if isinstance(value, datetime) and zone is None:
        zone = facility_zone()
    return _csv_value(value, zone)


def _csv_value(value, zone):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")  # plain digits: never 1.288E+7, whatever the Decimal's exponent
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return _local(value, zone).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return formula_safe(value)


def to_csv(listing: Listing, rows) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.key for c in listing.columns])
    zone = facility_zone()  # once: it is read from the database
    for row in rows:
        w.writerow([_csv_value(c.value(row), zone) for c in listing.columns])
    return out.getvalue()


def write_cell(cell, value, zone=None, number_format: str = AMOUNT_FORMAT) -> None:
    """One XLSX cell: numbers and dates typed with their format (a Decimal an amount unless
    ``number_format`` says otherwise), text never a formula."""
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = value
    elif isinstance(value, Decimal):
        cell.value = value
        cell.number_format = number_format
    elif isinstance(value, int):
        cell.value = value
    elif isinstance(value, datetime):
        cell.value = _local(value, zone).replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = str(value)
        cell.data_type = "s"  # openpyxl would store "=..." as a formula


def to_xlsx(listing: Listing, rows, title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = listing.name[:31]
    write_cell(ws.cell(1, 1), title)
    ws.cell(1, 1).font = Font(bold=True, size=13)
    for col, c in enumerate(listing.columns, start=1):
        write_cell(ws.cell(3, col), str(c.label))
        ws.cell(3, col).font = Font(bold=True)
    zone = facility_zone()  # once: it is read from the database
    for r, row in enumerate(rows, start=4):
        for col, c in enumerate(listing.columns, start=1):
            write_cell(ws.cell(r, col), c.value(row), zone)
    ws.freeze_panes = ws.cell(4, 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(listing: Listing, stmt, fmt: str, title: str, prepare: Callable | None = None) -> Response:
    """Every row of the filtered select (in the page's order) as CSV or XLSX."""
    rows = db.session.scalars(stmt.limit(MAX_EXPORT_ROWS)).all()
    if prepare is not None:
        prepare(rows)
    filename = f"{listing.name}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(listing, rows), "text/csv"
    else:
        body, mimetype = to_xlsx(listing, rows, title), XLSX_MIMETYPE
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def respond(listing: Listing, stmt, template: str, title: str, per_page: int | None = None,
            prepare: Callable | None = None, **context):
    """The list page (one page of ``stmt`` in the asked order) or, with ``?format``, its
    export. ``stmt`` carries the filters and the eager loads its rows need; ``prepare(rows)``
    completes the rows (page or export) with what the columns compute in Python."""
    s = requested_sort(listing)
    stmt = ordered(stmt, s)
    fmt = requested_format()
    if fmt is not None:
        return export(listing, stmt, fmt, title, prepare)
    page = html_page(stmt, per_page)
    if prepare is not None:
        prepare(page["items"])
    return render_template(template, p=page, sorted=s, **context)
