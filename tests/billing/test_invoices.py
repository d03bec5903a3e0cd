"""Issued invoices never change; credit notes, payments, derived status, statements (issue 7)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from jof.billing import invoices, pricing, services
from jof.billing.models import Invoice, InvoiceLine
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.people import Agency
from tests.billing.conftest import MONTH, agency, record, user


@pytest.fixture
def issued(app, month):
    """UNDP's March invoice, issued."""
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        inv = db.session.scalar(select(Invoice).where(Invoice.agency_id == agency("UNDP").id))
        invoices.issue(manager, inv.id)
        db.session.commit()
        return inv.id


def test_issuing_an_issued_invoice_again_is_refused(app, issued):
    with app.app_context():
        with pytest.raises(Conflict, match="never changes"):
            invoices.issue(user("manager@jof.example"), issued)


def test_the_database_refuses_to_change_an_issued_invoice_or_its_lines(app, issued):
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE invoice SET total_usd = total_usd + 100 WHERE id = :i"), {"i": issued})
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE invoice_line SET amount = 1 WHERE invoice_id = :i"), {"i": issued})
        db.session.rollback()
        inv = db.session.get(Invoice, issued)
        with pytest.raises(IntegrityError):
            inv.lines.append(InvoiceLine(position=99, kind="fee", service_line="travel", description="extra",
                                         quantity=Decimal(1), amount=Decimal("1.00")))
            db.session.flush()
        db.session.rollback()


def test_a_draft_can_still_change_in_the_database(app, month):
    with app.app_context():
        services.close_period(user("manager@jof.example"), month.period)
        db.session.commit()
        inv_id = db.session.scalar(select(Invoice.id).limit(1))
        db.session.execute(text("UPDATE invoice SET total_usd = total_usd WHERE id = :i"), {"i": inv_id})
        db.session.execute(text("UPDATE invoice_line SET description = 'x' WHERE invoice_id = :i"), {"i": inv_id})
        db.session.rollback()


def test_a_full_credit_note_restores_the_balance(app, issued):
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        _, before = invoices.statement(manager, "UNDP")
        assert before[-1].balance == inv.total_usd
        cn = invoices.credit_note(manager, inv, reason="Tickets billed twice")
        db.session.commit()
        assert cn.number == f"CN-{invoices.today().year}-00001" and cn.amount == inv.total_usd
        _, after = invoices.statement(manager, "UNDP")
        assert after[-1].balance == Decimal("0.00")
        assert invoices.status_of(inv) == "paid"  # nothing left to pay
        with pytest.raises(ValidationFailed):
            invoices.credit_note(manager, inv, reason="again", amount="0.01")


def test_partial_credit_and_partial_payment_give_the_derived_status(app, issued):
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        total = inv.total_usd
        assert invoices.status_of(inv) == "issued"
        invoices.credit_note(manager, inv, reason="Fare refunded", amount="100.00")
        invoices.record_payment(manager, inv, paid_on=date.today(), amount="500.00", reference="BB-1")
        assert invoices.status_of(inv) == "partially_paid"
        assert invoices.balance(inv) == total - Decimal("600.00")
        assert invoices.status_of(inv, on=inv.due_on + timedelta(days=1)) == "overdue"
        with pytest.raises(ValidationFailed) as refused:
            invoices.record_payment(manager, inv, paid_on=date.today(), amount=str(total), reference="too much")
        assert "outstanding" in refused.value.errors["amount"][0]
        invoices.record_payment(manager, inv, paid_on=date.today(), amount=str(invoices.balance(inv)),
                                reference="BB-2")
        assert invoices.status_of(inv, on=inv.due_on + timedelta(days=1)) == "paid"
        db.session.commit()
        agency_, entries = invoices.statement(manager, "UNDP")
        assert [e.kind for e in entries] == ["invoice", "credit_note", "payment", "payment"]
        assert entries[-1].balance == Decimal("0.00")
        csv_text = invoices.statement_csv(agency_, entries)
        assert inv.number in csv_text and "BB-2" in csv_text


def test_payments_and_credits_need_an_issued_invoice(app, month):
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        draft = db.session.scalar(select(Invoice).limit(1))
        with pytest.raises(Conflict):
            invoices.record_payment(manager, draft, paid_on=date.today(), amount="1.00", reference="x")
        with pytest.raises(Conflict):
            invoices.credit_note(manager, draft, reason="x")


def test_charges_are_priced_at_the_version_in_force_on_the_delivery_date(app, demo):
    with app.app_context():
        pricing.create_version([{"code": "ticket_issuance", "service_line": "travel", "method": "flat",
                                 "amount": "40.00"}], MONTH.replace(day=15))
        db.session.commit()
        from jof.billing.models import Charge

        early = record("UNDP", "T-early", "ticket_issuance", "travel", on=MONTH.replace(day=14))
        late = record("UNDP", "T-late", "ticket_issuance", "travel", on=MONTH.replace(day=15))
        fare = record("UNDP", "T-fare", "air_fare", "travel", value="999.99", kind="pass_through")
        again = record("UNDP", "T-late", "ticket_issuance", "travel", on=MONTH.replace(day=20))
        db.session.commit()
        amounts = {c.source_ref: c.amount for c in db.session.scalars(select(Charge))}
        assert amounts == {"T-early": Decimal("35.00"), "T-late": Decimal("40.00"), "T-fare": Decimal("999.99")}
        assert again.id == late.id and early.id != late.id and fare.kind == "pass_through"


@pytest.mark.postgres_only
def test_fifty_drafts_issued_by_eight_workers_are_numbered_1_to_50(app, demo):
    with app.app_context():
        ids = []
        for n in range(50):
            a = Agency(code=f"AG{n:02d}", name=f"Agency {n}", country="BR", joined_on=date(2024, 1, 1))
            db.session.add(a)
            db.session.flush()
            inv = Invoice(agency_id=a.id, period=MONTH, total_usd=Decimal("10.00"), local_currency="USD",
                          exchange_rate=Decimal(1), total_local=Decimal("10.00"))
            db.session.add(inv)
            db.session.flush()
            ids.append(inv.id)
        db.session.commit()
    queue = list(ids)
    lock = threading.Lock()
    errors = []

    def worker():
        with app.app_context():
            manager = user("manager@jof.example")
            while True:
                with lock:
                    if not queue:
                        break
                    invoice_id = queue.pop()
                try:
                    invoices.issue(manager, invoice_id)
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 — collected and asserted below
                    db.session.rollback()
                    errors.append(repr(exc))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with app.app_context():
        numbers = sorted(db.session.scalars(select(Invoice.number)))
        year = invoices.today().year
        assert numbers == [f"JOF-{year}-{n:05d}" for n in range(1, 51)]
