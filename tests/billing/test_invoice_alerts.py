"""An issued invoice is announced to the agency's head, by e-mail after the commit (issue 12)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from jof.core.db import db
from jof.core.notifications import Notification
from tests.billing.conftest import close, user
from tests.smtp import body, smtp_server


@pytest.fixture
def inbox(app, demo, monkeypatch):
    with smtp_server(app, monkeypatch) as handler:
        yield handler


def test_an_issued_invoice_reaches_the_agency_head_and_no_one_else(app, month, inbox):
    close(app, month)
    time.sleep(0.2)
    assert inbox.messages == []  # drafts are not announced
    ids = close(app, month, issue=("UNFPA",))
    inbox.wait_for(1)
    time.sleep(0.2)
    assert inbox.recipients() == ["head@unfpa.jof.example"]
    (message,) = inbox.to("head@unfpa.jof.example")
    with app.app_context():
        number = db.session.scalar(select(Notification.message).where(
            Notification.user_id == user("head@unfpa.jof.example").id))
        assert f"/billing/invoices/{ids['UNFPA']}" in body(message)
        assert number.startswith("Invoice JOF-") and "UNFPA" in number


def test_an_issued_invoice_is_announced_with_its_amount_in_the_readers_language(app, month, inbox):
    from jof.billing.models import Invoice
    from jof.core.formatting import amount

    close(app, month)
    with app.app_context():
        user("head@unfpa.jof.example").locale = "pt_BR"
        db.session.commit()
    ids = close(app, month, issue=("UNFPA",))
    inbox.wait_for(1)
    with app.app_context():
        total = db.session.get(Invoice, ids["UNFPA"]).total_usd
        text = db.session.scalar(select(Notification.message).where(
            Notification.user_id == user("head@unfpa.jof.example").id))
        assert "UNFPA" in text and "JOF-" in text
        assert f"USD {amount(total, locale='pt_BR')}" in text, text
        assert f"{total:,.2f}" not in text, text
        assert "," in amount(total, locale="pt_BR")  # the Portuguese decimal comma
    (message,) = inbox.to("head@unfpa.jof.example")
    assert f"USD {amount(total, locale='pt_BR')}" in body(message)
