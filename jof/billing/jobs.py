"""Batch work of billing (period close, a period's PDFs) as jobs with progress and outcome.

Rendering a period's PDFs takes seconds per invoice (STACK-NOTES), so the manager starts
a job and watches it. Where the job runs depends on ``REDIS_URL`` (app config, else the
environment):

- set: the job is recorded ``queued`` and put on an RQ queue in Redis; ``jof billing
  worker`` runs it off the request path, committing its progress as it goes;
- unset (the embedded default): it runs in-process: in a thread of the web process that
  starts once the request has committed (``JOF_JOBS_IN_BACKGROUND``, the default), so the
  page answers at once and shows the progress; or, with the setting off, inside the
  caller's transaction (the answer then waits for the batch). A thread dies with its
  process: a job whose worker was restarted meanwhile stays ``running``; start it again.

Either way a job that fails rolls back everything it did, leaving the period as it was,
and records why (``failed`` with the reason in ``message``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from jof.billing import access, documents, services
from jof.billing.models import BillingJob, Invoice
from jof.billing.states import JOB, JobKind, JobStatus
from jof.core import audit
from jof.core.db import db
from jof.core.errors import DomainError, NotFound
from jof.core.money import MoneyError
from jof.core.people import User
from jof.core.timeutil import utcnow

log = logging.getLogger("jof.billing.jobs")

KINDS = tuple(JobKind)
#: The RQ queue billing jobs go to (``JOF_JOB_QUEUE`` overrides it).
QUEUE = "jof-billing"
#: How long a job may run on the worker before RQ stops it.
JOB_TIMEOUT = 3600
#: How long the worker waits for the row of a job whose request has not committed yet.
ROW_WAIT_SECONDS = 30

#: Set by ``jof billing worker`` in the parent: a forked work horse must not reuse its
#: database connections.
_worker_pid: int | None = None


class QueueUnavailable(DomainError):
    status = 503


def redis_url() -> str | None:
    """The Redis of the job queue, or None for in-process jobs (the app config wins over
    the environment, so a test or a deployment can switch it either way)."""
    cfg = current_app.config
    url = cfg["REDIS_URL"] if "REDIS_URL" in cfg else os.environ.get("REDIS_URL")
    return url or None


def queue_name() -> str:
    return current_app.config.get("JOF_JOB_QUEUE") or QUEUE


def connection():
    from redis import Redis

    return Redis.from_url(redis_url())


def queue(conn=None):
    from rq import Queue

    return Queue(queue_name(), connection=conn or connection())


def start(actor, kind: str, month: date) -> BillingJob:
    """Record the job and run it here, or queue it for the worker when Redis is configured.

    The caller's transaction commits the record (and, in-process, the outcome).
    """
    access.ensure_manager(actor, "Only the facility manager closes periods and invoices.")
    if kind not in KINDS:
        raise NotFound("No such job kind.")
    job = BillingJob(kind=JobKind(kind), period=month, status=JobStatus.QUEUED, requested_by_id=actor.id, done=0, total=0,
                     message="", created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    if redis_url() is None:
        if current_app.config.get("JOF_JOBS_IN_BACKGROUND"):
            job.message = "Starting."
            audit.record(actor, "billing.job.queued", job, after={"kind": kind, "period": month})
            _run_in_thread(job.id)
            return job
        _run_here(job, actor)
        return job
    try:
        queue().enqueue("jof.worker.run_billing_job", job.id, job_timeout=JOB_TIMEOUT,
                        description=f"billing job {job.id}: {kind} {month:%Y-%m}")
    except Exception as exc:  # redis.ConnectionError and friends: nothing is recorded
        log.warning("billing job queue unreachable: %s", exc)
        raise QueueUnavailable("The job queue (Redis) is unreachable; nothing was started. "
                               "Try again later or ask the administrator.") from None
    job.message = "Waiting for a worker."
    audit.record(actor, "billing.job.queued", job, after={"kind": kind, "period": month})
    return job


def _close(job: BillingJob, actor, _progress) -> tuple[str, dict]:
    result = services.close_period(actor, job.period)
    job.total = job.done = len(result.invoices)
    total = sum((i.total_usd for i in result.invoices), Decimal("0.00"))
    return result.message, {"changed": result.changed, "invoices": len(result.invoices),
                            "total_usd": str(total)}


def _render(job: BillingJob, _actor, progress) -> tuple[str, dict]:
    if db.session.scalar(select(Invoice.id).where(Invoice.period == job.period).limit(1)) is None:
        raise DomainError(f"Period {job.period:%Y-%m} has no invoices to render; close it first.")
    data = documents.period_zip(job.period, progress)
    path = documents.zip_path(job.period)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)  # a download never sees half a ZIP
    return (f"{job.total} invoice PDF(s) of {job.period:%Y-%m} rendered.",
            {"invoices": job.total, "zip": path.name, "bytes": len(data)})


WORK = {JobKind.CLOSE_PERIOD: _close, JobKind.RENDER_PERIOD: _render}


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError | MoneyError):
        return getattr(exc, "detail", None) or str(exc)
    return f"Unexpected error ({type(exc).__name__}); the details are in the server log."


def _finish(job: BillingJob, actor, action: str, message: str, result: dict | None = None) -> None:
    """``finish`` (done) or ``fail`` (failed), with the outcome."""
    _, status = JOB.move(job, action)
    job.message, job.result, job.finished_at = message, result, utcnow()
    audit.record(actor, f"billing.job.{status}", job, after={"kind": job.kind, "period": job.period,
                                                            "message": message})


def _run_here(job: BillingJob, actor) -> None:
    """In-process: the work in a savepoint of the caller's transaction."""
    JOB.move(job, "start")
    job.started_at = utcnow()

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        with db.session.begin_nested():
            message, result = WORK[job.kind](job, actor, progress)
    except Exception as exc:
        if not isinstance(exc, DomainError | MoneyError):
            log.exception("billing job %s failed", job.id)
        _finish(job, actor, "fail", _reason(exc))
        return
    _finish(job, actor, "finish", message, result)


