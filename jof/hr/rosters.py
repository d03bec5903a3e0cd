"""Shared rosters (docs/hr.md, "Shared rosters"): one assessment serves several agencies.

A candidate who reaches the pass mark of an assessment enters the roster of the
recruitment's job family and level when the recruitment is recommended, for
:data:`~jof.hr.models.ROSTER_MONTHS` months (an effective-dated row: first and last
day). Any agency may then file a recruitment "from roster": once approved it is not
advertised nor assessed; an HR officer records which roster candidates of that family
and level agree to be considered (each who agrees becomes an application of the new
recruitment, short-listed), presents them (``present_roster``: approved →
recommended) and the agency selects one as after an assessment.

What the rosters save is reported by :func:`roster_use`: the hires made from rosters
and, for each, the days from approval to selection against the median of the
advertised recruitments' (:func:`days_saved`, a pure calculator that explains itself).

Audit events name candidates and entries by id only, as everywhere in HR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from jof.core import audit, authz, templating
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, TimelineEntry
from jof.hr import assessment, states
from jof.hr.models import (
    ROSTER_MONTHS,
    Application,
    Candidate,
    Recruitment,
    RosterConsent,
    RosterEntry,
)
from jof.hr.recruitments import ensure_hr_officer, ensure_sees_candidates
from jof.hr.scoring import ranking_of
from jof.hr.screening import screen_application

S = states.RecruitmentStatus
#: A recruitment whose candidate was selected and not cancelled since: a hire.
HIRED = (S.SELECTED, S.OFFER, S.COMPLETED)
#: A from-roster recruitment whose agreeing candidates HR has presented to the agency.
PRESENTED = (S.RECOMMENDED, *HIRED)
DAY = Decimal(86400)


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def valid_until(valid_from: date) -> date:
    """The last day on the roster: the day before the same day 24 months later."""
    return months_later(valid_from, ROSTER_MONTHS) - timedelta(days=1)


def _valid_on(on: date):
    return (RosterEntry.valid_from <= on) & (RosterEntry.valid_until >= on)


def roster_entries(on: date | None = None, job_family: str | None = None, level: str | None = None):
    """The roster rows in force ``on`` (today), optionally of one job family (any case)
    and level, best total first."""
    on = on or local_today()
    # What every list shows of a row (the person, the recruitment's reference) in a fixed
    # number of statements.
    stmt = select(RosterEntry).where(_valid_on(on)).options(
        joinedload(RosterEntry.candidate), joinedload(RosterEntry.recruitment).joinedload(Recruitment.request))
    if job_family:
        stmt = stmt.where(func.lower(RosterEntry.job_family) == job_family.strip().lower())
    if level:
        stmt = stmt.where(RosterEntry.level == level)
    return stmt.order_by(RosterEntry.job_family, RosterEntry.level, RosterEntry.total.desc(), RosterEntry.id)


def roster_groups(on: date | None = None) -> list[dict]:
    """Each roster in force: job family, level, how many candidates, until when (no
    personal data: anyone signed in reads it)."""
    on = on or local_today()
    rows = db.session.execute(
        select(RosterEntry.job_family, RosterEntry.level, func.count(func.distinct(RosterEntry.candidate_id)),
               func.max(RosterEntry.valid_until))
        .where(_valid_on(on)).group_by(RosterEntry.job_family, RosterEntry.level)
        .order_by(RosterEntry.job_family, RosterEntry.level))
    return [{"job_family": f, "level": lv, "candidates": n, "until": until} for f, lv, n, until in rows]


# --- entering the roster -----------------------------------------------------------------


def enter_roster(sr: ServiceRequest, user: User, _payload=None) -> None:
    """``recommend`` (effect): every candidate at or above the pass mark enters the
    roster of the recruitment's job family and level from today."""
    rec = states.recruitment_of(sr)
    today = local_today()
    for row in ranking_of(rec).rows:
        if not row.passed:
            continue
        entry = RosterEntry(candidate_id=row.candidate_id, recruitment_id=rec.id, job_family=rec.job_family,
                            level=rec.level, total=row.total, valid_from=today, valid_until=valid_until(today),
                            created_at=utcnow())
        db.session.add(entry)
        db.session.flush()
        audit.record(user, "hr.roster.enter", entry, after={
            "recruitment": sr.reference, "candidate_id": row.candidate_id, "job_family": rec.job_family,
            "level": rec.level, "total": row.total, "valid_from": today, "valid_until": entry.valid_until})


