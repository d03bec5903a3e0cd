"""Pages link only where the reader may go (docs/ui.md): a link that can only answer an
error is a dead end for the person and a false alarm for the crawl of every page."""

from __future__ import annotations

from flask import render_template_string

PAGER = '{% from "_macros.html" import pager %}{{ pager(p) }}'


def _pager(app, page: int, pages: int) -> str:
    with app.test_request_context(f"/audit?page={page}"):
        return render_template_string(PAGER, p={"total": pages * 25, "page": page, "pages": pages})


def test_the_pager_links_to_no_page_before_the_first_or_after_the_last(app):
    first, middle, last = _pager(app, 1, 3), _pager(app, 2, 3), _pager(app, 3, 3)
    assert "page=0" not in first and "page=2" in first
    assert "page=1" in middle and "page=3" in middle
    assert "page=4" not in last and "page=2" in last
    # The ends still say where the reader is, as text rather than a link.
    assert "Previous" in first and "Next" in last


def test_officers_are_not_offered_the_period_close_they_may_not_open(web):
    officer = web("procurement@jof.example")
    assert "/billing/periods" not in officer.get("/billing/").get_data(as_text=True)
    assert officer.get("/billing/periods").status_code == 403
    for email in ("manager@jof.example", "auditor@jof.example"):
        c = web(email)
        assert "/billing/periods" in c.get("/billing/").get_data(as_text=True)
        assert c.get("/billing/periods").status_code == 200


def test_agency_staff_are_offered_their_statement_instead(web):
    html = web("requester@undp.jof.example").get("/billing/").get_data(as_text=True)
    assert "/billing/statements/UNDP" in html
    assert "/billing/periods" not in html
