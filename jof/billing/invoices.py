"""Invoices after the close: issuing with gapless numbers, credit notes and payments
(DESIGN §7).

An issued invoice never changes: the invoice table (``states.INVOICE``) refuses to issue
it again, and database triggers refuse any change too (migrations ``bil1``, ``bil3``).
Corrections are credit notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from jof.billing import access, balances, documents
from jof.billing.models import CreditNote, Invoice, Payment
from jof.billing.states import INVOICE, InvoiceStatus
from jof.core import alerts, audit, authz
from jof.core.calendar import local_today
from jof.core.counters import next_value, peek
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.money import MoneyError, check_amount, quantize, to_decimal
from jof.core.people import Agency
from jof.core.timeutil import utcnow

DUE_DAYS = 30  # default (DESIGN §7)
_ID = re.compile(r"[0-9]{1,18}")
_WHY = "Only the facility manager issues invoices and records payments."


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
    if inv.status == InvoiceStatus.DRAFT and not actor.is_facility_staff:
        raise NotFound("No such invoice.")  # agencies see what was issued to them
    return inv


def get_credit_note(actor, credit_note_id: int) -> CreditNote:
    """A credit note of an invoice ``actor`` may see; another agency's is 404."""
    cn = db.session.get(CreditNote, credit_note_id)
    if cn is None:
        raise NotFound("No such credit note.")
    authz.ensure_visible(actor, cn.invoice.agency_id, "credit note")
    return cn


def invoices_query(actor, *, period: date | None = None, agency_code: str | None = None,
                   status: str | None = None):
    stmt = select(Invoice).join(Agency).order_by(Invoice.period.desc(), Agency.code)
    if not authz.sees_all_agencies(actor):
        stmt = stmt.where(Invoice.agency_id == actor.agency_id, Invoice.status == InvoiceStatus.ISSUED)
    if period is not None:
        stmt = stmt.where(Invoice.period == period)
    if agency_code:
        stmt = stmt.where(Agency.code == agency_code.upper())
    if status in tuple(InvoiceStatus):
        stmt = stmt.where(Invoice.status == status)
    return stmt


def issue(actor, invoice_id: int) -> Invoice:
    """Give the draft its number (gapless per year) and due date; from now on it is immutable."""
    access.ensure_manager(actor, _WHY)
    inv = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update()
                            .execution_options(populate_existing=True))
    if inv is None:
        raise NotFound("No such invoice.")
    # The status and the number reach the row in one UPDATE: the database refuses any change
    # of an invoice once it reads issued. A refused move comes first and consumes no number.
    with db.session.no_autoflush:
        INVOICE.move(inv, "issue")
        documents.drop_stale_zip(inv.period)
        day = local_today()
        f = documents.facility()
        prefix = f.invoice_prefix if f else "JOF"
        inv.number = f"{prefix}-{day.year}-{next_value(f'invoice:{day.year}'):05d}"
        inv.issued_on = day
        inv.due_on = day + timedelta(days=current_app.config.get("JOF_INVOICE_DUE_DAYS", DUE_DAYS))
        inv.issued_by_id = actor.id
    audit.record(actor, "invoice.issue", inv, after={"number": inv.number, "total_usd": inv.total_usd,
                                                     "due_on": inv.due_on})
    alerts.raise_alert(alerts.INVOICE_ISSUED, alerts.heads_of([inv.agency_id]),
                       "Invoice %(number)s to %(agency)s issued: USD %(total)s, due %(due)s.",
                       {"number": inv.number, "agency": inv.agency.code, "total": alerts.Amount(inv.total_usd),
                        "due": inv.due_on}, f"/billing/invoices/{inv.id}", actor=actor)
    return inv


def _draft_ids(month: date) -> list[int]:
    return db.session.scalars(select(Invoice.id).join(Agency).where(Invoice.period == month,
                                                                   Invoice.status == InvoiceStatus.DRAFT)
                              .order_by(Agency.code)).all()


def issue_period(actor, month: date) -> list[Invoice]:
    access.ensure_manager(actor, _WHY)
    return [issue(actor, i) for i in _draft_ids(month)]


@dataclass(frozen=True)
class IssuePlan:
    """What "issue all drafts" of a month would do, for the confirmation that names it."""

    count: int
    total_usd: Decimal
    first: str | None
    last: str | None


def issue_plan(actor, month: date) -> IssuePlan:
    """The drafts :func:`issue_period` would issue and the numbers they would take, read
    without taking any (another manager issuing meanwhile would shift them: the
    confirmation sends ``first`` back and a mismatch is refused)."""
    access.ensure_manager(actor, _WHY)
    ids = _draft_ids(month)
    if not ids:
        return IssuePlan(0, Decimal("0.00"), None, None)
    total = sum((inv.total_usd for inv in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))),
                Decimal("0.00"))
    year = local_today().year
    f = documents.facility()
    prefix = f.invoice_prefix if f else "JOF"
    start = peek(f"invoice:{year}") + 1
    return IssuePlan(len(ids), total, f"{prefix}-{year}-{start:05d}",
                     f"{prefix}-{year}-{start + len(ids) - 1:05d}")


def _amount(value, field: str = "amount") -> Decimal:
    try:
        amount = to_decimal(value)
    except MoneyError as exc:
        raise ValidationFailed({field: [str(exc)]}) from None
    if amount <= 0:
        raise ValidationFailed({field: ["Must be positive."]})
    problem = check_amount(amount)
    if problem:
        raise ValidationFailed({field: [problem]})
    if amount != quantize(amount):
        raise ValidationFailed({field: ["Give the amount to the cent."]})
    return amount


def _locked(inv: Invoice, action: str) -> Invoice:
    """The invoice re-read under a row lock (PostgreSQL; SQLite writers are serialised by
    BEGIN IMMEDIATE) with its payments and credit notes as committed: two payments or
    credit notes at once are checked against the balance one after the other. The
    ``action`` must be open from its status (a draft is neither paid nor credited)."""
    locked = db.session.scalar(select(Invoice).where(Invoice.id == inv.id).with_for_update()
                               .execution_options(populate_existing=True))
    if locked is None:
        raise NotFound("No such invoice.")
    INVOICE.move(locked, action)  # issued stays issued: the table only refuses a draft
    db.session.refresh(locked, ["payments", "credit_notes"])
    documents.drop_stale_zip(locked.period)
    return locked


def credit_note(actor, inv: Invoice, *, reason: str, amount=None) -> CreditNote:
    """Credit all (no amount) or part of what is still creditable on an issued invoice."""
    access.ensure_manager(actor, _WHY)
    inv = _locked(inv, "credit")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the invoice is corrected."]})
    creditable = inv.total_usd - balances.credited(inv)
    amount = creditable if amount in (None, "") else _amount(amount)
    if amount <= 0 or amount > creditable:
        raise ValidationFailed({"amount": [f"At most {creditable} USD can still be credited on {inv.number}."]})
    day = local_today()
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
    access.ensure_manager(actor, _WHY)
    inv = _locked(inv, "record_payment")
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
        latest = local_today() + timedelta(days=1)  # a bank in a time zone ahead of the facility's
        if not inv.issued_on <= paid_on <= latest:
            errors["paid_on"] = [f"Give a date from the issue date {inv.issued_on:%Y-%m-%d} to {latest:%Y-%m-%d}."]
    outstanding = balances.balance(inv)
    if not errors and amount > outstanding:
        errors["amount"] = [f"Only {outstanding} USD is outstanding on {inv.number}."]
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
