"""``jof hr purge``: remove the personal data of the candidates who were not selected, N
months after their recruitment ended (``--months``, by default the setting
``JOF_HR_PURGE_MONTHS``, 24).

A recruitment has ended when it is completed (the selected candidate onboarded), cancelled
or rejected; its end is when that happened (``completed_at`` or ``closed_at``). For every
candidate who still has personal data, was selected in no recruitment and whose every
application is in such a recruitment ended at least N months ago (a roster hire is the
same candidate as in the recruitment that assessed them, so a person selected, or still
in a recruitment, anywhere is kept), for each of their applications:

* the candidate's name, e-mail and phone are erased, and the self-declared gender and
  nationality are added to :class:`~jof.hr.models.PurgedTally` before they are erased, so
  the statistics keep their figures; the screening facts (education level, years of
  experience, languages) stay, so the recorded screening stays explainable without
  saying who it was about;
* the application's documents and referees are deleted, and an override's comment (which
  may name the person) is erased;
* in the recruitment's recommendation reports, the candidate's name is replaced by
  "Candidate N (personal data removed)";
* expired once-only answers (jof/core/once.py), which may hold an API answer naming a
  candidate, are deleted, and so are the public page's submissions (the sender's address
  group) older than the rate limit's window (``JOF_HR_PUBLIC_WINDOW``): the page deletes
  them only when the next application comes, which may be never.

Audit events are not touched: the HR events hold references only (ids, the recruitment's
reference, decisions and scores), never a personal field, so after a purge nothing of the
person is left anywhere and ``jof audit verify`` still passes (tests/hr/test_purge.py). One
more event records the purge itself, with counts.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import and_, delete, func, not_, or_, select

from jof.core import audit
from jof.core.db import db
from jof.core.once import Submission
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status
from jof.hr.models import (
    Application,
    ApplicationAttachment,
    Candidate,
    PublicSubmission,
    PurgedTally,
    RecommendationReport,
    Recruitment,
    Referee,
)
from jof.hr.public import DEFAULT_WINDOW

DEFAULT_MONTHS = 24
ENDED = (Status.COMPLETED, Status.CANCELLED, Status.REJECTED)
REMOVED_NAME = "Candidate {seq} (personal data removed)"

hr_cli = AppGroup("hr", help="HR service line: candidates' privacy.")


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant ``months`` calendar months earlier (the day clipped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("no such day")  # pragma: no cover


def _tally(year: int, agency_id: int, dimension: str, value: str | None) -> None:
    value = value or ""
    row = db.session.scalar(select(PurgedTally).where(
        PurgedTally.year == year, PurgedTally.agency_id == agency_id, PurgedTally.dimension == dimension,
        PurgedTally.value == value))
    if row is None:
        db.session.add(PurgedTally(year=year, agency_id=agency_id, dimension=dimension, value=value, count=1))
        db.session.flush()
    else:
        row.count += 1


def purge(months: int | None = None, now: datetime | None = None) -> dict:
    """Redact what is due; the counts of what was done."""
    months = current_app.config.get("JOF_HR_PURGE_MONTHS", DEFAULT_MONTHS) if months is None else months
    if months < 0:
        raise ValueError("months must be 0 or more")
    now = now or utcnow()
    cutoff = months_before(now, months)
    ended_at = func.coalesce(ServiceRequest.completed_at, ServiceRequest.closed_at)
    ended_long_ago = and_(ServiceRequest.status.in_(ENDED), ended_at.is_not(None), ended_at <= cutoff)
    # A roster hire reuses the candidate of the recruitment they were assessed in: one
    # person, several applications. They are purged only once every one of them is due.
    kept = (select(Application.candidate_id)
            .join(Recruitment, Recruitment.id == Application.recruitment_id)
            .join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
            .where(or_(Application.selected.is_(True), not_(ended_long_ago))))
    rows = db.session.execute(
        select(Application, Recruitment, ServiceRequest)
        .join(Recruitment, Recruitment.id == Application.recruitment_id)
        .join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(ended_long_ago, Candidate.purged_at.is_(None), Application.candidate_id.not_in(kept))
        .order_by(Application.id)).all()
    removed: dict[int, dict[int, str]] = {}
    references = set()
    declared = {app.candidate_id: (app.candidate.gender, app.candidate.nationality) for app, _rec, _sr in rows}
    for app, rec, sr in rows:
        gender, nationality = declared[app.candidate_id]
        _tally(app.applied_at.year, sr.agency_id, "gender", gender)
        _tally(app.applied_at.year, sr.agency_id, "nationality", nationality)
        person = app.candidate
        person.full_name, person.email, person.phone = "", "", ""
        person.gender = person.nationality = None
        person.purged_at = now
        app.override_comment = ""
        db.session.execute(delete(ApplicationAttachment).where(ApplicationAttachment.application_id == app.id))
        db.session.execute(delete(Referee).where(Referee.application_id == app.id))
        removed.setdefault(rec.id, {})[app.id] = REMOVED_NAME.format(seq=app.seq)
        references.add(sr.reference)
    for rec_id, names in removed.items():
        for report in db.session.scalars(select(RecommendationReport).where(
                RecommendationReport.recruitment_id == rec_id)):
            snapshot = dict(report.snapshot)
            snapshot["rows"] = [{**r, "name": names.get(r["application_id"], r["name"])} for r in snapshot["rows"]]
            report.snapshot = snapshot
    expired = db.session.execute(delete(Submission).where(Submission.expires_at <= now)).rowcount or 0
    window = current_app.config.get("JOF_HR_PUBLIC_WINDOW", DEFAULT_WINDOW)
    submissions = db.session.execute(
        delete(PublicSubmission).where(PublicSubmission.at <= now - window)).rowcount or 0
    result = {"months": months, "cutoff": cutoff.isoformat(), "candidates": len(declared),
              "recruitments": sorted(references), "expired_answers": expired,
              "public_submissions": submissions}
    if rows:
        db.session.flush()
        audit.record(None, "hr.purge", object_type="hr_purge", object_id=now.isoformat(), after={
            "months": months, "candidates": len(declared), "recruitments": sorted(references)})
    return result


@hr_cli.command("purge")
@click.option("--months", type=click.IntRange(min=0), default=None,
              help=f"Months after a recruitment ended (default: the setting JOF_HR_PURGE_MONTHS, {DEFAULT_MONTHS}).")
def purge_command(months: int | None):
    """Remove the personal data of candidates not selected, N months after their
    recruitment ended; aggregates and audit events stay."""
    result = purge(months)
    db.session.commit()
    click.echo(f"{result['candidates']} candidate(s) of {len(result['recruitments'])} recruitment(s) purged "
               f"(recruitments ended on or before {result['cutoff'][:10]}, {result['months']} months ago)")
