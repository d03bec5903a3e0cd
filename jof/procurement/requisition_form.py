"""The requisition form: as many lines as needed, messages that name the line, live totals.

The form posts ``lines-N-<field>`` for N = 0, 1, …; a row left empty is ignored (that is
how a line is removed without JavaScript), and "Add a line" re-renders the form with one
more row. The schema's keys (``lines.0.quantity``) count the filled rows only, so the
messages are mapped back to the rows the person sees ("Line 3: enter a quantity").
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core import field_messages
from jof.core.db import db
from jof.core.money import ExchangeRate
from jof.procurement.models import Requisition

FIELDS = ("description", "unspsc", "quantity", "unit", "unit_price", "currency")
#: Rows shown on an empty form; a requisition holds at most MAX_ROWS lines (the schema's limit).
MIN_ROWS = 3
MAX_ROWS = 200
_ROW_KEY = re.compile(r"^lines-(\d{1,3})-([a-z_]+)$")

#: What to enter, for "Line 2: enter a quantity".
_WHAT = {
    "description": _l("a description"), "unspsc": _l("an 8-digit UNSPSC code"),
    "quantity": _l("a quantity"), "unit": _l("a unit (e.g. each, box)"),
    "unit_price": _l("an estimated unit price"), "currency": _l("a currency"),
}
#: The column as the person sees it, for "Line 2, quantity: must be more than 0."
_LABEL = {
    "description": _l("description"), "unspsc": _l("UNSPSC code"), "quantity": _l("quantity"),
    "unit": _l("unit"), "unit_price": _l("estimated unit price"), "currency": _l("currency"),
}
_EMPTY = ("Missing data for required field.", "Must not be blank.", "Field may not be null.")


def row_numbers(form) -> list[int]:
    """The row numbers the form posted, in order (bounded: a form cannot ask for more)."""
    found = {int(m.group(1)) for key in form.keys() if (m := _ROW_KEY.match(key))}
    return sorted(n for n in found if n < MAX_ROWS * 2)


def rows_shown(form, extra: int = 0) -> list[int]:
    """The rows to draw: those posted (at least MIN_ROWS), plus ``extra`` empty ones."""
    rows = row_numbers(form) or list(range(MIN_ROWS))
    while len(rows) < MIN_ROWS:
        rows.append(rows[-1] + 1)
    return rows + [rows[-1] + 1 + i for i in range(extra)]


def data_of(form) -> tuple[dict, list[int]]:
    """The schema's input and, for each line in it, the row number it came from."""
    lines, rows = [], []
    for n in row_numbers(form):
        row = {k: (form.get(f"lines-{n}-{k}") or "").strip() for k in FIELDS}
        if any(v for k, v in row.items() if k != "currency"):
            lines.append({**row, "currency": row["currency"] or "USD"})
            rows.append(n)
    data = {"title": form.get("title", ""), "justification": form.get("justification", ""),
            "budget_code": form.get("budget_code", ""), "lines": lines}
    if form.get("needed_by"):
        data["needed_by"] = form["needed_by"]
    return data, rows


def form_of(req: Requisition) -> dict:
    """A draft as the form shows it, for editing."""
    form = {"title": req.request.title, "justification": req.justification,
            "needed_by": req.needed_by.isoformat() if req.needed_by else "",
            "budget_code": req.budget_code, "version": str(req.request.version)}
    for n, ln in enumerate(req.lines):
        form.update({f"lines-{n}-description": ln.description, f"lines-{n}-unspsc": ln.unspsc,
                     f"lines-{n}-quantity": f"{ln.quantity.normalize():f}", f"lines-{n}-unit": ln.unit,
                     f"lines-{n}-unit_price": f"{ln.unit_price.normalize():f}",
                     f"lines-{n}-currency": ln.currency})
    return form


def plain_errors(errors: dict[str, list[str]], rows: list[int], form) -> tuple[dict, list[str]]:
    """(errors by input name, the summary's sentences): each line error names the line as
    numbered on the page and says what to do."""
    by_input: dict[str, list[str]] = {}
    summary: list[str] = []
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(rows):
            row, field = rows[int(parts[1])], parts[2]
            shown = rows_shown(form).index(row) + 1 if row in rows_shown(form) else row + 1
            value = (form.get(f"lines-{row}-{field}") or "").strip()
            out = []
            for msg in messages:
                if msg in _EMPTY or not value:  # whatever the schema says of an empty cell
                    out.append(_("Line %(n)d: enter %(what)s.", n=shown, what=_WHAT.get(field, field)))
                else:
                    out.append(_("Line %(n)d, %(field)s: %(message)s", n=shown, field=_LABEL.get(field, field),
                                 message=field_messages.phrase(msg) or msg))
            by_input[f"lines-{row}-{field}"] = out
            summary.extend(out)
        elif key == "lines":
            text = [_("Add at least one line.") if m.startswith(("Shorter than minimum", "Length must be between 1"))
                    else m for m in messages]
            by_input["lines"] = text
            summary.extend(text)
        else:
            by_input.update(field_messages.plain_errors({key: messages}))
            summary.extend(by_input[key])
    return by_input, summary


def rates(on: date) -> dict[str, str]:
    """This month's operational rates (local units per USD), for the live totals."""
    month = on.replace(day=1)
    found = db.session.execute(select(ExchangeRate.currency, ExchangeRate.units_per_usd)
                               .where(ExchangeRate.month == month)).all()
    return {"USD": "1", **{cur: f"{rate.normalize():f}" for cur, rate in found if rate > 0}}
