"""Candidates and their applications: recorded by HR officers while a vacancy is
advertised, screened automatically against the minimum requirements, and overridden
by an officer with a comment.

Personal data go to :class:`~jof.hr.models.Candidate` only; the audit events written
here name the application and the candidate by id and say what was decided, never who
the person is (docs/hr.md, "Candidates' privacy").
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from jof.core import audit, templating
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.hr import states
from jof.hr.models import Application, Candidate, Recruitment, RosterConsent
from jof.hr.recruitments import _languages, ensure_hr_officer, ensure_sees_candidates
from jof.hr.screening import Screening, screen_application


def _status_word(rec: Recruitment) -> str:
    """The recruitment's state as the reader's pages name it."""
    return templating.status_label(rec.request.status).lower()


def record_application(actor: User, rec: Recruitment, data: dict) -> Application:
    """Record a candidate's application to an advertised vacancy and screen it."""
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    return create_application(actor, rec, data, source="officer")


def create_application(actor, rec: Recruitment, data: dict, *, source: str) -> Application:
    """Record and screen an application however it came (an officer's entry, the public
    page, a CSV import); the caller has checked who may. ``actor`` is the audit's actor."""
    if rec.request.status not in states.OPEN_FOR_APPLICATIONS:
        raise Conflict(_("Applications are recorded while the vacancy is advertised; it is %(status)s.",
                         status=_status_word(rec)))
    email = data["email"].strip().lower()
    if db.session.scalar(select(Application.id).join(Candidate, Candidate.id == Application.candidate_id)
                         .where(Application.recruitment_id == rec.id, Candidate.email == email)) is not None:
        raise ValidationFailed({"email": [_("This candidate has applied to this vacancy already.")]})
    candidate = Candidate(full_name=data["full_name"].strip(), email=email, phone=data.get("phone", "").strip(),
                          education=data["education"], years_experience=data["years_experience"],
                          languages=_languages(data.get("languages")), created_at=utcnow(),
                          gender=data.get("gender") or None, nationality=data.get("nationality") or None)
    seq = (db.session.scalar(select(func.max(Application.seq)).where(Application.recruitment_id == rec.id)) or 0) + 1
    result = screen_application(rec, candidate)
    app = Application(recruitment=rec, candidate=candidate, seq=seq, applied_at=utcnow(),
                      meets_requirements=result.meets_requirements, source=source)
    db.session.add_all([candidate, app])
    db.session.flush()
    audit.record(actor, "hr.application.record", app, after={
        "recruitment": rec.request.reference, "application_id": app.id, "candidate_id": candidate.id,
        "seq": seq, "meets_requirements": result.meets_requirements, "source": source})
    return app


def screening_of(app: Application) -> Screening:
    return screen_application(app.recruitment, app.candidate)


def applications_of(actor: User, rec: Recruitment) -> list[Application]:
    """The applications ``actor`` may read, in recorded order, with what their lists show
    (candidate, scores) loaded for all of them at once."""
    ensure_sees_candidates(actor, rec)
    readable = _readable(actor, rec)
    rows = db.session.scalars(select(Application).where(Application.recruitment_id == rec.id)
                              .options(selectinload(Application.candidate), selectinload(Application.scores),
                                       selectinload(Application.override_by))
                              .order_by(Application.seq)).all()
    return [a for a in rows if readable is None or a.id in readable]


def get_application(actor: User, rec: Recruitment, application_id: int) -> Application:
    ensure_sees_candidates(actor, rec)
    app = db.session.get(Application, application_id)
    readable = _readable(actor, rec)
    if app is None or app.recruitment_id != rec.id or (readable is not None and app.id not in readable):
        raise NotFound("No such application.")
    return app


def _readable(actor: User, rec: Recruitment) -> set[int] | None:
    """The applications of ``rec`` the actor may read, or None for all of them. A
    from-roster recruitment's agency reads only the candidates who agreed to be considered,
    and only once HR has presented them (as their roster, jof/hr/rosters.py); an answer
    taken back hides the application again."""
    from jof.hr import rosters

    if not rec.from_roster or rosters.sees_roster_people(actor):
        return None
    if rec.request.status not in rosters.PRESENTED:
        return set()
    return set(db.session.scalars(select(RosterConsent.application_id).where(
        RosterConsent.recruitment_id == rec.id, RosterConsent.agrees.is_(True),
        RosterConsent.application_id.is_not(None))))


def override_screening(actor: User, app: Application, screened_in: bool, comment: str) -> Application:
    """An officer puts a candidate in or out against the automatic screening, giving the
    reason; the override is audited (the comment stays with the application)."""
    rec = app.recruitment
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    if rec.request.status not in states.SCREENING_STATES:
        raise Conflict(_("The screening is settled once the short list is drawn; the vacancy is %(status)s.", status=_status_word(rec)))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed({"comment": [_("Say why the screening is overridden.")]})
    before = {"screened_in": app.screened_in, "override": app.override}
    app.override = None if screened_in == app.meets_requirements else screened_in
    app.override_comment = comment if app.override is not None else ""
    app.override_by_id = actor.id if app.override is not None else None
    db.session.flush()
    audit.record(actor, "hr.application.override", app, before=before, after={
        "application_id": app.id, "candidate_id": app.candidate_id, "screened_in": app.screened_in,
        "override": app.override})
    return app


# --- effects ------------------------------------------------------------------------------


def draw_short_list(sr, user, _payload) -> None:
    """``short_list``: every application screened in (automatically or by override) is
    on the short list."""
    rec = states.recruitment_of(sr)
    for app in rec.applications:
        app.short_listed = app.screened_in


def readvertise(sr, user, payload) -> None:
    """``readvertise``: the vacancy is open again until its new closing date; the previous
    round's short list and scores are cleared (audited), so the new round is screened,
    short-listed and assessed afresh, the earlier applicants with the new ones."""
    rec = states.recruitment_of(sr)
    before = {"closing_date": rec.closing_date,
              "short_listed": sorted(a.id for a in rec.applications if a.short_listed),
              "scores": sum(len(a.scores) for a in rec.applications)}
    rec.closing_date = payload["closing_date"]
    for app in rec.applications:
        app.short_listed = False
        app.scores.clear()
    db.session.flush()
    audit.record(user, "hr.recruitment.readvertise", rec, before=before, after={
        "recruitment": sr.reference, "closing_date": rec.closing_date, "short_listed": [], "scores": 0})
