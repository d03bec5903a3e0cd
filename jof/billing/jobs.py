"""Billing's batch work (period close, a period's PDFs) as jobs of core's queue
(:mod:`jof.core.jobs`), with progress and outcome.

Rendering a period's PDFs takes seconds per invoice (STACK-NOTES), so the manager starts
a job and watches it. :func:`register` (called by billing's ``install``) declares the two
kinds; core records them, runs them (on the RQ queue served by ``jof worker`` when
``REDIS_URL`` is set, else in a thread of the web process or inline) and rolls back a job
that fails, leaving the period as it was, with the reason in its ``message``.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from jof.billing import access, documents, services
from jof.billing.models import Invoice
from jof.billing.states import JobKind
from jof.core import jobs as queue
from jof.core.calendar import parse_month
from jof.core.db import db
from jof.core.errors import DomainError, NotFound
from jof.core.jobs import Job
from jof.core.people import User

KINDS = tuple(JobKind)


def start(actor: User, kind: str, month: date) -> Job:
    """Record a close or render job of ``month`` and run or queue it (see core's ``start``)."""
    access.ensure_manager(actor, "Only the facility manager closes periods and invoices.")
    if kind not in KINDS:
        raise NotFound("No such job kind.")
    return queue.start(actor, kind, {"period": f"{month:%Y-%m}"}, period=month)


def _may_start(actor: User, _params: dict) -> None:
    access.ensure_manager(actor, "Only the facility manager closes periods and invoices.")


def _may_read(actor: User, _job: Job) -> None:
    access.ensure_facility(actor)


def _month(params: dict) -> date:
    return parse_month(params.get("period", ""), "period")


def _close(job: Job, actor: User, params: dict) -> tuple[str, dict]:
    result = services.close_period(actor, _month(params))
    # One transaction: a progress report would commit a half-closed period (the runner
    # commits each report), so the bar moves once, when the close is whole.
    job.progress(len(result.invoices), len(result.invoices))
    total = sum((i.total_usd for i in result.invoices), Decimal("0.00"))
    return result.message, {"changed": result.changed, "invoices": len(result.invoices),
                            "total_usd": str(total)}


def _render(job: Job, _actor: User, params: dict) -> tuple[str, dict]:
    month = _month(params)
    if db.session.scalar(select(Invoice.id).where(Invoice.period == month).limit(1)) is None:
        raise DomainError(f"Period {month:%Y-%m} has no invoices to render; close it first.")
    data = documents.period_zip(month, job.progress)
    path = documents.zip_path(month)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)  # a download never sees half a ZIP
    return (f"{job.total} invoice PDF(s) of {month:%Y-%m} rendered.",
            {"invoices": job.total, "zip": path.name, "bytes": len(data)})


def register() -> None:
    """Declare billing's kinds on core's queue (from ``install``)."""
    for name, label, work in ((JobKind.CLOSE_PERIOD, lazy_gettext("close the period"), _close),
                              (JobKind.RENDER_PERIOD, lazy_gettext("render the invoice PDFs"), _render)):
        queue.register_kind(queue.Kind(name=str(name), label=label, line="billing", may_start=_may_start,
                                       may_read=_may_read, work=work))


# --- reading -----------------------------------------------------------------------------------


def jobs_query(actor: User, month: date | None = None):
    """Period closes and PDF renderings, newest first (the facility's people)."""
    access.ensure_facility(actor)
    return queue.query(KINDS, month)


def get(actor: User, job_id: int) -> Job:
    access.ensure_facility(actor)
    return queue.get(actor, job_id, kinds_of=KINDS)


def zip_file(actor: User, month: date):
    """The period's rendered ZIP for the facility's people; 404 until it is rendered."""
    access.ensure_facility(actor)
    path = documents.zip_path(month)
    if not path.is_file():
        raise NotFound(gettext("Render the period's PDFs first."))
    return path
