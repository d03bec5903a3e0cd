"""The statement of account of an agency: its issued invoices, credit notes and payments
in date order with the running balance (DESIGN §7).

Each invoice entry carries where the invoice stands today (``balances.standing``), so a
fully credited invoice reads ``credited`` on the statement as on the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.billing import balances
from jof.billing.models import Invoice
from jof.billing.states import InvoiceStatus
from jof.core import authz
from jof.core.db import db
from jof.core.errors import NotFound
from jof.core.people import Agency

#: The order of entries made on the same day.
KIND_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2}


@dataclass
class Entry:
    on: date
    kind: str  # invoice | credit_note | payment
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Decimal("0.00")
    #: Where an invoice stands today (``states.Standing``); None for credit notes and payments.
    status: str | None = None


def statement(actor, code: str) -> tuple[Agency, list[Entry]]:
    agency = db.session.scalar(select(Agency).where(Agency.code == code.upper()))
    if agency is None:
        raise NotFound("No such agency.")
    authz.ensure_visible(actor, agency.id, "agency")
    entries: list[Entry] = []
    for inv in db.session.scalars(select(Invoice).where(Invoice.agency_id == agency.id,
                                                        Invoice.status == InvoiceStatus.ISSUED)):
        entries.append(Entry(inv.issued_on, "invoice", inv.number, f"Invoice for {inv.period:%Y-%m}",
                             inv.total_usd, Decimal("0.00"), status=balances.standing(inv)))
        entries += [Entry(c.issued_on, "credit_note", c.number, f"Credit note on {inv.number}: {c.reason}",
                          Decimal("0.00"), c.amount) for c in inv.credit_notes]
        entries += [Entry(p.paid_on, "payment", p.reference, f"Payment of {inv.number}",
                          Decimal("0.00"), p.amount) for p in inv.payments]
    entries.sort(key=lambda e: (e.on, KIND_ORDER[e.kind], e.reference))
    running = Decimal("0.00")
    for e in entries:
        running += e.debit - e.credit
        e.balance = running
    return agency, entries
