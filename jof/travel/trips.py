"""Trips (DESIGN §4): filing a travel request with its itinerary and DSA estimate,
reading trips and the officer's queue, and what submitting and approving write.

Services take the acting user, never commit, and audit in the same transaction. Status
changes go through :func:`jof.core.workflow.perform`; each step's effect (here, in
``ticketing`` and in ``claims``) receives the step's payload explicitly and writes inside
the engine's savepoint, so a refused move leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from jof.core import audit, authz, workflow
from jof.core.db import db
from jof.core.errors import Forbidden, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status
from jof.travel import dsa
from jof.travel.itinerary import (
    calculate,
    leg_rows,
    legs_from,
    legs_of,
    provisions_from,
    provisions_of,
    stays_of,
)
from jof.travel.models import TRAVEL_CLASSES, Stage, TravelProvision, TravelRequest, fold
from jof.travel.queries import overlap_message, overlapping_trip, travel_of
from jof.travel.rates import policy
from jof.travel.states import SERVICE_LINE, TYPE


def _traveller(user: User, data: dict) -> tuple[User | None, str]:
    email = (data.get("traveller_email") or "").strip().lower()
    name = " ".join((data.get("traveller_name") or "").split())
    if email:
        person = db.session.scalar(select(User).where(User.email == email))
        if person is None or person.agency_id != user.agency_id:
            raise ValidationFailed({"traveller_email": ["No staff member of your agency has this e-mail."]})
        return person, name or person.name
    if name:
        return None, name
    return user, user.name


def create_travel(user: User, data: dict) -> TravelRequest:
    """File a travel request (a draft, or submitted at once with ``submit``).

    Everything is checked before anything is written: the itinerary, the provisions,
    the rates of every place, the traveller's other approved trips."""
    authz.ensure_can_change(user)
    legs = legs_from(data.get("legs"))
    provisions = provisions_from(data.get("provisions"))
    if legs[0].depart_at <= utcnow():
        raise ValidationFailed({"legs.0.depart_at": ["The trip must start in the future."]})
    if data.get("travel_class", "economy") not in TRAVEL_CLASSES:
        raise ValidationFailed({"travel_class": [f"One of: {', '.join(TRAVEL_CLASSES)}."]})
    needs_dsa = data.get("needs_dsa", True)
    calc = calculate(legs, provisions, needs_dsa=needs_dsa)
    nights = {p.first_night + timedelta(days=k) for p in stays_of(legs) for k in range(p.nights)}
    stray = sorted(d for d in provisions if d not in nights)
    if stray:
        raise ValidationFailed({"provisions": [f"{stray[0]} is not a night of the trip away from home."]})
    person, name = _traveller(user, data)
    probe = TravelRequest(traveller_id=person.id if person else None, traveller_name=name,
                          traveller_key=fold(name), starts_at=legs[0].depart_at, ends_at=legs[-1].arrive_at)
    other = overlapping_trip(probe, agency_id=user.agency_id)
    if other is not None:
        raise ValidationFailed({"legs": [overlap_message(other)]}, "The traveller has an overlapping trip.")
    sr = workflow.create_request(user, TYPE, title=data.get("title") or "", description=data.get("purpose") or "",
                                 amount_usd=calc.total)
    tr = TravelRequest(request=sr, traveller_id=probe.traveller_id, traveller_name=name, traveller_key=fold(name),
                       purpose=data.get("purpose") or "", travel_class=data.get("travel_class", "economy"),
                       needs_ticket=data.get("needs_ticket", True), needs_visa=data.get("needs_visa", False),
                       needs_dsa=needs_dsa, advance_requested=data.get("advance_requested", True) and needs_dsa,
                       stage=Stage.NONE, starts_at=legs[0].depart_at, ends_at=legs[-1].arrive_at,
                       estimate_lines=[ln.as_dict() for ln in calc.lines], estimate_total=calc.total)
    tr.legs = leg_rows(legs, "planned")
    tr.provisions = [TravelProvision(night=d, accommodation=p.accommodation, breakfast="breakfast" in p.meals,
                                     lunch="lunch" in p.meals, dinner="dinner" in p.meals)
                     for d, p in sorted(provisions.items())]
    db.session.add(tr)
    audit.record(user, "travel.create", tr, after=_travel_snapshot(tr))
    if data.get("submit"):
        workflow.perform(user, sr, "submit")
    return tr



