"""Invoices after the close: issuing with gapless numbers, credit notes, payments,
statements of account and the PDFs (DESIGN §7).

An issued invoice never changes: the service refuses, and database triggers refuse too
(migration ``bil1``). Corrections are credit notes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, has_request_context, render_template
from sqlalchemy import select

from jof.billing.models import CreditNote, Invoice, Payment
from jof.core import audit, authz
from jof.core.counters import next_value
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.money import CURRENCIES, MoneyError, quantize, to_decimal
from jof.core.pdf import render_pdf
from jof.core.people import Agency, Facility, Role
from jof.core.timeutil import to_local, utcnow

DUE_DAYS = 30  # default (DESIGN §7)
STATUSES = ("draft", "issued", "partially_paid", "paid", "overdue")
_ID = re.compile(r"[0-9]{1,18}")


def _manager(actor) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager issues invoices and records payments.")


def facility() -> Facility | None:
    return db.session.get(Facility, 1)


def today() -> date:
    f = facility()
    return to_local(utcnow(), f.time_zone if f else "UTC").date()


def get_invoice(actor, number_or_id) -> Invoice:
    """By number (``JOF-2026-00001``) or, for drafts, by id; another agency's is 404.

    An id is 1 to 18 ASCII digits (what a 64-bit key holds); anything else is looked up
    as a number, so ``99999999999999999999`` or ``²`` is a plain 404.
    """
    text = str(number_or_id)
    if isinstance(number_or_id, int) or _ID.fullmatch(text):
        inv = db.session.get(Invoice, int(text)) if _ID.fullmatch(text) else None
    else:
        inv = db.session.scalar(select(Invoice).where(Invoice.number == text))
    if inv is None:
        raise NotFound("No such invoice.")
    authz.ensure_visible(actor, inv.agency_id, "invoice")
    if inv.status == "draft" and not actor.is_facility_staff:
        raise NotFound("No such invoice.")  # agencies see what was issued to them
    return inv


def invoices_query(actor, *, period: date | None = None, agency_code: str | None = None,
                   status: str | None = None):
    stmt = select(Invoice).join(Agency).order_by(Invoice.period.desc(), Agency.code)
    if not authz.sees_all_agencies(actor):
        stmt = stmt.where(Invoice.agency_id == actor.agency_id, Invoice.status == "issued")
    if period is not None:
        stmt = stmt.where(Invoice.period == period)
    if agency_code:
        stmt = stmt.where(Agency.code == agency_code.upper())
    if status in ("draft", "issued"):
        stmt = stmt.where(Invoice.status == status)
    return stmt


def ensure_editable(inv: Invoice) -> None:
    if inv.status != "draft":
        raise Conflict(f"Invoice {inv.number} is issued and never changes; correct it with a credit note.")


def issue(actor, invoice_id: int) -> Invoice:
    """Give the draft its number (gapless per year) and due date; from now on it is immutable."""
    _manager(actor)
    inv = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update()
                            .execution_options(populate_existing=True))
    if inv is None:
        raise NotFound("No such invoice.")
    ensure_editable(inv)
    _drop_stale_zip(inv.period)
    day = today()
    f = facility()
    prefix = f.invoice_prefix if f else "JOF"
    inv.number = f"{prefix}-{day.year}-{next_value(f'invoice:{day.year}'):05d}"
    inv.status = "issued"
    inv.issued_on = day
    inv.due_on = day + timedelta(days=current_app.config.get("JOF_INVOICE_DUE_DAYS", DUE_DAYS))
    inv.issued_by_id = actor.id
    audit.record(actor, "invoice.issue", inv, after={"number": inv.number, "total_usd": inv.total_usd,
                                                     "due_on": inv.due_on})
    return inv


def issue_period(actor, month: date) -> list[Invoice]:
    ids = db.session.scalars(select(Invoice.id).join(Agency).where(Invoice.period == month,
                                                                  Invoice.status == "draft")
                             .order_by(Agency.code)).all()
    return [issue(actor, i) for i in ids]


# --- balances --------------------------------------------------------------------------------


def local_total(inv: Invoice) -> Decimal:
    """The local-currency equivalent to the currency's minor units (CLP 0 decimals, BRL 2)."""
    return quantize(inv.total_local, CURRENCIES.get(inv.local_currency, 2))


def credited(inv: Invoice) -> Decimal:
    return sum((c.amount for c in inv.credit_notes), Decimal("0.00"))


def paid(inv: Invoice) -> Decimal:
    return sum((p.amount for p in inv.payments), Decimal("0.00"))


