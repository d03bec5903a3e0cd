"""The columns of the invoice list: what the page shows, sorts by and exports (see
:mod:`jof.core.listing`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from jof.billing import balances, states
from jof.billing.models import Invoice
from jof.core.listing import Column, Listing
from jof.core.people import Agency

INVOICES = Listing(
    "invoices",
    (
        Column("number", _l("Number"), lambda inv: inv.number or "", Invoice.number),
        Column("agency", _l("Agency"), lambda inv: inv.agency.code, Agency.code),
        Column("period", _l("Period"), lambda inv: inv.period.strftime("%Y-%m"), Invoice.period),
        Column("status", _l("Status"), lambda inv: str(states.label(balances.standing(inv))), Invoice.status),
        Column("total_usd", _l("Total"), lambda inv: inv.total_usd, Invoice.total_usd),
        Column("balance_usd", _l("Balance"), lambda inv: balances.balance(inv)),
        Column("due_on", _l("Due"), lambda inv: inv.due_on, Invoice.due_on),
    ),
    default_sort="period",
    tiebreak=(Agency.code, Invoice.id),
)

#: What every row (balance and standing read payments and credit notes) needs, in a fixed
#: number of statements.
ROW_LOADS = (selectinload(Invoice.agency), selectinload(Invoice.payments), selectinload(Invoice.credit_notes))
