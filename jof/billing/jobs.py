"""Batch work of billing (period close, a period's PDFs) as jobs with progress and outcome.

Rendering a period's PDFs takes seconds per invoice (STACK-NOTES), so the manager starts
a job and watches it. Jobs run in-process here (the embedded default): a job that fails
rolls back everything it did, leaving the period as it was, and records why.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from jof.billing import invoices, services
from jof.billing.models import BillingJob
from jof.core import audit
from jof.core.db import db
from jof.core.errors import DomainError, NotFound
from jof.core.money import MoneyError
from jof.core.timeutil import utcnow

KINDS = ("close_period", "render_period")


def zip_path(month: date) -> Path:
    return Path(current_app.instance_path) / "billing" / f"invoices-{month:%Y-%m}.zip"


def start(actor, kind: str, month: date) -> BillingJob:
    """Record the job and run it; the caller's transaction commits the outcome."""
    services._manager(actor)
    if kind not in KINDS:
        raise NotFound("No such job kind.")
    job = BillingJob(kind=kind, period=month, status="running", requested_by_id=actor.id,
                     created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    run(job, actor)
    return job


def run(job: BillingJob, actor) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        with db.session.begin_nested():
            if job.kind == "close_period":
                result = services.close_period(actor, job.period)
                job.total = job.done = len(result.invoices)
                job.message = result.message
            else:
                data = invoices.period_zip(job.period, progress)
                path = zip_path(job.period)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                job.message = f"{job.total} invoice PDF(s) of {job.period:%Y-%m} rendered."
        job.status = "done"
    except (DomainError, MoneyError) as exc:
        job.status = "failed"
        job.message = getattr(exc, "detail", None) or str(exc)
    job.finished_at = utcnow()
    audit.record(actor, f"billing.job.{job.status}", job, after={"kind": job.kind, "message": job.message})


def jobs_query(month: date | None = None):
    stmt = select(BillingJob).order_by(BillingJob.id.desc())
    if month is not None:
        stmt = stmt.where(BillingJob.period == month)
    return stmt
