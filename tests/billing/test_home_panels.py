"""Billing on the home page: an agency's head sees invoices still to pay, the manager
the drafts still to issue."""

from __future__ import annotations

from tests.billing.conftest import close

TO_PAY = "invoices of your agency are still to pay"
TO_ISSUE = "draft invoices wait to be issued"


def _home(web, email: str) -> str:
    return web(email).get("/").get_data(as_text=True)


def test_drafts_wait_for_the_manager_and_issued_invoices_for_the_agency_head(app, month, web):
    close(app, month)
    assert TO_ISSUE in _home(web, "manager@jof.example")
    assert TO_PAY not in _home(web, "head@unfpa.jof.example")  # drafts are not due


def test_an_issued_invoice_waits_for_its_agency_head_until_paid(app, month, web):
    ids = close(app, month, issue=("UNFPA",))
    head = _home(web, "head@unfpa.jof.example")
    assert TO_PAY in head and f"/invoices/{ids['UNFPA']}" in head
    assert TO_PAY not in _home(web, "head@undp.jof.example")  # UNDP's invoice is still a draft
    assert TO_PAY not in _home(web, "requester@unfpa.jof.example")


def test_a_paid_invoice_no_longer_waits_and_a_partly_paid_one_still_does(app, month, web):
    from jof.billing import invoices
    from jof.billing.models import Invoice
    from jof.core.calendar import local_today
    from jof.core.db import db
    from tests.billing.conftest import user

    ids = close(app, month, issue=("UNFPA",))
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNFPA"])
        invoices.record_payment(user("manager@jof.example"), inv, paid_on=local_today(),
                                amount=inv.total_usd - 1, reference="BANK-1")
        db.session.commit()
    assert TO_PAY in _home(web, "head@unfpa.jof.example")
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNFPA"])
        invoices.record_payment(user("manager@jof.example"), inv, paid_on=local_today(),
                                amount="1.00", reference="BANK-2")
        db.session.commit()
    assert TO_PAY not in _home(web, "head@unfpa.jof.example")