# --- hiring from the roster --------------------------------------------------------------


@dataclass
class RosterCandidate:
    entry: RosterEntry
    consent: RosterConsent | None


def sees_roster_people(user: User) -> bool:
    """Who is on a roster, and who has not yet agreed to be considered, is the facility's
    HR work: its officers, the manager and the auditor read it."""
    return authz.is_officer_for(user, states.SERVICE_LINE) or user.has_role(Role.MANAGER, Role.AUDITOR)


def candidates_for(actor: User, rec: Recruitment) -> list[RosterCandidate]:
    """The roster candidates a from-roster recruitment may consider (one entry per
    candidate: the best in force), with their answer so far.

    The requesting agency's selection people (its head, the hiring manager) see only the
    candidates who agreed to be considered, and only once HR has presented them: until
    then the roster is not theirs to read (404, as the rosters' entries)."""
    ensure_sees_candidates(actor, rec)
    if not rec.from_roster:
        return []
    hr_staff = sees_roster_people(actor)
    if not hr_staff and rec.request.status not in PRESENTED:
        raise NotFound("No such roster.")
    best: dict[int, RosterEntry] = {}
    for entry in db.session.scalars(roster_entries(job_family=rec.job_family, level=rec.level)):
        best.setdefault(entry.candidate_id, entry)
    consents = {c.roster_entry_id: c for c in db.session.scalars(
        select(RosterConsent).where(RosterConsent.recruitment_id == rec.id))}
    # An answer given on an entry stays shown even if a better entry appeared since.
    by_candidate = {c.roster_entry.candidate_id: c for c in consents.values()}
    out = [RosterCandidate(by_candidate[cid].roster_entry if cid in by_candidate else e, by_candidate.get(cid))
           for cid, e in best.items()]
    if not hr_staff:
        out = [c for c in out if c.consent is not None and c.consent.agrees]
    return out


def record_consent(actor: User, rec: Recruitment, entry_id: int, agrees: bool) -> RosterCandidate:
    """An HR officer records whether a roster candidate agrees to be considered for this
    recruitment. Agreeing makes them an application of it (short-listed, screened
    against its requirements for the record); declining takes them off again."""
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    if not rec.from_roster:
        raise Conflict(_("This recruitment was not filed from the roster."))
    if rec.request.status != S.APPROVED:
        raise Conflict(_("Answers are recorded once the request is approved and until the candidates are "
                         "presented; it is %(status)s.",
                         status=templating.status_label(rec.request.status).lower()))
    found = next((c for c in candidates_for(actor, rec) if c.entry.id == entry_id), None)
    if found is None:
        raise NotFound("No such candidate on the roster of this job family and level.")
    consent = found.consent
    before = None if consent is None else {"agrees": consent.agrees}
    if consent is None:
        consent = RosterConsent(recruitment_id=rec.id, roster_entry_id=entry_id, agrees=agrees,
                                recorded_by_id=actor.id, recorded_at=utcnow())
        db.session.add(consent)
    consent.agrees, consent.recorded_by_id, consent.recorded_at = agrees, actor.id, utcnow()
    if agrees and consent.application_id is None:
        candidate = db.session.get(Candidate, found.entry.candidate_id)
        seq = (db.session.scalar(select(func.max(Application.seq))
                                 .where(Application.recruitment_id == rec.id)) or 0) + 1
        app = Application(recruitment=rec, candidate=candidate, seq=seq, applied_at=utcnow(),
                          meets_requirements=screen_application(rec, candidate).meets_requirements,
                          short_listed=True)
        db.session.add(app)
        db.session.flush()
        consent.application_id = app.id
    elif consent.application_id is not None:
        db.session.get(Application, consent.application_id).short_listed = agrees
    db.session.flush()
    audit.record(actor, "hr.roster.consent", consent, before=before, after={
        "recruitment": rec.request.reference, "roster_entry_id": entry_id,
        "candidate_id": found.entry.candidate_id, "agrees": agrees, "application_id": consent.application_id})
    return RosterCandidate(found.entry, consent)