def _run_in_thread(job_id: int) -> None:
    """Run the job as the worker would, in a thread with its own app context and session;
    it waits for the row, which the starting request commits (see :func:`_claim`)."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                _execute(job_id)
            except Exception:  # recorded on the job as failed; the traceback goes to the log
                log.exception("billing job %s failed in its thread", job_id)
            finally:
                db.session.remove()

    threading.Thread(target=run, name=f"billing-job-{job_id}", daemon=True).start()


# --- the worker side ---------------------------------------------------------------------------


def execute(job_id: int) -> str:
    """Run billing job ``job_id`` in the current app context; returns its final status.
    The worker reaches it through ``jof.worker.run_billing_job``, which owns the app."""
    return _execute(job_id)


#: The job table's ``start`` move, which the worker applies as one conditional UPDATE.
_START = next(m for m in JOB.moves if m.action == "start")


def _claim(job_id: int) -> bool:
    """The table's ``start`` (queued → running), once: the request that queued the job may
    not have committed yet (wait for it), and a job already taken is left alone. It is one
    ``UPDATE … WHERE status IN (sources)`` so two workers cannot both take the job."""
    wait = current_app.config.get("JOF_JOB_ROW_WAIT_SECONDS", ROW_WAIT_SECONDS)
    deadline = time.monotonic() + wait
    while True:
        try:
            claimed = db.session.execute(
                update(BillingJob).where(BillingJob.id == job_id, BillingJob.status.in_(_START.sources))
                .values(status=_START.target, started_at=utcnow())).rowcount
            db.session.commit()
        except OperationalError:  # SQLite: the queuing request still holds the write lock
            db.session.rollback()
            if time.monotonic() > deadline:
                raise
            continue
        if claimed:
            return True
        status = db.session.scalar(select(BillingJob.status).where(BillingJob.id == job_id))
        if status is not None and status not in _START.sources:
            db.session.rollback()
            return False  # ran already (RQ delivers at least once)
        # Absent, or committed between the UPDATE and this read (then claim it next time).
        db.session.rollback()
        if time.monotonic() > deadline:
            return False  # its request rolled back: there is nothing to do
        time.sleep(0.2)


def _execute(job_id: int) -> str:
    if _worker_pid is not None and os.getpid() != _worker_pid:
        db.engine.dispose(close=False)  # a forked horse opens its own connections
    if not _claim(job_id):
        log.info("billing job %s: not queued (gone or taken), skipped", job_id)
        return "skipped"
    job = db.session.get(BillingJob, job_id, populate_existing=True)
    actor = db.session.get(User, job.requested_by_id)

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total
        db.session.commit()  # the manager watches it move (rendering writes nothing else)

    try:
        message, result = WORK[job.kind](job, actor, progress)
        _finish(job, actor, "finish", message, result)
        db.session.commit()
        return "done"
    except Exception as exc:
        db.session.rollback()  # everything the work did, so the period is as it was
        job = db.session.get(BillingJob, job_id, populate_existing=True)
        actor = db.session.get(User, job.requested_by_id)
        _finish(job, actor, "fail", _reason(exc))
        db.session.commit()
        if not isinstance(exc, DomainError | MoneyError):
            raise  # RQ keeps the traceback in its failed-job registry
        return "failed"


def run_worker(*, burst: bool = False, simple: bool = False) -> bool:
    """Run an RQ worker on the billing queue in this app (``jof billing worker``)."""
    global _worker_pid
    from rq import SimpleWorker, Worker

    if redis_url() is None:
        raise QueueUnavailable("REDIS_URL is not set: billing jobs run in-process, there is no queue to serve.")
    conn = connection()
    _worker_pid = os.getpid()
    db.engine.dispose()  # no connection inherited by the horses
    worker = (SimpleWorker if simple else Worker)([queue(conn)], connection=conn)
    return worker.work(burst=burst)


# --- reading -----------------------------------------------------------------------------------


def jobs_query(actor, month: date | None = None):
    """Period closes and PDF renderings, newest first (the facility's people)."""
    access.ensure_facility(actor)
    stmt = select(BillingJob).order_by(BillingJob.id.desc())
    if month is not None:
        stmt = stmt.where(BillingJob.period == month)
    return stmt


def get(actor, job_id: int) -> BillingJob:
    access.ensure_facility(actor)
    job = db.session.get(BillingJob, job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


def zip_file(actor, month: date):
    """The period's rendered ZIP for the facility's people; 404 until it is rendered."""
    access.ensure_facility(actor)
    path = documents.zip_path(month)
    if not path.is_file():
        raise NotFound(gettext("Render the period's PDFs first."))
    return path
