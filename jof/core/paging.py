"""One way to cut a select into pages, for every HTML list and every API collection.

Five copies of this used to drift (a huge ``?page`` was a 500 on one list, a 422 on two
and silently page 1 elsewhere); now a page outside 1..:data:`MAX_PAGE`, or one that is
not a whole number, is the same 422 everywhere.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import func, select

from jof.core.db import db
from jof.core.errors import ValidationFailed

#: The last page number any list answers: far beyond any table, small enough that
#: ``(page - 1) * per_page`` is a sane OFFSET on both databases.
MAX_PAGE = 10**6
#: The largest page a caller may ask for.
MAX_PER_PAGE = 200
PAGE_MESSAGE = f"Page must be a whole number from 1 to {MAX_PAGE}."


class PaginationQuery(ma.Schema):
    page = ma.fields.Integer(load_default=1, strict=False,
                             validate=ma.validate.Range(min=1, max=MAX_PAGE, error=PAGE_MESSAGE),
                             error_messages={"invalid": PAGE_MESSAGE},
                             metadata={"description": f"Page number, from 1 (at most {MAX_PAGE})."})
    per_page = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE),
                                 metadata={"description": f"Items per page (default 25, at most {MAX_PER_PAGE})."})


def page_of(stmt, page: int, per_page: int | None, *, rows=None) -> dict:
    """Run a select for one page: ``items``, ``total``, ``page``, ``per_page``, ``pages``.

    The items are the select's objects, or with ``rows`` what that callable makes of each
    result row (a select of plain columns, read without the ORM's identity map). The page
    is checked here too, for callers that read it without
    :class:`PaginationQuery` (a huge OFFSET is a 500 on both databases).
    """
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise ValidationFailed({"page": [PAGE_MESSAGE]})
    per_page = per_page or current_app.config["PER_PAGE_DEFAULT"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    items = (db.session.scalars(stmt).all() if rows is None
             else [rows(row) for row in db.session.execute(stmt)])
    return {"items": items, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page))}


def requested_page() -> int:
    """The ``?page`` of the current request (1 when absent); anything else is a 422."""
    raw = request.args.get("page", "").strip()
    if raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed({"page": [PAGE_MESSAGE]})
    return int(raw)


def html_page(stmt, per_page: int | None = None) -> dict:
    """One page of a select for an HTML list, read from ``?page``; see :func:`page_of`."""
    return page_of(stmt, requested_page(), per_page)