def balance(inv: Invoice) -> Decimal:
    if inv.status == "draft":
        return Decimal("0.00")
    return inv.total_usd - credited(inv) - paid(inv)


def status_of(inv: Invoice, on: date | None = None) -> str:
    """draft, or issued | partially_paid | paid | overdue derived from payments and the due date."""
    if inv.status == "draft":
        return "draft"
    on = on or today()
    if balance(inv) <= 0:
        return "paid"
    if inv.due_on and on > inv.due_on:
        return "overdue"
    if paid(inv) > 0:
        return "partially_paid"
    return "issued"


def _amount(value, field: str = "amount") -> Decimal:
    try:
        amount = to_decimal(value)
    except MoneyError as exc:
        raise ValidationFailed({field: [str(exc)]}) from None
    if amount <= 0:
        raise ValidationFailed({field: ["Must be positive."]})
    if amount != quantize(amount):
        raise ValidationFailed({field: ["Give the amount to the cent."]})
    return amount


def _locked(inv: Invoice) -> Invoice:
    """The invoice re-read under a row lock (PostgreSQL; SQLite writers are serialised by
    BEGIN IMMEDIATE) with its payments and credit notes as committed: two payments or
    credit notes at once are checked against the balance one after the other."""
    locked = db.session.scalar(select(Invoice).where(Invoice.id == inv.id).with_for_update()
                               .execution_options(populate_existing=True))
    if locked is None:
        raise NotFound("No such invoice.")
    db.session.refresh(locked, ["payments", "credit_notes"])
    _drop_stale_zip(locked.period)
    return locked


def _drop_stale_zip(month: date) -> None:
    """The period's rendered ZIP no longer matches once an invoice of it is issued,
    credited or paid: remove it, so it is rendered again before it is downloaded."""
    from jof.billing.jobs import zip_path

    zip_path(month).unlink(missing_ok=True)


def credit_note(actor, inv: Invoice, *, reason: str, amount=None) -> CreditNote:
    """Credit all (no amount) or part of what is still creditable on an issued invoice."""
    _manager(actor)
    inv = _locked(inv)
    if inv.status != "issued":
        raise Conflict("Only an issued invoice can be credited; change the draft instead.")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the invoice is corrected."]})
    creditable = inv.total_usd - credited(inv)
    amount = creditable if amount in (None, "") else _amount(amount)
    if amount <= 0 or amount > creditable:
        raise ValidationFailed({"amount": [f"At most {creditable} USD can still be credited on {inv.number}."]})
    day = today()
    cn = CreditNote(number=f"CN-{day.year}-{next_value(f'credit_note:{day.year}'):05d}", invoice_id=inv.id,
                    amount=amount, reason=reason.strip(), issued_on=day, issued_by_id=actor.id,
                    created_at=utcnow())
    db.session.add(cn)
    db.session.flush()
    db.session.refresh(inv, ["credit_notes"])
    audit.record(actor, "credit_note.issue", cn, after={"number": cn.number, "invoice": inv.number,
                                                        "amount": amount, "reason": cn.reason})
    return cn


def record_payment(actor, inv: Invoice, *, paid_on, amount, reference: str) -> Payment:
    _manager(actor)
    inv = _locked(inv)
    if inv.status != "issued":
        raise Conflict("Payments are recorded against issued invoices only.")
    errors: dict[str, list[str]] = {}
    amount = _amount(amount)
    if not (reference or "").strip():
        errors["reference"] = ["Give the bank reference of the payment."]
    if isinstance(paid_on, str):
        try:
            paid_on = date.fromisoformat(paid_on)
        except ValueError:
            errors["paid_on"] = ["Expected YYYY-MM-DD."]
    if isinstance(paid_on, date):
        latest = today() + timedelta(days=1)  # a bank in a time zone ahead of the facility's
        if not inv.issued_on <= paid_on <= latest:
            errors["paid_on"] = [f"Give a date from the issue date {inv.issued_on:%Y-%m-%d} to {latest:%Y-%m-%d}."]
    if not errors and amount > balance(inv):
        errors["amount"] = [f"Only {balance(inv)} USD is outstanding on {inv.number}."]
    if errors:
        raise ValidationFailed(errors)
    payment = Payment(invoice_id=inv.id, paid_on=paid_on, amount=amount, reference=reference.strip(),
                      recorded_by_id=actor.id, recorded_at=utcnow())
    db.session.add(payment)
    db.session.flush()
    db.session.refresh(inv, ["payments"])
    audit.record(actor, "payment.record", payment, after={"invoice": inv.number, "amount": amount,
                                                          "paid_on": paid_on, "reference": payment.reference})
    return payment