def select_candidate(sr: ServiceRequest, user: User, payload) -> None:
    """``select`` (effect): after an assessment, a candidate who reached the pass mark
    (:func:`jof.hr.assessment.select_candidate`); from the roster, one who agreed."""
    rec = states.recruitment_of(sr)
    if not rec.from_roster:
        assessment.select_candidate(sr, user, payload)
        return
    app = db.session.scalar(
        select(Application).join(RosterConsent, RosterConsent.application_id == Application.id)
        .where(Application.id == payload["application_id"], Application.recruitment_id == rec.id,
               RosterConsent.agrees.is_(True)))
    if app is None:
        raise ValidationFailed({"payload.application_id": [
            _("Select a roster candidate who agreed to be considered.")]})
    app.selected = True
    audit.record(user, "hr.application.select", app, after={
        "application_id": app.id, "candidate_id": app.candidate_id, "from_roster": True})


# --- what the rosters save ---------------------------------------------------------------


@dataclass(frozen=True)
class RosterUse:
    """Hires from rosters and the time they saved, with the figures it comes from."""

    roster_hires: int
    advertised_hires: int
    #: Days from approval to selection (to a tenth of a day), per kind of hire.
    median_days_advertised: Decimal | None
    median_days_roster: Decimal | None
    #: Σ over roster hires of (median of the advertised − the hire's own days); None
    #: while no advertised hire gives a median to compare with.
    days_saved: Decimal | None
    explanation: str


def days_saved(advertised: list[Decimal], roster: list[Decimal]) -> RosterUse:
    """Pure: what the roster hires saved against the median advertised hire."""
    med_adv = Decimal(median(advertised)).quantize(Decimal("0.1")) if advertised else None
    med_ros = Decimal(median(roster)).quantize(Decimal("0.1")) if roster else None
    saved = None if med_adv is None else sum((med_adv - d for d in roster), Decimal("0.0"))
    if med_adv is None:
        why = "No advertised recruitment has reached selection yet: there is no median to compare with."
    else:
        why = (f"{len(roster)} roster hire(s), each compared with the median advertised recruitment "
               f"({med_adv} days from approval to selection, over {len(advertised)}).")
    return RosterUse(len(roster), len(advertised), med_adv, med_ros, saved, why)


def roster_use() -> RosterUse:
    """Every hire so far (selected, offered or onboarded), from roster or advertised."""
    selected_at = (select(TimelineEntry.request_id, func.max(TimelineEntry.at).label("at"))
                   .where(TimelineEntry.action == "select").group_by(TimelineEntry.request_id).subquery())
    rows = db.session.execute(
        select(Recruitment.from_roster, ServiceRequest.approved_at, selected_at.c.at)
        .join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
        .join(selected_at, selected_at.c.request_id == ServiceRequest.id)
        .where(ServiceRequest.status.in_(HIRED), ServiceRequest.approved_at.is_not(None)))
    advertised, roster = [], []
    for from_roster, approved_at, at in rows:
        days = (Decimal((at - approved_at).total_seconds()) / DAY).quantize(Decimal("0.1"))
        (roster if from_roster else advertised).append(days)
    return days_saved(advertised, roster)
