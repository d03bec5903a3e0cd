"""The monthly report and the board pack as jobs of core's queue (:mod:`jof.core.jobs`).

A report takes a second or more to render (one chart per section, WeasyPrint), longer on
a busy server, so the monitoring page starts a job and its page shows the progress, then
offers the PDF. The finished PDF is kept under the app's instance path
(``monitoring/job-<id>.pdf``), like billing's rendered ZIPs; the worker and the web share
it. Who may start a job is who may download that report today
(:func:`report.require_report`, :func:`report.require_pack`); a job, and its PDF, is
read only by a user who may read that report: to anyone else it does not exist (404).

``jof report monthly|board`` still renders directly (the operator waits for it).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from flask import current_app, has_request_context
from flask_babel import force_locale, lazy_gettext

from jof.core import jobs as queue
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.jobs import Job
from jof.core.people import User
from jof.monitoring import report

MONTHLY, PACK = "monthly_report", "board_pack"
KINDS = (MONTHLY, PACK)


def _may_read(user: User, job: Job) -> None:
    allowed = report.can_read_report(user) if job.kind == MONTHLY else report.can_read_pack(user)
    if not allowed:
        raise NotFound("No such job.")


def _may_start(user: User, params: dict) -> None:
    (report.require_report if params.get("kind") == MONTHLY else report.require_pack)(user)


def months_of(raw) -> int:
    text = str(raw if raw is not None else "1").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= 12:
        raise ValidationFailed({"months": [str(lazy_gettext("From 1 to 12 months."))]})
    return int(text)


def start(user: User, kind: str, month_text: str, months_text: str | None = None) -> Job:
    """Start the monthly report of a month, or the board pack of the months ending with
    it; a bad month (or number of months) is a 422 naming the field."""
    if kind not in KINDS:
        raise NotFound("No such report.")
    (report.require_report if kind == MONTHLY else report.require_pack)(user)
    month = report.parse_month(month_text)
    params = {"kind": kind, "month": f"{month:%Y-%m}"}
    if kind == PACK:
        params["months"] = months_of(months_text)
    return queue.start(user, kind, params, period=month)


def pdf_path(job: Job) -> Path:
    return Path(current_app.instance_path) / "monitoring" / f"job-{job.id}.pdf"


def download_name(job: Job) -> str:
    month = job.params.get("month", "")
    if job.kind == MONTHLY:
        return f"jof-monthly-report-{month}.pdf"
    return f"jof-board-pack-{month}-{job.params.get('months', 1)}m.pdf"


def _work(job: Job, user: User, params: dict) -> tuple[str, dict]:
    """Render the report as ``user`` reads it, in their language, into the job's file."""
    month = report.parse_month(params.get("month", ""))
    with ExitStack() as stack:
        if not has_request_context():  # a worker or a thread: a bare request to render in
            stack.enter_context(current_app.test_request_context())
        stack.enter_context(force_locale(user.locale or "en"))
        job.progress(0, report.STEPS)
        if job.kind == MONTHLY:
            data = report.monthly_pdf(user, month, job.progress)
        else:
            data = report.board_pack_pdf(user, month, months_of(params.get("months")), job.progress)
    path = pdf_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)  # a download never sees half a PDF
    return f"{download_name(job)} is ready ({len(data)} bytes).", {"file": path.name, "bytes": len(data),
                                                                  "download_name": download_name(job)}


def register() -> None:
    """Declare the two kinds on core's queue (from monitoring's ``install``)."""
    for name, label in ((MONTHLY, lazy_gettext("the monthly report")), (PACK, lazy_gettext("the board pack"))):
        queue.register_kind(queue.Kind(name=name, label=label, line="monitoring", may_start=_may_start,
                                       may_read=_may_read, work=_work))


#: How many of the latest report jobs the monitoring page lists.
RECENT = 5


def readable_kinds(user: User) -> tuple[str, ...]:
    return tuple(k for k, may in ((MONTHLY, report.can_read_report(user)), (PACK, report.can_read_pack(user)))
                 if may)


def recent(user: User) -> list[Job]:
    """The latest report jobs the user may read (one statement), so a reader who left a
    job's page finds it again."""
    names = readable_kinds(user)
    if not names:
        return []
    return list(db.session.scalars(queue.query(names).limit(RECENT)))


def get(user: User, job_id: int) -> Job:
    return queue.get(user, job_id, kinds_of=KINDS)


def pdf_file(user: User, job_id: int) -> tuple[Path, str]:
    """The finished PDF of a job the user may read; 404 until it is done."""
    job = get(user, job_id)
    path = pdf_path(job)
    if job.status != "done" or not path.is_file():
        raise NotFound("The report is not ready.")
    return path, download_name(job)

