"""The job queue: batch work (a period close, a batch of PDFs, a report) run beside the
page, with its progress and its outcome.

A line declares each kind of work it runs as a job in its ``install(app)`` with
:func:`register_kind` (core imports no line, and nothing is found by probing modules). A
:class:`Kind` names the work, gives the label people read, says who may start a job of it
and who may read one (each raises the line's own refusal), and holds the work function
``work(job, user, params) -> (message, result)``, which reports its progress with
``job.progress(done, total)`` and returns the outcome and a small JSON result.

Where a job runs depends on ``REDIS_URL`` (app config, else the environment):

- set: the job is recorded ``queued`` and put on an RQ queue in Redis; ``jof worker``
  runs it off the request path through :func:`jof.worker.run_job`, committing its
  progress as it goes;
- unset (the embedded default): it runs in-process: in a thread of the web process that
  starts once the request has committed (``JOF_JOBS_IN_BACKGROUND``, the default), so the
  page answers at once and shows the progress; or, with the setting off, inside the
  caller's transaction (the answer then waits for the work). A thread dies with its
  process: a job whose worker was restarted meanwhile stays ``running``; start it again.

Either way the status moves through :data:`JOB` (queued → running → done | failed), the
start and the outcome are audited (``<line>.job.queued`` when it is handed to a worker or
a thread; ``<line>.job.done`` or ``<line>.job.failed``, with the kind and parameters,
which is the one event of a job run inside the request that started it), and a job that fails rolls back everything its work did and
records why (``failed`` with the reason in ``message``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask import current_app
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core import audit
from jof.core.db import db
from jof.core.errors import DomainError, NotFound
from jof.core.money import MoneyError
from jof.core.people import User
from jof.core.statetable import Move, StateTable, StatusType
from jof.core.timeutil import UTCDateTime, utcnow

log = logging.getLogger("jof.core.jobs")

#: The RQ queue jobs (and queued e-mail) go to; ``JOF_JOB_QUEUE`` overrides it.
QUEUE = "jof-jobs"
#: The queue's name while it was billing's: ``jof worker`` still serves it, so what an
#: older release queued before an upgrade runs after it.
LEGACY_QUEUE = "jof-billing"
#: How long a job may run on the worker before RQ stops it.
JOB_TIMEOUT = 3600
#: How long the worker waits for the row of a job whose request has not committed yet.
ROW_WAIT_SECONDS = 30

#: Set by :func:`run_worker` in the parent: a forked work horse must not reuse its
#: database connections.
_worker_pid: int | None = None


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB = StateTable("job", JobStatus, [
    Move("start", (JobStatus.QUEUED,), JobStatus.RUNNING),
    Move("finish", (JobStatus.RUNNING,), JobStatus.DONE),
    Move("fail", (JobStatus.RUNNING,), JobStatus.FAILED),
])

CONTEXT = "job status"
LABELS = {
    JobStatus.QUEUED: lazy_pgettext(CONTEXT, "Queued"),
    JobStatus.RUNNING: lazy_pgettext(CONTEXT, "Running"),
    JobStatus.DONE: lazy_pgettext(CONTEXT, "Done"),
    JobStatus.FAILED: lazy_pgettext(CONTEXT, "Failed"),
}


def status_label(status) -> str:
    return str(LABELS[JobStatus(status)])


class Job(db.Model):
    """One run of a registered kind of work, with its progress and outcome."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A registered kind's name (``close_period``, ``monthly_report`` …).
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: What the work takes (JSON: a period as ``YYYY-MM``, a number of months …).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The month the job is about, when it is about one (lists filter on it).
    period: Mapped[date | None] = mapped_column(Date)
    #: queued | running | done | failed (:data:`JOB`)
    status: Mapped[JobStatus] = mapped_column(StatusType(JobStatus, 10), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    #: What it produced: invoices drafted and their total, a file's name and size.
    result: Mapped[dict | None] = mapped_column(JSON)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship()

    #: What :meth:`progress` calls after moving the counts (the worker commits them);
    #: set on the instance by the runner, not a column.
    _on_progress = None

    def progress(self, done: int, total: int) -> None:
        """What the work calls as it goes: ``done`` of ``total`` items."""
        self.done, self.total = done, total
        if self._on_progress is not None:
            self._on_progress()

    @property
    def finished(self) -> bool:
        return self.status not in (JobStatus.QUEUED, JobStatus.RUNNING)


Work = Callable[[Job, User, dict], "tuple[str, dict | None]"]


@dataclass(frozen=True)
class Kind:
    """A kind of work a line runs as a job (see the module docstring)."""

    name: str
    #: A lazy string, read in the user's language when shown.
    label: str
    #: The line it belongs to: its audit actions are ``<line>.job.<status>``.
    line: str
    #: ``may_start(user, params)`` raises the line's refusal (403, 422) or returns.
    may_start: Callable[[User, dict], None]
    #: ``may_read(user, job)`` raises the line's refusal (403, or 404 to hide it) or returns.
    may_read: Callable[[User, Job], None]
    work: Work


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    """Declare ``kind`` (from a line's ``install(app)``); installing again replaces it."""
    _KINDS[kind.name] = kind


def kind_of(name: str) -> Kind:
    try:
        return _KINDS[str(name)]
    except KeyError:
        raise NotFound("No such job kind.") from None


def kind_label(name: str) -> str:
    """What a person reads for a kind (the ``job_kind`` template filter)."""
    found = _KINDS.get(str(name))
    return str(found.label) if found is not None else str(name).replace("_", " ")


def kinds() -> tuple[str, ...]:
    return tuple(_KINDS)


def progress_json(job: Job) -> dict:
    """What a job page polls (jof/static/progress.js) to move its progress bar."""
    return {"id": job.id, "kind": job.kind, "status": str(job.status), "status_label": status_label(job.status),
            "done": job.done, "total": job.total, "message": job.message, "finished": job.finished}


# --- where it runs -----------------------------------------------------------------------------


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


def start(actor: User, name: str, params: dict | None = None, *, period: date | None = None) -> Job:
    """Record a job of kind ``name`` and run it here, or queue it for the worker when
    Redis is configured. The caller's transaction commits the record (and, in-process,
    the outcome)."""
    kind = kind_of(name)
    params = dict(params or {})
    kind.may_start(actor, params)
    job = Job(kind=kind.name, params=params, period=period, status=JobStatus.QUEUED, requested_by_id=actor.id,
              done=0, total=0, message="", created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    queued = {"kind": kind.name, "params": params, "period": period}
    if redis_url() is None:
        if current_app.config.get("JOF_JOBS_IN_BACKGROUND"):
            job.message = "Starting."
            audit.record(actor, f"{kind.line}.job.queued", job, after=queued)
            _run_in_thread(job.id)
            return job
        _run_here(job, actor)  # started and ended in this transaction: its outcome is the audit
        return job
    try:
        queue().enqueue("jof.worker.run_job", job.id, job_timeout=JOB_TIMEOUT,
                        description=f"job {job.id}: {kind.name} {params}")
    except Exception as exc:  # redis.ConnectionError and friends: nothing is recorded
        log.warning("job queue unreachable: %s", exc)
        raise QueueUnavailable("The job queue (Redis) is unreachable; nothing was started. "
                               "Try again later or ask the administrator.") from None
    job.message = "Waiting for a worker."
    audit.record(actor, f"{kind.line}.job.queued", job, after=queued)
    return job


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError | MoneyError):
        return getattr(exc, "detail", None) or str(exc)
    return f"Unexpected error ({type(exc).__name__}); the details are in the server log."


def _finish(job: Job, actor, action: str, message: str, result: dict | None = None) -> None:
    """``finish`` (done) or ``fail`` (failed), with the outcome."""
    _, status = JOB.move(job, action)
    job.message, job.result, job.finished_at = message, result, utcnow()
    line = _KINDS[job.kind].line if job.kind in _KINDS else "core"
    audit.record(actor, f"{line}.job.{status}", job, after={"kind": job.kind, "params": job.params,
                                                            "period": job.period, "message": message})


def _run_here(job: Job, actor) -> None:
    """In-process: the work in a savepoint of the caller's transaction."""
    JOB.move(job, "start")
    job.started_at = utcnow()
    try:
        with db.session.begin_nested():
            message, result = kind_of(job.kind).work(job, actor, dict(job.params or {}))
    except Exception as exc:
        if not isinstance(exc, DomainError | MoneyError):
            log.exception("job %s failed", job.id)
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
                log.exception("job %s failed in its thread", job_id)
            finally:
                db.session.remove()

    threading.Thread(target=run, name=f"job-{job_id}", daemon=True).start()


# --- the worker side ---------------------------------------------------------------------------


def execute(job_id: int) -> str:
    """Run job ``job_id`` in the current app context; returns its final status. The worker
    reaches it through ``jof.worker.run_job``, which owns the app."""
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
                update(Job).where(Job.id == job_id, Job.status.in_(_START.sources))
                .values(status=_START.target, started_at=utcnow())).rowcount
            db.session.commit()
        except OperationalError:  # SQLite: the queuing request still holds the write lock
            db.session.rollback()
            if time.monotonic() > deadline:
                raise
            continue
        if claimed:
            return True
        status = db.session.scalar(select(Job.status).where(Job.id == job_id))
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
        log.info("job %s: not queued (gone or taken), skipped", job_id)
        return "skipped"
    job = db.session.get(Job, job_id, populate_existing=True)
    actor = db.session.get(User, job.requested_by_id)
    job._on_progress = db.session.commit  # the reader watches it move (long work writes nothing else)
    try:
        message, result = kind_of(job.kind).work(job, actor, dict(job.params or {}))
        _finish(job, actor, "finish", message, result)
        db.session.commit()
        return "done"
    except Exception as exc:
        db.session.rollback()  # everything the work did, so the data is as it was
        job = db.session.get(Job, job_id, populate_existing=True)
        job._on_progress = None
        actor = db.session.get(User, job.requested_by_id)
        _finish(job, actor, "fail", _reason(exc))
        db.session.commit()
        if not isinstance(exc, DomainError | MoneyError):
            raise  # RQ keeps the traceback in its failed-job registry
        return "failed"


