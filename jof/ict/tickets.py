"""ICT service-desk tickets (DESIGN §5): filing, assignment, priority, comments, the
officers' queue and what a page shows of the SLA clocks.

Every function takes the acting user explicitly, never commits, and writes its audit
event in the caller's transaction. Status changes go through :func:`workflow.perform`;
what a move does to the ticket (its clocks, its assignee) is one of the effects at the
end of this module, which ``jof.ict.install`` names in the request type
(:data:`EFFECTS`); the assignment travels as the ``assign`` action's payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from jof.core import audit, authz, templating, workflow
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.notifications import notify
from jof.core.people import Agency, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from jof.ict import sla, states
from jof.ict.models import TICKET_CATEGORIES, TICKET_KINDS, IctService, IctTicket, TicketComment
from jof.ict.states import ENDED_TICKET_STATES, OPEN_TICKET_STATES, TicketStatus, note_on_timeline

LINE = states.SERVICE_LINE

def _level(name: str, field: str) -> int:
    try:
        return sla.LEVELS[name]
    except KeyError:
        raise ValidationFailed({field: [f"Use one of: {', '.join(sla.LEVELS)}."]}) from None


def file_ticket(actor: User, data: dict) -> IctTicket:
    """Open a ticket for the requester's agency; its SLA clocks start now."""
    urgency, impact = _level(data["urgency"], "urgency"), _level(data["impact"], "impact")
    errors = {}
    if data.get("kind", "incident") not in TICKET_KINDS:
        errors["kind"] = [f"Use one of: {', '.join(TICKET_KINDS)}."]
    if data.get("category", "other") not in TICKET_CATEGORIES:
        errors["category"] = [f"Use one of: {', '.join(TICKET_CATEGORIES)}."]
    service = None
    if data.get("service"):
        service = db.session.scalar(select(IctService).where(IctService.code == data["service"]))
        if service is None:
            errors["service"] = ["No such service in the catalogue."]
    if errors:
        raise ValidationFailed(errors)
    agency = None
    if data.get("agency"):
        agency = db.session.scalar(select(Agency).where(Agency.code == data["agency"].strip().upper()))
        if agency is None:
            raise ValidationFailed({"agency": ["No such agency."]})
    sr = workflow.create_request(actor, states.TICKET, title=data.get("title", ""),
                                 description=data.get("description", ""), agency=agency)
    ticket = IctTicket(request=sr, kind=data.get("kind", "incident"), category=data.get("category", "other"),
                       service=service, urgency=urgency, impact=impact,
                       priority=sla.priority_of(urgency, impact), paused_seconds=0)
    db.session.add(ticket)
    audit.record(actor, "ict.ticket.file", ticket, after=audit.snapshot(ticket))
    workflow.perform(actor, sr, "submit")
    return ticket


def comments_of(ticket: IctTicket) -> list[TicketComment]:
    """A ticket's comments, oldest first, with their authors loaded at once."""
    return list(db.session.scalars(select(TicketComment).where(TicketComment.ticket_id == ticket.id)
                                   .options(selectinload(TicketComment.author)).order_by(TicketComment.id)))


def get_ticket(user: User, reference: str) -> IctTicket:
    sr = workflow.get_by_reference(user, reference)
    ticket = states.ticket_of(sr)
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ict_officers() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.OFFICER, UserRole.service_line == LINE, User.active.is_(True))
        .order_by(User.name)).unique())


def assign(actor: User, ticket: IctTicket, officer_email: str, comment: str = "",
           version: int | None = None) -> IctTicket:
    """Hand the ticket to an ICT officer: the ``assign`` move, the officer as its payload."""
    workflow.perform(actor, ticket.request, "assign", comment, version, payload={"assignee": officer_email})
    return ticket


def reprioritise(actor: User, ticket: IctTicket, urgency: str, impact: str,
                 version: int | None = None) -> IctTicket:
    """A new urgency or impact; the due times are recomputed for the new priority."""
    sr = ticket.request
    authz.ensure_can_change(actor)
    if not (authz.is_officer_for(actor, LINE) or actor.has_role(Role.MANAGER)):
        raise Forbidden("Only an ICT officer or the manager may change a ticket's priority.")
    if version is not None and version != sr.version:
        raise Conflict(f"The ticket was changed by someone else (you had version {version}, it is "
                       f"now version {sr.version}). Reload it and try again.", current_version=sr.version)
    if sr.status not in OPEN_TICKET_STATES:
        raise Conflict(_("The ticket is %(status)s; its priority no longer changes.",
                         status=templating.status_label(sr.status).lower()))
    u, i = _level(urgency, "urgency"), _level(impact, "impact")
    before = {"urgency": ticket.urgency, "impact": ticket.impact, "priority": ticket.priority,
              "resolve_due_at": ticket.resolve_due_at}
    ticket.urgency, ticket.impact, ticket.priority = u, i, sla.priority_of(u, i)
    sla.Clock().recompute(ticket)
    if before["priority"] != ticket.priority:
        note_on_timeline(actor, sr, "reprioritise", f"{before['priority']} → {ticket.priority}")
    db.session.flush()
    audit.record(actor, "ict.ticket.reprioritise", ticket, before=before,
                 after={"urgency": u, "impact": i, "priority": ticket.priority,
                        "resolve_due_at": ticket.resolve_due_at})
    return ticket


