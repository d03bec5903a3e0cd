"""The statuses of billing's objects and the moves between them (``jof.core.statetable``).

Three objects carry a stored status: the invoice, the billing period and the batch job
(core's :class:`jof.core.jobs.Job`, whose table billing names as ``JOB``).
Each status changes only through its table's :meth:`~jof.core.statetable.StateTable.move`,
so an undeclared move (issuing an issued invoice, paying a draft) is the same 409, with
the actions open now, as a refused request transition.

An issued invoice never changes (DESIGN §7, database triggers of migrations ``bil1`` and
``bil3``), so its stored status stops at ``issued``; payments and credit notes are moves
that keep it there. What an agency reads (``paid``, ``credited``, ``overdue`` …) is its
:class:`Standing`, derived from the payments, credit notes and due date
(``jof.billing.balances.standing``).

This module imports no services: the tables only answer "is this move possible from here".
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_pgettext

from jof.core import jobs
from jof.core.jobs import JobStatus
from jof.core.statetable import Move, StateTable


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"


class Standing(StrEnum):
    """Where an invoice stands for the agency: its stored status, or what its payments,
    credit notes and due date make of an issued one."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    #: Credit notes cancel the whole total (whatever was paid is owed back to the agency).
    CREDITED = "credited"


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class JobKind(StrEnum):
    CLOSE_PERIOD = "close_period"
    RENDER_PERIOD = "render_period"


DRAFT, ISSUED = InvoiceStatus.DRAFT, InvoiceStatus.ISSUED

INVOICE = StateTable("invoice", InvoiceStatus, [
    Move("issue", (DRAFT,), ISSUED),
    # An issued invoice never changes: payments and corrections are recorded beside it.
    Move("record_payment", (ISSUED,), ISSUED),
    Move("credit", (ISSUED,), ISSUED),
])

#: A month opens when the first charge or pool of it is written; its close is final.
PERIOD = StateTable("billing period", PeriodStatus, [
    Move("close", (PeriodStatus.OPEN,), PeriodStatus.CLOSED),
])

#: Billing's batch work runs on core's job queue (``jof.core.jobs``): its statuses and
#: their table are core's, named here too for billing's pages and schemas.
JOB = jobs.JOB

#: What a person reads for each status of billing (pages and PDFs; the API gives the value).
#: In their own context: Portuguese agrees the word with the invoice, period or job.
CONTEXT = "billing status"
LABELS = {
    Standing.DRAFT: lazy_pgettext(CONTEXT, "Draft"),
    Standing.ISSUED: lazy_pgettext(CONTEXT, "Issued"),
    Standing.PARTIALLY_PAID: lazy_pgettext(CONTEXT, "Partially paid"),
    Standing.PAID: lazy_pgettext(CONTEXT, "Paid"),
    Standing.OVERDUE: lazy_pgettext(CONTEXT, "Overdue"),
    Standing.CREDITED: lazy_pgettext(CONTEXT, "Credited"),
    PeriodStatus.OPEN: lazy_pgettext(CONTEXT, "Open"),
    PeriodStatus.CLOSED: lazy_pgettext(CONTEXT, "Closed"),
    JobStatus.QUEUED: lazy_pgettext(CONTEXT, "Queued"),
    JobStatus.RUNNING: lazy_pgettext(CONTEXT, "Running"),
    JobStatus.DONE: lazy_pgettext(CONTEXT, "Done"),
    JobStatus.FAILED: lazy_pgettext(CONTEXT, "Failed"),
}


def label(status) -> str:
    """The translated label of a billing status (the ``billing_status`` template filter)."""
    if status is None:
        return ""
    found = LABELS.get(str(status))
    return str(found) if found is not None else str(status).replace("_", " ")
