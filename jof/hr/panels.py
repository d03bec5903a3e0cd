"""The assessment panel of a recruitment: who sits, who may not, and who scores.

* HR officers (or the manager) seat users on the panel: facility staff or staff of the
  requesting agency (others could not see the recruitment). A user a candidate of this
  recruitment named as **referee** cannot sit: seating them is refused, and a referee
  named later (a public or imported application) unseats them at once.
* A member **declares a conflict of interest** (or an officer records it for them): the
  seat ends, the scores they entered are withdrawn (to be entered again by someone
  without a conflict, so ``assess`` waits for them), and both are audited. The note
  saying why stays on the seat's row, never in the audit event: it may name a candidate.
* **Who scores**: the seated members, the HR officers and the manager
  (:func:`ensure_may_score`).

Audit events name the recruitment and the user by reference and id only.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.hr import states
from jof.hr.models import Application, PanelMember, Recruitment, Referee, Score
from jof.hr.recruitments import LINE, ensure_hr_officer, ensure_sees_candidates, is_panel_member

S = states.RecruitmentStatus
#: The panel is formed and changed until the assessment is closed.
PANEL_STATES = (S.APPROVED, S.ADVERTISED, S.LONG_LISTED, S.SHORT_LISTED)


def _status_word(rec: Recruitment) -> str:
    return rec.request.status.replace("_", " ")


def members(rec: Recruitment, *, seated_only: bool = False) -> list[PanelMember]:
    stmt = select(PanelMember).where(PanelMember.recruitment_id == rec.id).order_by(PanelMember.id)
    if seated_only:
        stmt = stmt.where(PanelMember.removed_at.is_(None))
    return list(db.session.scalars(stmt))


def panel_of(actor: User, rec: Recruitment) -> list[PanelMember]:
    ensure_sees_candidates(actor, rec)
    return members(rec)


def is_referee(rec: Recruitment, user: User) -> bool:
    return db.session.scalar(select(func.count(Referee.id)).join(Application, Application.id == Referee.application_id)
                             .where(Application.recruitment_id == rec.id,
                                    func.lower(Referee.email) == user.email.lower())) > 0


def add_member(actor: User, rec: Recruitment, email: str) -> PanelMember:
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    if rec.request.status not in PANEL_STATES:
        raise Conflict(_("The panel is formed until the assessment is closed; the recruitment is %(status)s.", status=_status_word(rec)))
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.active or not (user.is_facility_staff or user.agency_id == rec.request.agency_id):
        raise ValidationFailed({"email": [_("Name an active user of the facility or of the requesting agency.")]})
    if is_referee(rec, user):
        raise ValidationFailed({"email": [_("This person is a candidate's referee and cannot sit on the panel.")]})
    seat = db.session.scalar(select(PanelMember).where(PanelMember.recruitment_id == rec.id,
                                                       PanelMember.user_id == user.id))
    if seat is not None and seat.removed_at is None:
        raise ValidationFailed({"email": [_("This person sits on the panel already.")]})
    if seat is not None:
        raise ValidationFailed({"email": [_("This person left the panel with a conflict of interest and cannot sit again.")]})
    seat = PanelMember(recruitment_id=rec.id, user_id=user.id, added_by_id=actor.id, added_at=utcnow(),
                       conflict_note="")
    db.session.add(seat)
    db.session.flush()
    audit.record(actor, "hr.panel.add", rec, after={"recruitment": rec.request.reference, "user_id": user.id})
    return seat


def _unseat(actor, rec: Recruitment, seat: PanelMember, note: str, reason: str) -> None:
    seat.removed_at = utcnow()
    seat.conflict_note = note
    withdrawn = db.session.scalars(select(Score.id).join(Application, Application.id == Score.application_id)
                                   .where(Application.recruitment_id == rec.id,
                                          Score.entered_by_id == seat.user_id)).all()
    if withdrawn:
        db.session.execute(delete(Score).where(Score.id.in_(withdrawn)))
    db.session.flush()
    db.session.expire_all()
    audit.record(actor, "hr.panel.conflict", rec, after={
        "recruitment": rec.request.reference, "user_id": seat.user_id, "reason": reason,
        "scores_withdrawn": len(withdrawn)})


def declare_conflict(actor: User, rec: Recruitment, user_id: int, note: str) -> PanelMember:
    """The member (or an HR officer for them) declares a conflict of interest: the seat ends."""
    ensure_sees_candidates(actor, rec)
    authz.ensure_can_change(actor)
    if actor.id != user_id:
        ensure_hr_officer(actor)
    seat = db.session.scalar(select(PanelMember).where(PanelMember.recruitment_id == rec.id,
                                                       PanelMember.user_id == user_id))
    if seat is None:
        raise NotFound("No such panel member.")
    if seat.removed_at is not None:
        raise Conflict(_("This member has left the panel already."))
    if rec.request.status not in PANEL_STATES:
        raise Conflict(_("The panel is settled once the assessment is closed; the recruitment is %(status)s.", status=_status_word(rec)))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": [_("Say what the conflict of interest is.")]})
    _unseat(actor, rec, seat, note, "declared")
    return seat


def unseat_referees(actor, rec: Recruitment) -> int:
    """Unseat every member a candidate has named as referee (after applications with
    referees came in); how many were."""
    emails = set(db.session.scalars(select(func.lower(Referee.email)).join(
        Application, Application.id == Referee.application_id).where(Application.recruitment_id == rec.id)))
    n = 0
    for seat in members(rec, seated_only=True):
        user = db.session.get(User, seat.user_id)
        if user.email.lower() in emails:
            _unseat(actor, rec, seat, "A candidate named this member as referee.", "referee")
            n += 1
    return n


def ensure_may_score(actor: User, rec: Recruitment) -> None:
    """Scores are entered by the panel's seated members, the HR officers and the manager."""
    authz.ensure_can_change(actor)
    if authz.is_officer_for(actor, LINE) or actor.has_role(Role.MANAGER):
        return
    if is_panel_member(actor, rec) and not is_referee(rec, actor):
        return
    raise Forbidden("Only the panel's members, HR officers and the facility manager enter scores.")


def add_referee(actor: User, app: Application, name: str, email: str) -> Referee:
    """Record a referee a candidate named (HR officer); a panel member who is one is unseated."""
    rec = app.recruitment
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    email = email.strip().lower()
    if db.session.scalar(select(Referee.id).where(Referee.application_id == app.id,
                                                  func.lower(Referee.email) == email)) is not None:
        raise ValidationFailed({"email": [_("This referee is recorded for this application already.")]})
    ref = Referee(application_id=app.id, name=name.strip(), email=email)
    db.session.add(ref)
    db.session.flush()
    audit.record(actor, "hr.application.referee", app, after={"application_id": app.id, "referee_id": ref.id})
    unseat_referees(actor, rec)
    return ref