def credit_notes_query(actor):
    stmt = select(CreditNote).join(Invoice).order_by(CreditNote.id.desc())
    if not authz.sees_all_agencies(actor):
        stmt = stmt.where(Invoice.agency_id == actor.agency_id)
    return stmt


# --- statement of account --------------------------------------------------------------------


@dataclass
class Entry:
    on: date
    kind: str  # invoice | credit_note | payment
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Decimal("0.00")


def statement(actor, code: str) -> tuple[Agency, list[Entry]]:
    agency = db.session.scalar(select(Agency).where(Agency.code == code.upper()))
    if agency is None:
        raise NotFound("No such agency.")
    authz.ensure_visible(actor, agency.id, "agency")
    entries: list[Entry] = []
    for inv in db.session.scalars(select(Invoice).where(Invoice.agency_id == agency.id,
                                                        Invoice.status == "issued")):
        entries.append(Entry(inv.issued_on, "invoice", inv.number, f"Invoice for {inv.period:%Y-%m}",
                             inv.total_usd, Decimal("0.00")))
        entries += [Entry(c.issued_on, "credit_note", c.number, f"Credit note on {inv.number}: {c.reason}",
                          Decimal("0.00"), c.amount) for c in inv.credit_notes]
        entries += [Entry(p.paid_on, "payment", p.reference, f"Payment of {inv.number}",
                          Decimal("0.00"), p.amount) for p in inv.payments]
    order = {"invoice": 0, "credit_note": 1, "payment": 2}
    entries.sort(key=lambda e: (e.on, order[e.kind], e.reference))
    running = Decimal("0.00")
    for e in entries:
        running += e.debit - e.credit
        e.balance = running
    return agency, entries


def statement_csv(agency: Agency, entries: list[Entry]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["date", "type", "reference", "description", "debit_usd", "credit_usd", "balance_usd"])
    for e in entries:
        w.writerow([e.on.isoformat(), e.kind, _text_cell(e.reference), _text_cell(e.description),
                    e.debit, e.credit, e.balance])
    return out.getvalue()


def _text_cell(value) -> str:
    """Keep typed text (a payment reference, a reason) from opening as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- PDFs --------------------------------------------------------------------------------------


def payment_instructions() -> str:
    return current_app.config.get(
        "JOF_PAYMENT_INSTRUCTIONS",
        "Please pay in USD by bank transfer to the facility's account within the due date, "
        "quoting the invoice number as the payment reference.")


def grouped_lines(inv: Invoice) -> list[tuple[str, list]]:
    groups: list[tuple[str, list]] = []
    for line in inv.lines:
        if not groups or groups[-1][0] != line.service_line:
            groups.append((line.service_line, []))
        groups[-1][1].append(line)
    return groups


def _render(template: str, **context) -> str:
    """Render in the current request, or in a bare one for jobs and the command line."""
    if has_request_context():
        return render_template(template, **context)
    with current_app.test_request_context():
        return render_template(template, **context)


def invoice_html(inv: Invoice, credit: CreditNote | None = None) -> str:
    return _render("billing/invoice_pdf.html", inv=inv, cn=credit, facility=facility(),
                           groups=grouped_lines(inv),
                           shares=[ln for ln in inv.lines if ln.kind == "cost_share"],
                           instructions=payment_instructions(), local_total=local_total(inv))


def invoice_pdf(inv: Invoice) -> bytes:
    return render_pdf(invoice_html(inv))


def credit_note_pdf(cn: CreditNote) -> bytes:
    return render_pdf(invoice_html(cn.invoice, cn))


def statement_pdf(agency: Agency, entries: list[Entry]) -> bytes:
    return render_pdf(_render("billing/statement_pdf.html", agency=agency, entries=entries,
                                      facility=facility(), on=today()))


def filename(inv: Invoice) -> str:
    return f"{inv.number or f'draft-{inv.agency.code}-{inv.period:%Y-%m}'}.pdf"


def period_zip(month: date, progress=None) -> bytes:
    """Every invoice of the month as PDFs in one ZIP (drafts named as drafts)."""
    invoices = db.session.scalars(select(Invoice).join(Agency).where(Invoice.period == month)
                                  .order_by(Agency.code)).all()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, inv in enumerate(invoices, start=1):
            zf.writestr(filename(inv), invoice_pdf(inv))
            if progress:
                progress(n, len(invoices))
    return buf.getvalue()
