"""A credit note takes a number for good: the invoice page's form leads to a page that
names the amount and the agency; only that page's form issues it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from jof.billing.models import CreditNote
from jof.core.db import db
from tests.billing.conftest import close

MANAGER = "manager@jof.example"


def _credit_notes(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(CreditNote.id)))
        db.session.remove()
        return n


def test_the_credit_note_form_asks_for_confirmation_first(app, web, month):
    ids = close(app, month, issue=("UNESCO",))
    html = web(MANAGER).get(f"/billing/invoices/{ids['UNESCO']}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="credit-note-form"', html)
    assert form.groups() == ("get", f"/billing/invoices/{ids['UNESCO']}/confirm/credit-note")


def test_a_credit_note_is_confirmed_with_its_amount_and_agency_and_then_issued(app, web, month):
    ids = close(app, month, issue=("UNESCO",))
    c = web(MANAGER)
    page = c.get(f"/billing/invoices/{ids['UNESCO']}/confirm/credit-note?credit_amount=10.00&reason=Seats+over-counted")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert "USD 10.00" in consequence and "(UNESCO)" in consequence and "cannot be withdrawn" in consequence
    assert _credit_notes(app) == 0  # asking changes nothing
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert data["reason"] == "Seats over-counted" and data["credit_amount"] == "10.00"
    r = c.post(form.group(1), data=data)
    assert r.status_code == 302
    assert _credit_notes(app) == 1


def test_a_credit_note_without_a_reason_or_beyond_the_invoice_is_refused_before_confirmation(app, web, month):
    ids = close(app, month, issue=("UNESCO",))
    r = web(MANAGER).get(f"/billing/invoices/{ids['UNESCO']}/confirm/credit-note?credit_amount=99999999&reason=")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-testid="consequence"' not in html
    assert 'id="reason-error"' in html or "Say why the invoice is corrected." in html
    assert "can still be credited" in html
    assert 'value="99999999"' in html  # the input is kept


def test_only_the_manager_reaches_the_credit_note_confirmation(app, web, month):
    ids = close(app, month, issue=("UNESCO",))
    r = web("auditor@jof.example").get(f"/billing/invoices/{ids['UNESCO']}/confirm/credit-note?reason=x")
    assert r.status_code == 403
