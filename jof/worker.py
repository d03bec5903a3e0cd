"""Entry points of the RQ worker: a queued job runs inside an app context made here, at
the top of the package, so no service line imports the app factory."""

from __future__ import annotations

from flask import has_app_context


def run_job(job_id: int) -> str:
    """Run job ``job_id`` of core's queue, whatever line registered its kind (``jof
    worker`` already holds an app context; a bare ``rq worker`` does not, and gets one
    here, with every line installed)."""
    from jof.core import jobs

    if has_app_context():
        return jobs.execute(job_id)
    from jof import create_app

    with create_app().app_context():
        return jobs.execute(job_id)


#: The entry point billing jobs were queued under before the queue moved to core: a job
#: queued by the previous release still runs after the upgrade.
run_billing_job = run_job


def send_mail(message: dict) -> None:
    """Send one e-mail queued by ``jof.core.mail`` after its transaction committed."""
    from jof.core import mail

    if has_app_context():
        mail.send_now(message)
        return
    from jof import create_app

    with create_app().app_context():
        mail.send_now(message)