def run_worker(*, burst: bool = False, simple: bool = False) -> bool:
    """Run an RQ worker on the job queue in this app (``jof worker``)."""
    global _worker_pid
    from rq import SimpleWorker, Worker

    if redis_url() is None:
        raise QueueUnavailable("REDIS_URL is not set: jobs run in-process, there is no queue to serve.")
    conn = connection()
    _worker_pid = os.getpid()
    db.engine.dispose()  # no connection inherited by the horses
    queues = [queue(conn)]
    if queue_name() == QUEUE:  # jobs and mail queued by a release before the queue was core's
        from rq import Queue

        queues.append(Queue(LEGACY_QUEUE, connection=conn))
    worker = (SimpleWorker if simple else Worker)(queues, connection=conn)
    return worker.work(burst=burst)


# --- reading -----------------------------------------------------------------------------------


def get(actor: User, job_id: int, *, kinds_of: tuple[str, ...] | None = None) -> Job:
    """The job, if ``actor`` may read it (its kind decides); ``kinds_of`` keeps a line's
    pages to its own kinds (another line's job is not found there)."""
    job = db.session.get(Job, job_id)
    if job is None or (kinds_of is not None and job.kind not in kinds_of):
        raise NotFound("No such job.")
    kind_of(job.kind).may_read(actor, job)
    return job


def query(names: tuple[str, ...], period: date | None = None):
    """Jobs of the kinds ``names``, newest first (the caller checked who reads them)."""
    stmt = select(Job).where(Job.kind.in_(names)).order_by(Job.id.desc())
    if period is not None:
        stmt = stmt.where(Job.period == period)
    return stmt
