"""Issued invoices never change; credit notes, payments, derived status, statements (issue 7)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from jof.billing import balances, exports, invoices, pricing, services, statements
from jof.billing.models import Invoice, InvoiceLine, Payment
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.money import ExchangeRate
from jof.core.people import Agency
from tests.billing.conftest import MONTH, agency, close, record, user

MANAGER = "manager@jof.example"


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
        with pytest.raises(Conflict, match="'issue' is not possible while the invoice is issued") as refused:
            invoices.issue(user("manager@jof.example"), issued)
        # an issued invoice never changes: only payments and credit notes are recorded beside it
        assert refused.value.extra == {"allowed_actions": ["record_payment", "credit"]}


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
        _, before = statements.statement(manager, "UNDP")
        assert before[-1].balance == inv.total_usd
        cn = invoices.credit_note(manager, inv, reason="Tickets billed twice")
        db.session.commit()
        assert cn.number == f"CN-{local_today().year}-00001" and cn.amount == inv.total_usd
        _, after = statements.statement(manager, "UNDP")
        assert after[-1].balance == Decimal("0.00")
        assert balances.standing(inv) == "credited"  # cancelled by the credit note, not paid
        with pytest.raises(ValidationFailed):
            invoices.credit_note(manager, inv, reason="again", amount="0.01")


def test_partial_credit_and_partial_payment_give_the_derived_status(app, issued):
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        total = inv.total_usd
        assert balances.standing(inv) == "issued"
        invoices.credit_note(manager, inv, reason="Fare refunded", amount="100.00")
        invoices.record_payment(manager, inv, paid_on=date.today(), amount="500.00", reference="BB-1")
        assert balances.standing(inv) == "partially_paid"
        assert balances.balance(inv) == total - Decimal("600.00")
        assert balances.standing(inv, on=inv.due_on + timedelta(days=1)) == "overdue"
        with pytest.raises(ValidationFailed) as refused:
            invoices.record_payment(manager, inv, paid_on=date.today(), amount=str(total), reference="too much")
        assert "outstanding" in refused.value.errors["amount"][0]
        invoices.record_payment(manager, inv, paid_on=date.today(), amount=str(balances.balance(inv)),
                                reference="BB-2")
        assert balances.standing(inv, on=inv.due_on + timedelta(days=1)) == "paid"
        db.session.commit()
        agency_, entries = statements.statement(manager, "UNDP")
        assert [e.kind for e in entries] == ["invoice", "credit_note", "payment", "payment"]
        assert entries[-1].balance == Decimal("0.00")
        csv_text = exports.statement_csv(agency_, entries)
        assert inv.number in csv_text and "BB-2" in csv_text


def test_payments_and_credits_need_an_issued_invoice(app, month):
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        draft = db.session.scalar(select(Invoice).limit(1))
        with pytest.raises(Conflict) as payment:
            invoices.record_payment(manager, draft, paid_on=date.today(), amount="1.00", reference="x")
        with pytest.raises(Conflict) as credit:
            invoices.credit_note(manager, draft, reason="x")
        assert payment.value.extra == credit.value.extra == {"allowed_actions": ["issue"]}


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
        year = local_today().year
        assert numbers == [f"JOF-{year}-{n:05d}" for n in range(1, 51)]


def test_a_fully_credited_invoice_reads_credited_on_its_page_the_api_and_the_statement(app, api, web, issued):
    """A credit note for the whole total cancels the invoice: nothing was paid, so it is not "paid"."""
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        invoices.credit_note(manager, inv, reason="Billed to the wrong agency")
        db.session.commit()
        number = inv.number
    body = api("manager@jof.example").get(f"/api/v1/billing/invoices/{number}").get_json()
    assert body["status"] == "credited" and body["balance"] == "0.00"
    head = api("head@undp.jof.example")
    listed = head.get("/api/v1/billing/invoices").get_json()["items"]
    assert [(i["number"], i["status"]) for i in listed] == [(number, "credited")]
    entries = head.get("/api/v1/billing/statements/UNDP").get_json()["entries"]
    assert [(e["kind"], e["status"]) for e in entries] == [("invoice", "credited"), ("credit_note", None)]
    page = web("head@undp.jof.example").get(f"/billing/invoices/{issued}").get_data(as_text=True)
    assert 'data-testid="status" data-status="credited">Credited<' in page
    statement = web("head@undp.jof.example").get("/billing/statements/UNDP").get_data(as_text=True)
    assert 'data-testid="entry-status" data-status="credited">Credited<' in statement
    csv_text = web("head@undp.jof.example").get("/billing/statements/UNDP.csv").get_data(as_text=True)
    assert f"{number}," in csv_text and ",credited" in csv_text.splitlines()[1]


def test_an_invoice_paid_in_full_then_credited_in_full_reads_credited_with_the_refund_due(app, issued):
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount=str(inv.total_usd), reference="BB-1")
        assert balances.standing(inv) == "paid"
        invoices.credit_note(manager, inv, reason="Services not delivered")
        assert balances.standing(inv) == "credited" and balances.balance(inv) == -inv.total_usd


def test_a_partly_credited_invoice_whose_rest_is_paid_reads_paid(app, issued):
    with app.app_context():
        manager = user("manager@jof.example")
        inv = db.session.get(Invoice, issued)
        invoices.credit_note(manager, inv, reason="One fare refunded", amount="100.00")
        invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount=str(balances.balance(inv)),
                                reference="BB-2")
        assert balances.standing(inv) == "paid"


def _race(app, invoice_id: int, kind: str, amount: Decimal, workers: int = 6) -> list[str]:
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def worker(n: int):
        with app.app_context():
            manager = user(MANAGER)
            inv = db.session.get(Invoice, invoice_id)
            balances.balance(inv)  # the collections are loaded before the others commit
            barrier.wait()
            try:
                if kind == "payment":
                    invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount=str(amount),
                                            reference=f"BB-{n}")
                else:
                    invoices.credit_note(manager, inv, reason="Parallel credit", amount=str(amount))
                db.session.commit()
                outcomes.append("ok")
            except ValidationFailed:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


@pytest.mark.postgres_only
def test_parallel_payments_never_exceed_the_balance_nor_credit_notes_the_total(app, month):
    ids = close(app, month, issue=("UNDP", "UNFPA"))
    with app.app_context():
        totals = {code: db.session.get(Invoice, ids[code]).total_usd for code in ("UNDP", "UNFPA")}
    parts = {code: (t / 3).quantize(Decimal("0.01")) + Decimal("0.01") for code, t in totals.items()}
    expected = ["ok", "ok", "refused", "refused", "refused", "refused"]  # a third one would exceed
    assert _race(app, ids["UNDP"], "payment", parts["UNDP"]) == expected
    assert _race(app, ids["UNFPA"], "credit", parts["UNFPA"]) == expected
    with app.app_context():
        paid = db.session.get(Invoice, ids["UNDP"])
        assert balances.paid(paid) == 2 * parts["UNDP"] <= totals["UNDP"] and balances.balance(paid) >= 0
        credited = db.session.get(Invoice, ids["UNFPA"])
        assert balances.credited(credited) == 2 * parts["UNFPA"] <= totals["UNFPA"]


def test_payment_dates_run_from_the_issue_date_to_tomorrow(app, api, month):
    ids = close(app, month, issue=("UNDP",))
    manager = api(MANAGER)
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNDP"])
        number, issued_on = inv.number, inv.issued_on
    for bad in ("0001-01-01", "9999-12-31", (issued_on - timedelta(days=1)).isoformat(),
                (issued_on + timedelta(days=2)).isoformat()):
        r = manager.post(f"/api/v1/billing/invoices/{number}/payments",
                         json={"paid_on": bad, "amount": "1.00", "reference": "BB-1"})
        assert r.status_code == 422 and "paid_on" in r.get_json()["errors"], bad
    for good in (issued_on, issued_on + timedelta(days=1)):
        r = manager.post(f"/api/v1/billing/invoices/{number}/payments",
                         json={"paid_on": good.isoformat(), "amount": "1.00", "reference": f"BB-{good}"})
        assert r.status_code == 201, r.get_json()
    with app.app_context():
        assert len(db.session.scalars(select(Payment)).all()) == 2


def test_the_database_refuses_moving_a_draft_line_into_an_issued_invoice(app, month):
    ids = close(app, month, issue=("UNDP",))
    with app.app_context():
        line_id = db.session.scalar(select(InvoiceLine.id).where(InvoiceLine.invoice_id == ids["UNFPA"]).limit(1))
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE invoice_line SET invoice_id = :issued WHERE id = :line"),
                               {"issued": ids["UNDP"], "line": line_id})
        db.session.rollback()
        # moving between drafts is still the draft's business
        db.session.execute(text("UPDATE invoice_line SET invoice_id = :other WHERE id = :line"),
                           {"other": ids["UNESCO"], "line": line_id})
        db.session.rollback()


def test_the_local_total_has_the_minor_units_of_the_local_currency(app, api, month):
    with app.app_context():
        from jof.core.people import Facility

        db.session.get(Facility, 1).local_currency = "CLP"
        db.session.add(ExchangeRate(currency="CLP", month=MONTH, units_per_usd=Decimal("943.123457")))
        db.session.commit()
    ids = close(app, month, issue=("UNDP",))
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNDP"])
        expected = (inv.total_usd * Decimal("943.123457")).quantize(Decimal(1))
        assert inv.total_local == expected
        assert balances.local_total(inv) == expected and balances.local_total(inv).as_tuple().exponent == 0
        number = inv.number
    body = api(MANAGER).get(f"/api/v1/billing/invoices/{number}").get_json()
    assert body["local_currency"] == "CLP" and body["total_local"] == str(expected)