def _travel_snapshot(tr: TravelRequest) -> dict:
    snap = audit.snapshot(tr)
    snap["legs"] = [audit.snapshot(leg) for leg in tr.legs]
    return snap



def _listed(stmt):
    """What a list of trips shows, loaded in a fixed number of statements (not per row)."""
    return stmt.options(
        contains_eager(TravelRequest.request).selectinload(ServiceRequest.agency),
        contains_eager(TravelRequest.request).selectinload(ServiceRequest.requester),
        selectinload(TravelRequest.traveller), selectinload(TravelRequest.legs),
        selectinload(TravelRequest.provisions), selectinload(TravelRequest.quotes))


def travel_query(user: User, status: str | None = None):
    stmt = _listed(select(TravelRequest).join(ServiceRequest, ServiceRequest.id == TravelRequest.request_id))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    return stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())


def ticketing_queue_query(user: User):
    """The travel officer's work: approved or started trips still to ticket, then the rest
    of the trips in progress, the earliest departure first."""
    if not (authz.is_officer_for(user, SERVICE_LINE) or user.has_role(Role.MANAGER, Role.AUDITOR, Role.RESIDENT_COORDINATOR)):
        raise Forbidden("The ticketing queue is for the travel officer and the manager.")
    return (_listed(select(TravelRequest).join(ServiceRequest, ServiceRequest.id == TravelRequest.request_id))
            .where(ServiceRequest.status.in_((Status.APPROVED, Status.IN_PROGRESS)))
            .order_by(TravelRequest.starts_at, ServiceRequest.id))


def get_travel(user: User, reference: str) -> TravelRequest:
    sr = workflow.get_by_reference(user, reference)
    tr = db.session.scalar(select(TravelRequest).where(TravelRequest.request_id == sr.id))
    if tr is None:
        raise NotFound("No such travel request.")
    return tr



# --- the effects of the spine's steps (see ``jof.travel.install``) -----------------------


def record_step(user: User, tr: TravelRequest, action: str) -> None:
    """The travel side of a step in the audit trail (besides the engine's ``request.*``)."""
    audit.record(user, f"travel.{action}", tr, after={
        "stage": tr.stage, "estimate_total": str(tr.estimate_total),
        "claim_total": None if tr.claim_total is None else str(tr.claim_total)})


def audit_only(action: str) -> Callable[[ServiceRequest, User, object], None]:
    """The effect of a step that writes nothing of travel's own (certify, reject, …)."""

    def effect(sr: ServiceRequest, user: User, _payload) -> None:
        tr = travel_of(sr)
        if tr is not None:
            record_step(user, tr, action)

    return effect


def on_submit(sr: ServiceRequest, user: User, _payload) -> None:
    """Submitting computes the estimate again with the rates then in force."""
    tr = travel_of(sr)
    calc = calculate(legs_of(tr.planned_legs), provisions_of(tr), needs_dsa=tr.needs_dsa)
    tr.estimate_lines = [ln.as_dict() for ln in calc.lines]
    tr.estimate_total = calc.total
    sr.amount_usd = calc.total
    record_step(user, tr, "submit")


def on_approve(sr: ServiceRequest, user: User, _payload) -> None:
    """Approval fixes the advance (80% of the estimate by default) when one was requested."""
    tr = travel_of(sr)
    tr.advance_usd = dsa.advance(tr.estimate_total, policy()) if tr.advance_requested and tr.needs_dsa else None
    record_step(user, tr, "approve")
