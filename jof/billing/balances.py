"""What an invoice comes to: credited, paid, the balance and where it stands (DESIGN §7).

Pure reading of an invoice and its payments and credit notes, shared by the services,
the printed forms, the statement and the schemas.

Where an issued invoice stands, in this order:

- ``credited`` when credit notes cancel its whole total: it was withdrawn, so it never
  reads "paid" (what the agency had paid on it is owed back, a negative balance);
- ``paid`` when nothing is left to pay (an invoice partly credited whose rest was paid
  reads ``paid``: the agency settled what the correction left);
- ``overdue`` after the due date, ``partially_paid`` once something was paid, else ``issued``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jof.billing.models import Invoice
from jof.billing.states import InvoiceStatus, Standing
from jof.core.calendar import local_today
from jof.core.money import CURRENCIES, quantize


def local_total(inv: Invoice) -> Decimal:
    """The local-currency equivalent to the currency's minor units (CLP 0 decimals, BRL 2)."""
    return quantize(inv.total_local, CURRENCIES.get(inv.local_currency, 2))


def credited(inv: Invoice) -> Decimal:
    return sum((c.amount for c in inv.credit_notes), Decimal("0.00"))


def paid(inv: Invoice) -> Decimal:
    return sum((p.amount for p in inv.payments), Decimal("0.00"))


def balance(inv: Invoice) -> Decimal:
    if inv.status == InvoiceStatus.DRAFT:
        return Decimal("0.00")
    return inv.total_usd - credited(inv) - paid(inv)


def standing(inv: Invoice, on: date | None = None) -> Standing:
    """See the module docstring; ``on`` is the day it is read (default today at the facility)."""
    if inv.status == InvoiceStatus.DRAFT:
        return Standing.DRAFT
    written_off = credited(inv)
    if written_off > 0 and written_off >= inv.total_usd:
        return Standing.CREDITED
    if balance(inv) <= 0:
        return Standing.PAID
    on = on or local_today()
    if inv.due_on and on > inv.due_on:
        return Standing.OVERDUE
    if paid(inv) > 0:
        return Standing.PARTIALLY_PAID
    return Standing.ISSUED