def add_comment(actor: User, ticket: IctTicket, body: str) -> TicketComment:
    """A comment from the requester's agency or the ICT desk; a requester's reply to a
    ticket waiting on them restarts its clock."""
    sr = ticket.request
    authz.ensure_visible(actor, sr.agency_id, "ticket")
    authz.ensure_can_change(actor)
    agency_side = actor.agency_id == sr.agency_id
    if not (agency_side or authz.is_officer_for(actor, LINE) or actor.has_role(Role.MANAGER)):
        raise Forbidden("Only the agency, the ICT officers and the manager comment on a ticket.")
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": ["Write a comment."]})
    if len(body) > 5000:
        raise ValidationFailed({"body": ["At most 5000 characters."]})
    if sr.status in ENDED_TICKET_STATES:
        raise Conflict(f"The ticket is {sr.status}; open a new one.")
    comment = TicketComment(ticket=ticket, author_id=actor.id, body=body, at=utcnow())
    db.session.add(comment)
    audit.record(actor, "ict.ticket.comment", comment, after={"ticket": sr.reference, "body": body})
    link = f"/ict/tickets/{sr.reference}"
    if agency_side:
        if sr.status == TicketStatus.WAITING and "respond" in workflow.allowed_actions(actor, sr):
            workflow.perform(actor, sr, "respond", body)
        if ticket.assignee is not None:
            notify(ticket.assignee, f"{sr.reference}: new comment from {actor.name}.", link)
    elif sr.requester_id != actor.id:
        notify(sr.requester, f"{sr.reference} “{sr.title}”: new comment from {actor.name}.", link)
    return comment


def tickets_query(user: User, *, status: str | None = None, priority: str | None = None,
                  assigned_to_me: bool = False, open_only: bool = False, breached: bool | None = None,
                  sort: str = "time_left"):
    """Tickets the user may see. ``time_left`` puts the clock closest to (or furthest past)
    its resolve due time first; tickets whose clock is stopped come after the running ones."""
    spine = contains_eager(IctTicket.request)
    stmt = (select(IctTicket).join(ServiceRequest, ServiceRequest.id == IctTicket.request_id)
            .options(spine.selectinload(ServiceRequest.agency), spine.selectinload(ServiceRequest.requester),
                     selectinload(IctTicket.service), selectinload(IctTicket.assignee)))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    if open_only:
        stmt = stmt.where(ServiceRequest.status.in_(OPEN_TICKET_STATES))
    if priority:
        stmt = stmt.where(IctTicket.priority == priority)
    if assigned_to_me:
        stmt = stmt.where(IctTicket.assignee_id == user.id)
    if breached is not None:
        flag = IctTicket.resolve_breached | IctTicket.own_breached
        running = (ServiceRequest.status.in_(OPEN_TICKET_STATES)
                   & ServiceRequest.sla_due_at.is_not(None) & (ServiceRequest.sla_due_at < utcnow()))
        own_late = (IctTicket.owned_at.is_(None) & ServiceRequest.status.in_(OPEN_TICKET_STATES)
                    & (IctTicket.own_due_at < utcnow()))
        cond = flag | running | own_late
        stmt = stmt.where(cond if breached else ~cond)
    if sort == "time_left":
        return stmt.order_by(ServiceRequest.sla_due_at.is_(None), ServiceRequest.sla_due_at,
                             IctTicket.resolve_due_at, IctTicket.id)
    return stmt.order_by(ServiceRequest.created_at.desc(), IctTicket.id.desc())


@dataclass
class TicketClock:
    """What a page or the API shows of a ticket's clocks at one moment."""

    own_due_at: object
    resolve_due_at: object
    own_left: timedelta | None
    resolve_left: timedelta | None
    paused: bool
    own_breached: bool
    resolve_breached: bool


