"""What billing asks of a person now, for the home page (``jof.core.home``): an agency's
invoices still to pay, and the facility's draft invoices still to issue."""

from __future__ import annotations

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, type_coerce

from jof.billing.models import CreditNote, Invoice, Payment
from jof.billing.states import InvoiceStatus
from jof.core import authz
from jof.core.db import db
from jof.core.home import Entry, Panel
from jof.core.money import Money
from jof.core.people import Role, User
from jof.core.templating import money

SHOWN = 5


def _outstanding():
    """An issued invoice's balance in SQL (total less payments and credit notes), the same
    rule as ``balances.balance``."""
    paid = select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.invoice_id == Invoice.id) \
        .scalar_subquery()
    credited = select(func.coalesce(func.sum(CreditNote.amount), 0)) \
        .where(CreditNote.invoice_id == Invoice.id).scalar_subquery()
    return type_coerce(Invoice.total_usd - paid - credited, Money)


def invoices_to_pay(user: User) -> Panel | None:
    """For the agency's head: its issued invoices with a balance, the oldest due first."""
    if user.agency is None or not authz.is_head_of(user, user.agency):
        return None
    due = _outstanding()
    stmt = (select(Invoice, due.label("due"))
            .where(Invoice.agency_id == user.agency_id, Invoice.status == InvoiceStatus.ISSUED,
                   due > 0))
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if not count:
        return None
    rows = db.session.execute(stmt.order_by(Invoice.due_on.asc(), Invoice.id.asc()).limit(SHOWN)).all()
    entries = tuple(
        Entry(inv.number or "", url_for("billing.invoice", invoice_id=inv.id),
              _("%(amount)s due on %(date)s", amount=money(left),
                date=format_date(inv.due_on) if inv.due_on else "—"))
        for inv, left in rows)
    return Panel(title=_("invoices of your agency are still to pay"), count=count,
                 url=url_for("billing.invoice_list"), entries=entries, action=_("See the invoices"))


def drafts_to_issue(user: User) -> Panel | None:
    """For the manager: draft invoices of closed months, waiting to be issued."""
    if not user.has_role(Role.MANAGER):
        return None
    count = db.session.scalar(select(func.count(Invoice.id)).where(Invoice.status == InvoiceStatus.DRAFT)) or 0
    if not count:
        return None
    return Panel(title=_("draft invoices wait to be issued"), count=count,
                 url=url_for("billing.periods"), action=_("Go to the billing periods"))
