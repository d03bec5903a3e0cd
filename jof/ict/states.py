"""The ICT request types' states and transition tables, for the one workflow engine.

* ``ict_subscription`` (``ICS-…``): the common lifecycle (DESIGN §2). Approval starts the
  first seat period of a recurring service; ``start`` means the seats are provisioned
  (the subscription is active); a recurring subscription completes after its last day;
  a one-off service (laptop set-up) becomes chargeable when it is completed.
* ``ict_ticket`` (``ICT-…``): the service-desk lifecycle of DESIGN §5, with no approval:
  new → assigned → in_progress ⇄ waiting_on_requester → resolved → closed, reopened
  within 5 working days of its resolution. The SLA clocks move with it.

This module holds the rows and the guards ("may this move happen now"); what a move
does to the subscription or the ticket (a seat period, a charge, the SLA clocks, the
assignee) is an effect in :mod:`jof.ict.subscriptions` and :mod:`jof.ict.tickets`.
``jof.ict.install`` registers each request type with its rows, effects and payload
schemas, so this module imports no service module and importing it registers nothing.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import select

from jof.core.calendar import WorkingCalendar, local_today
from jof.core.db import db
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import (
    MANAGER,
    OFFICER,
    REQUESTER,
    ServiceRequest,
    Status,
    TimelineEntry,
    Transition,
)
from jof.core.workflow import common_lifecycle as _common_lifecycle
from jof.ict.models import IctSubscription, IctTicket

SUBSCRIPTION = "ict_subscription"
TICKET = "ict_ticket"
SERVICE_LINE = "ict"

#: A subscription order follows the common lifecycle of every request (DESIGN §2).
SubscriptionStatus = Status


class TicketStatus(StrEnum):
    """The service-desk lifecycle of a ticket (DESIGN §5)."""

    DRAFT = Status.DRAFT.value
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = Status.IN_PROGRESS.value
    WAITING = "waiting_on_requester"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = Status.CANCELLED.value


#: Working days after its resolution during which a ticket may be reopened.
REOPEN_WORKING_DAYS = 5

#: Ticket states in which the ICT officers still have work to do.
OPEN_TICKET_STATES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING)

#: Ticket states in which the resolve clock runs.
RUNNING_TICKET_STATES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS)

#: Ticket states after which nobody comments any more.
ENDED_TICKET_STATES = (TicketStatus.CLOSED, TicketStatus.CANCELLED)

#: Subscription states in which seats are served (and change, and end).
SUBSCRIPTION_LIVE = (SubscriptionStatus.APPROVED, SubscriptionStatus.IN_PROGRESS)


def note_on_timeline(actor: User, sr: ServiceRequest, action: str, comment: str) -> None:
    """A line on the request's timeline for a change that is not a move of its status
    (seats changed, service ended, priority changed)."""
    db.session.add(TimelineEntry(request=sr, at=utcnow(), actor_id=actor.id, action=action,
                                 from_status=sr.status, to_status=sr.status, comment=comment))


# --- subscriptions ------------------------------------------------------------------------


def subscription_of(sr) -> IctSubscription | None:
    return db.session.scalar(select(IctSubscription).where(IctSubscription.request_id == sr.id))


def _ended(sr, _user) -> str | None:
    sub = subscription_of(sr)
    if sub is None or not sub.service.recurring:
        return None
    if sub.ends_on is None or sub.ends_on >= local_today():
        return "A subscription completes after its last day: set its end date first."
    return None


def subscription_transitions() -> list[Transition]:
    """The common lifecycle, with completion held until the last day of service."""
    return [replace(t, guard=_ended) if t.action == "complete" else t for t in _common_lifecycle()]


# --- tickets --------------------------------------------------------------------------------


def ticket_of(sr) -> IctTicket | None:
    return db.session.scalar(select(IctTicket).where(IctTicket.request_id == sr.id))


def _assignee_or_manager(sr, user) -> str | None:
    if user.has_role(Role.MANAGER):
        return None
    ticket = ticket_of(sr)
    if ticket is not None and ticket.assignee_id not in (None, user.id):
        return f"The ticket is assigned to {ticket.assignee.name}; only they (or the manager) may work on it."
    return None


def _assigned_to_sql(user: User):
    """An assigned ticket waits for its assignee only (SQL twin of the guard above)."""
    return select(IctTicket.id).where(IctTicket.request_id == ServiceRequest.id,
                                      IctTicket.assignee_id == user.id).exists()


def _being_worked_on_sql(user: User):
    """A ticket waiting for the requester's reply does not wait for its assignee."""
    return _assigned_to_sql(user) & (ServiceRequest.status != TicketStatus.WAITING)


def _may_reassign(sr, user) -> str | None:
    """An unassigned ticket may be given to any ICT officer by any of them (dispatch);
    once someone has it, only they or the manager hand it on."""
    if user.has_role(Role.MANAGER):
        return None
    ticket = ticket_of(sr)
    if ticket is not None and ticket.assignee_id not in (None, user.id):
        return (f"The ticket is assigned to {ticket.assignee.name}; only they (or the manager) "
                "may re-assign it.")
    return None


def _within_reopen_window(sr, _user) -> str | None:
    ticket = ticket_of(sr)
    if ticket is None or ticket.resolved_at is None:
        return None
    cal = WorkingCalendar.of_facility()
    resolved_day = ticket.resolved_at.astimezone(cal.tz).date()
    last_day = cal.add_working_days(resolved_day, REOPEN_WORKING_DAYS)
    if local_today() > last_day:
        return (f"A ticket can be reopened within {REOPEN_WORKING_DAYS} working days of its "
                f"resolution (until {last_day.isoformat()}); open a new ticket instead.")
    return None


def ticket_transitions() -> list[Transition]:
    S = TicketStatus
    return [
        Transition("submit", (S.DRAFT,), S.NEW, (REQUESTER, MANAGER), label="Open ticket",
                   stamp="submitted_at"),
        Transition("take", (S.NEW,), S.ASSIGNED, (OFFICER,), label="Take"),
        Transition("assign", (S.NEW, S.ASSIGNED, S.IN_PROGRESS), S.ASSIGNED, (OFFICER, MANAGER), _may_reassign,
                   label="Assign"),
        Transition("start", (S.ASSIGNED,), S.IN_PROGRESS, (OFFICER, MANAGER), _assignee_or_manager,
                   label="Start work", stamp="started_at", waits_when=_assigned_to_sql),
        Transition("wait", (S.ASSIGNED, S.IN_PROGRESS), S.WAITING, (OFFICER, MANAGER), _assignee_or_manager,
                   comment_required=True, label="Ask the requester", waits_when=_assigned_to_sql),
        Transition("respond", (S.WAITING,), S.IN_PROGRESS, (REQUESTER, OFFICER, MANAGER),
                   label="Reply"),
        Transition("resolve", (S.ASSIGNED, S.IN_PROGRESS, S.WAITING), S.RESOLVED, (OFFICER, MANAGER),
                   _assignee_or_manager, comment_required=True, label="Resolve",
                   stamp="completed_at", waits_when=_being_worked_on_sql),
        Transition("reopen", (S.RESOLVED,), S.IN_PROGRESS, (REQUESTER, MANAGER), _within_reopen_window,
                   comment_required=True, label="Reopen"),
        Transition("close", (S.RESOLVED,), S.CLOSED, (REQUESTER, OFFICER, MANAGER), label="Close",
                   stamp="closed_at"),
        Transition("cancel", (S.DRAFT, S.NEW, S.ASSIGNED), S.CANCELLED, (REQUESTER, MANAGER),
                   label="Withdraw", stamp="closed_at"),
    ]
