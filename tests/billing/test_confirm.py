"""Closing a period and issuing its invoices cannot be undone: the manager reaches each
through a confirmation page that names the consequence, and only its form acts."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from jof.billing.models import Invoice
from jof.billing.states import InvoiceStatus
from jof.core.db import db
from tests.billing.conftest import MONTH

MANAGER = "manager@jof.example"
P = f"{MONTH:%Y-%m}"


def _invoices(app, status=None) -> int:
    with app.app_context():
        stmt = select(func.count(Invoice.id)).where(Invoice.period == MONTH)
        if status:
            stmt = stmt.where(Invoice.status == status)
        n = db.session.scalar(stmt)
        db.session.remove()
        return n


def _confirm(browser, action: str) -> str:
    page = browser.get(f"/billing/periods/{P}/confirm/{action}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _post(browser, html: str):
    form = re.search(r'<form method="post" action="/billing/periods".*?</form>', html, re.S).group(0)
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    button = re.search(r'name="action" value="([^"]+)"', form).group(1)
    return browser.post("/billing/periods", data={**data, "action": button})


def test_the_period_page_asks_for_confirmation_instead_of_closing(app, web, month):
    browser = web(MANAGER)
    html = browser.get(f"/billing/periods?period={P}").get_data(as_text=True)
    assert f'href="/billing/periods/{P}/confirm/close"' in html
    assert 'name="action" value="close"' not in html  # no button that closes at once
    assert _invoices(app) == 0


def test_closing_is_confirmed_with_the_drafts_and_total_it_will_create(app, web, month):
    browser = web(MANAGER)
    html = _confirm(browser, "close")
    consequence = re.search(r'data-testid="consequence">([^<]+)<', html).group(1)
    assert f"Close {P}: 7 draft invoice(s) totalling" in consequence
    assert "cannot be undone" in consequence
    assert _invoices(app) == 0  # looking at the confirmation changes nothing
    r = _post(browser, html)
    assert r.status_code == 302
    assert _invoices(app) == 7


def test_issuing_is_confirmed_with_the_count_and_the_numbers_it_will_take(app, web, month):
    browser = web(MANAGER)
    _post(browser, _confirm(browser, "close"))
    html = _confirm(browser, "issue")
    consequence = re.search(r'data-testid="consequence">([^<]+)<', html).group(1)
    numbers = re.search(r"Issue 7 invoice\(s\), numbers (JOF-\d{4}-\d{5})…(JOF-\d{4}-\d{5}), totalling", consequence)
    assert numbers, consequence
    assert "this cannot be undone" in consequence
    assert _invoices(app, InvoiceStatus.ISSUED) == 0
    r = _post(browser, html)
    assert r.status_code == 302
    with app.app_context():
        issued = sorted(db.session.scalars(select(Invoice.number).where(Invoice.period == MONTH)).all())
    assert issued[0] == numbers.group(1) and issued[-1] == numbers.group(2) and len(issued) == 7


def test_issuing_with_numbers_that_moved_since_the_confirmation_is_refused(app, web, month):
    browser = web(MANAGER)
    _post(browser, _confirm(browser, "close"))
    html = _confirm(browser, "issue")
    stale = html.replace('name="first_number" value="JOF-', 'name="first_number" value="XJOF-')
    r = _post(browser, stale)
    assert r.status_code == 409
    assert "numbers changed" in r.get_data(as_text=True)
    assert _invoices(app, InvoiceStatus.ISSUED) == 0


def test_with_no_drafts_the_issue_confirmation_offers_nothing_to_confirm(app, web, month):
    browser = web(MANAGER)
    html = _confirm(browser, "issue")
    assert "There is no draft invoice to issue" in html
    assert 'data-testid="confirm"' not in html


def test_only_the_manager_reaches_the_confirmations(web, month):
    assert web("procurement@jof.example").get(f"/billing/periods/{P}/confirm/close").status_code == 403
    assert web(MANAGER).get(f"/billing/periods/{P}/confirm/delete").status_code == 404


def test_a_close_posted_without_its_confirmation_closes_nothing_and_says_why(app, web, month):
    """The confirmation is enforced by the server, not only by the page that leads to it."""
    from jof.billing import services
    from jof.core.jobs import Job

    browser = web(MANAGER)
    html = browser.get(f"/billing/periods?period={P}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    for extra in ({}, {"confirmed": "no"}):
        r = browser.post("/billing/periods", data={"csrf_token": token, "period": P, "action": "close", **extra})
        page = r.get_data(as_text=True)
        assert r.status_code == 422
        assert "Not closed: closing a period cannot be undone" in page and "confirmation page" in page
        assert f'value="{P}"' in page  # the form is back, with the month kept
    assert _invoices(app) == 0
    with app.app_context():
        assert not services.is_closed(MONTH) and db.session.scalar(select(func.count(Job.id))) == 0
    # the confirmation page's form carries the confirmation
    assert 'name="confirmed" value="yes"' in _confirm(browser, "close")
