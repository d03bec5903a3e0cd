"""Recruitment requests (``HRR-…``): filing one with its requirements and assessment
plan, finding it, and who may see its candidates.

Every function takes the acting user, never commits, and audits in the caller's
transaction. Status changes go through :func:`workflow.perform` (the rows are in
:mod:`jof.hr.states`).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from jof.core import audit, authz, workflow
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Forbidden, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.workflow import ServiceRequest
from jof.hr import states
from jof.hr.models import AssessmentMethod, PanelMember, Recruitment, RosterEntry
from jof.hr.scoring import weights_error

LINE = states.SERVICE_LINE


def _languages(names) -> list[str]:
    seen: dict[str, str] = {}
    for n in names or []:
        n = n.strip()
        if n and n.casefold() not in seen:
            seen[n.casefold()] = n
    return list(seen.values())


def _hiring_manager(actor: User, email: str | None, agency_id: int) -> User:
    if not email:
        return actor
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.agency_id != agency_id or not user.active \
            or not user.has_role(Role.REQUESTER, Role.AGENCY_HEAD):
        raise ValidationFailed({"hiring_manager": ["Name a requester or the head of the requesting agency."]})
    return user


def file_recruitment(actor: User, data: dict) -> Recruitment:
    """An agency asks the facility to recruit: a draft ``HRR-…`` with the post, the minimum
    requirements and the assessment plan (weights summing to 100)."""
    methods = data["methods"]
    errors: dict[str, list[str]] = {}
    problem = weights_error([m["weight"] for m in methods])
    if problem:
        errors["methods"] = [problem]
    names = [m["name"].strip() for m in methods]
    if len({n.casefold() for n in names}) != len(names):
        errors.setdefault("methods", []).append("Each method of the plan has its own name.")
    if data.get("from_roster") and not _roster_in_force(data["job_family"], data["level"]):
        errors["from_roster"] = [f"No roster of {data['job_family'].strip()} {data['level']} has candidates "
                                 "today: file an advertised recruitment."]
    if errors:
        raise ValidationFailed(errors)
    sr = workflow.create_request(actor, states.RECRUITMENT, title=data.get("title") or data["post_title"],
                                 description=data.get("description", ""),
                                 amount_usd=data["estimated_cost_usd"])
    rec = Recruitment(
        request=sr, post_title=data["post_title"].strip(), job_family=data["job_family"].strip(),
        level=data["level"], contract_type=data["contract_type"], duty_station=data["duty_station"].strip(),
        closing_date=data["closing_date"], min_education=data["min_education"],
        min_years_experience=data["min_years_experience"],
        required_languages=_languages(data.get("required_languages")),
        desirable_languages=_languages(data.get("desirable_languages")),
        pass_mark=Decimal(data["pass_mark"]),
        hiring_manager=_hiring_manager(actor, data.get("hiring_manager"), sr.agency_id),
        from_roster=bool(data.get("from_roster")),
    )
    rec.methods = [AssessmentMethod(seq=i, name=n, weight=m["weight"])
                   for i, (n, m) in enumerate(zip(names, methods, strict=True), start=1)]
    db.session.add(rec)
    db.session.flush()
    audit.record(actor, "hr.recruitment.file", rec, after={
        **audit.snapshot(rec), "methods": [{"name": m.name, "weight": m.weight} for m in rec.methods]})
    return rec


def _roster_in_force(job_family: str, level: str) -> bool:
    """Whether the roster of the family (any case) and level has a candidate today."""
    today = local_today()
    return db.session.scalar(select(RosterEntry.id).where(
        func.lower(RosterEntry.job_family) == job_family.strip().lower(), RosterEntry.level == level,
        RosterEntry.valid_from <= today, RosterEntry.valid_until >= today).limit(1)) is not None


#: What a list of recruitments reads (the page and the API's representation), for a whole
#: page in a fixed number of statements; the request comes from the query's own join, which
#: the list also sorts and filters on.
LIST_LOADS = (contains_eager(Recruitment.request).options(joinedload(ServiceRequest.agency),
                                                          joinedload(ServiceRequest.requester).lazyload(User.role_rows)),
              joinedload(Recruitment.hiring_manager).lazyload(User.role_rows),
              selectinload(Recruitment.methods))


def recruitments_query(user: User, status: str | None = None):
    stmt = select(Recruitment).join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    return stmt.order_by(ServiceRequest.id.desc()).options(*LIST_LOADS)


def get_recruitment(user: User, reference: str) -> Recruitment:
    sr = workflow.get_by_reference(user, reference)
    rec = states.recruitment_of(sr)
    if rec is None:
        raise NotFound("No such recruitment.")
    return rec


def sees_candidates(user: User, rec: Recruitment) -> bool:
    """Candidates' personal data are seen by the HR officers and the facility manager (and
    the auditor, who reads everything), and, in the requesting agency, by its head and
    the recruitment's hiring manager, and by the members seated on its assessment panel:
    nobody else, not even the agency's other staff."""
    if authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER, Role.AUDITOR):
        return True
    sr = rec.request
    if user.agency_id == sr.agency_id and (authz.is_head_of(user, sr.agency) or user.id == rec.hiring_manager_id):
        return True
    return is_panel_member(user, rec)


def is_panel_member(user: User, rec: Recruitment) -> bool:
    """Seated on the recruitment's assessment panel (not removed by a conflict): sees the
    candidates it scores (jof/hr/panels.py)."""
    return db.session.scalar(select(PanelMember.id).where(
        PanelMember.recruitment_id == rec.id, PanelMember.user_id == user.id,
        PanelMember.removed_at.is_(None))) is not None


def ensure_sees_candidates(user: User, rec: Recruitment) -> None:
    authz.ensure_visible(user, rec.request.agency_id, "recruitment")
    if not sees_candidates(user, rec):
        raise NotFound("No such candidate.")


def ensure_hr_officer(user: User) -> None:
    """Applications, screening and scores are the facility's HR work."""
    authz.ensure_can_change(user)
    if not (authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER)):
        raise Forbidden("Only an HR officer (or the facility manager) may do this.")
