"""What every list built on :mod:`jof.core.listing` must do, checked the same way for each:
sort by each of its sortable columns both ways, keep its filter in the export links and the
page links, and export (CSV and XLSX) the same rows as the page shows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

from openpyxl import load_workbook

from jof.core.listing import Listing


def _with(path: str, **args) -> str:
    extra = "&".join(f"{k}={v}" for k, v in args.items())
    return f"{path}{'&' if '?' in path else '?'}{extra}"


def csv_rows(client, path: str) -> list[dict]:
    r = client.get(_with(path, format="csv"))
    assert r.status_code == 200 and r.mimetype == "text/csv", (path, r.status_code)
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))


def xlsx_rows(client, path: str) -> list[list]:
    """The data rows of the workbook (its title is row 1, its headings row 3)."""
    r = client.get(_with(path, format="xlsx"))
    assert r.status_code == 200, (path, r.status_code)
    ws = load_workbook(io.BytesIO(r.data)).active
    return [[c.value for c in row] for row in ws.iter_rows(min_row=4)]


def _number(text: str):
    return Decimal(text) if text != "" else None


#: How a CSV cell compares for a column that sorts by its stored value.
AS_NUMBER = _number


def check_sorts(client, path: str, listing: Listing, *, ident: str, shown: Callable[[str], list[str]],
                keys: dict[str, Callable[[str], object]] | None = None, empty_last: tuple[str, ...] = ()) -> None:
    """Each sortable column, both ways: the export's column is in order (``keys`` turns a
    cell into what the database compares: a number, a code for a label; empty cells of the
    ``empty_last`` columns come last either way), and the page shows the export's first rows
    in the same order (``shown(html)`` reads the page's ``ident`` values)."""
    keys = keys or {}
    assert listing.sortable(), listing.name
    for key in listing.sortable():
        for direction in ("asc", "desc"):
            url = _with(path, sort=key, dir=direction)
            rows = csv_rows(client, url)
            assert rows, f"{listing.name}: nothing to sort"
            to_key = keys.get(key, lambda text: text)
            cells = [r[key] for r in rows]
            if key in empty_last:
                filled = [c for c in cells if c != ""]
                assert cells == filled + [""] * (len(cells) - len(filled)), (key, direction, cells)
                cells = filled
            values = [to_key(c) for c in cells]
            wanted = sorted(values, reverse=direction == "desc")
            assert values == wanted, (listing.name, key, direction, values)
            html = client.get(url).get_data(as_text=True)
            on_page = shown(html)
            assert on_page == [r[ident] for r in rows][:len(on_page)] and on_page, (key, direction, on_page)
            assert f'data-sort="{key}"' in html


def check_exports_match_the_page(client, path: str, *, ident: str, shown: Callable[[str], list[str]]) -> None:
    """CSV and XLSX hold the page's rows, in its order (all of them fit on one page here)."""
    html = client.get(path).get_data(as_text=True)
    rows = csv_rows(client, path)
    book = xlsx_rows(client, path)
    column = list(rows[0]).index(ident) if rows else 0
    assert shown(html) == [r[ident] for r in rows] == [str(row[column]) for row in book]
    total = re.search(r'data-testid="total">(\d+)', html)
    assert total and int(total.group(1)) == len(rows)


def check_filter_kept(client, path: str, fragment: str) -> None:
    """The filter (``fragment``, as the URL writes it) is in both export links and in the
    page links; ``path`` must have more rows than a page (the test shrinks the page)."""
    html = client.get(path).get_data(as_text=True).replace("&amp;", "&")
    exports = re.findall(r'href="([^"]*format=(?:csv|xlsx)[^"]*)"', html)
    assert len(exports) == 2 and all(fragment in href for href in exports), exports
    pages = re.findall(r'href="([^"]*page=2[^"]*)"', html)
    assert pages and all(fragment in href for href in pages), pages
    headings = re.findall(r'href="([^"]*)" data-sort=', html)
    assert headings and all(fragment in href for href in headings), headings