def clock_of(ticket: IctTicket, clock: sla.Clock | None = None, now=None) -> TicketClock:
    clock = clock or sla.Clock()
    now = now or utcnow()
    open_ = ticket.request.status in OPEN_TICKET_STATES
    resolve_left = clock.time_left(ticket, now) if open_ else None
    own_left = clock.own_time_left(ticket, now) if open_ else None
    own_breached = ticket.own_breached or (own_left is not None and own_left < timedelta(0))
    resolve_breached = ticket.resolve_breached or (resolve_left is not None and resolve_left < timedelta(0))
    return TicketClock(ticket.own_due_at, ticket.resolve_due_at, own_left, resolve_left,
                       ticket.paused_since is not None and open_, own_breached, resolve_breached)


# --- what the pages offer ------------------------------------------------------------------


def is_desk(user: User) -> bool:
    """The ICT officers, the manager and the auditor work from the queue."""
    return authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER, Role.AUDITOR, Role.RESIDENT_COORDINATOR)


def queue_query(user: User, *, mine: bool = False):
    """The officers' queue: open tickets, least working time left first."""
    if not is_desk(user):
        # Lazy: the 403 page shows it in the reader's language.
        raise Forbidden(_l("The queue is for the ICT officers, the manager and the auditor."))
    return tickets_query(user, open_only=True, assigned_to_me=mine, sort="time_left")


def officers_for(user: User) -> list[User]:
    """The officers a desk member may assign a ticket to (nobody, for the agency side)."""
    return ict_officers() if is_desk(user) else []


def may_reprioritise(user: User, ticket: IctTicket) -> bool:
    return ((authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER))
            and not authz.is_read_only(user) and ticket.request.status in OPEN_TICKET_STATES)


def may_comment(user: User, ticket: IctTicket) -> bool:
    return not authz.is_read_only(user) and ticket.request.status not in ENDED_TICKET_STATES


# --- effects of the moves (named in the request type by jof.ict.install) ------------------


def _owned(ticket: IctTicket, officer: User, now) -> None:
    ticket.assignee = officer
    ticket.assignee_id = officer.id
    if ticket.owned_at is None:
        ticket.owned_at = now
        ticket.own_breached = ticket.own_due_at is not None and now > ticket.own_due_at


def open_clocks(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """Filing starts both SLA clocks."""
    ticket = states.ticket_of(sr)
    if ticket is not None:
        sla.Clock().open(ticket, sr.status_changed_at)


def take(sr: ServiceRequest, user: User, _payload=None) -> None:
    """The officer who takes the ticket owns it (the own clock stops)."""
    ticket = states.ticket_of(sr)
    if ticket is not None:
        _owned(ticket, user, sr.status_changed_at)


def assign_to(sr: ServiceRequest, user: User, payload: dict) -> None:
    """The officer named in the payload owns the ticket and is told so."""
    ticket = states.ticket_of(sr)
    if ticket is None:
        return
    email = (payload.get("assignee") or "").strip().lower()
    officer = db.session.scalar(select(User).where(User.email == email))
    if officer is None or not officer.active or not authz.is_officer_for(officer, LINE):
        raise ValidationFailed({"assignee": ["Name an active ICT officer."]})
    _owned(ticket, officer, sr.status_changed_at)
    if officer.id != user.id:
        notify(officer, f"{sr.reference} “{sr.title}” was assigned to you ({ticket.priority}).",
               f"/ict/tickets/{sr.reference}")


def pause_clock(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """Waiting on the requester stops the resolve clock."""
    ticket = states.ticket_of(sr)
    if ticket is not None:
        sla.Clock().pause(ticket, sr.status_changed_at)


def resume_clock(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """The requester's reply restarts the resolve clock."""
    ticket = states.ticket_of(sr)
    if ticket is not None:
        sla.Clock().resume(ticket, sr.status_changed_at)


def resolve(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """The resolution stops the clock for good, unless the ticket is reopened; a late one
    is breached."""
    ticket = states.ticket_of(sr)
    if ticket is None:
        return
    now = sr.status_changed_at
    sla.Clock().resume(ticket, now)
    ticket.resolved_at = now
    ticket.resolve_breached = now > ticket.resolve_due_at
    # The clock stays stopped while the ticket is resolved, in case it is reopened.
    ticket.paused_since = now


def reopen(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """A reopened ticket is no longer done: its clock runs again, the time it spent
    resolved pushed back."""
    ticket = states.ticket_of(sr)
    if ticket is None:
        return
    sr.completed_at = None
    ticket.resolve_breached = False
    sla.Clock().resume(ticket, sr.status_changed_at)


#: action → effect, for the ``ict_ticket`` request type.
EFFECTS = {"submit": open_clocks, "take": take, "assign": assign_to, "wait": pause_clock,
           "respond": resume_clock, "resolve": resolve, "reopen": reopen}
