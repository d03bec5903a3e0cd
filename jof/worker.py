"""Entry points of the RQ worker: a queued job runs inside an app context made here, at
the top of the package, so no service line imports the app factory."""

from __future__ import annotations

from flask import has_app_context


def run_billing_job(job_id: int) -> str:
    """Run billing job ``job_id`` (``jof billing worker`` already holds an app context;
    a bare ``rq worker`` does not, and gets one here)."""
    from jof.billing import jobs

    if has_app_context():
        return jobs.execute(job_id)
    from jof import create_app

    with create_app().app_context():
        return jobs.execute(job_id)


def send_mail(message: dict) -> None:
    """Send one e-mail queued by ``jof.core.mail`` after its transaction committed."""
    from jof.core import mail

    if has_app_context():
        mail.send_now(message)
        return
    from jof import create_app

    with create_app().app_context():
        mail.send_now(message)
