"""The ICT request types and their transition tables, in the one workflow engine.

* ``ict_subscription`` (``ICS-…``): the common lifecycle (DESIGN §2). Approval starts the
  first seat period of a recurring service; ``start`` means the seats are provisioned
  (the subscription is active); a recurring subscription completes after its last day;
  a one-off service (laptop set-up) becomes chargeable when it is completed.
* ``ict_ticket`` (``ICT-…``): the service-desk lifecycle of DESIGN §5, with no approval:
  new → assigned → in_progress ⇄ waiting_on_requester → resolved → closed, reopened
  within 5 working days of its resolution. The SLA clocks move with it.
"""

from __future__ import annotations

from sqlalchemy import select

from jof.core import workflow
from jof.core.calendar import WorkingCalendar
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.people import Role
from jof.core.workflow import MANAGER, OFFICER, REQUESTER, Status, Transition
from jof.ict.models import IctSubscription, IctTicket, SubscriptionPeriod
from jof.ict.sla import Clock

SUBSCRIPTION = "ict_subscription"
TICKET = "ict_ticket"
SERVICE_LINE = "ict"

NEW = "new"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
WAITING = "waiting_on_requester"
RESOLVED = "resolved"
CLOSED = "closed"

#: Working days after its resolution during which a ticket may be reopened.
REOPEN_WORKING_DAYS = 5

#: Ticket states in which the ICT officers still have work to do.
OPEN_TICKET_STATES = (NEW, ASSIGNED, IN_PROGRESS, WAITING)


def local_today():
    from jof.core.timeutil import utcnow

    return utcnow().astimezone(WorkingCalendar.of_facility().tz).date()


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


def _subscription_hook(sr, t: Transition, user) -> None:
    sub = subscription_of(sr)
    if sub is None:
        return
    if t.action == "approve" and sub.service.recurring and not sub.periods:
        sub.periods.append(SubscriptionPeriod(seq=1, seats=sub.seats, starts_on=sub.starts_on,
                                              ends_on=sub.ends_on, created_at=sr.status_changed_at,
                                              created_by_id=user.id))
    elif t.action == "complete" and not sub.service.recurring:
        from jof.ict import services

        services.record_one_off(user, sub)
    elif t.action == "cancel" and sub.periods:
        from jof.ict import services

        services.trim_on_cancel(user, sub)


def _subscription_transitions() -> list[Transition]:
    rows = []
    for t in workflow.common_lifecycle():
        if t.action == "complete":
            t = Transition(t.action, t.sources, t.target, t.actors, _ended, t.comment_required,
                           t.label, t.stamp)
        rows.append(t)
    return rows


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


def _ticket_transitions() -> list[Transition]:
    S = Status
    return [
        Transition("submit", (S.DRAFT,), NEW, (REQUESTER, MANAGER), label="Open ticket",
                   stamp="submitted_at"),
        Transition("take", (NEW,), ASSIGNED, (OFFICER,), label="Take"),
        Transition("assign", (NEW, ASSIGNED, IN_PROGRESS), ASSIGNED, (OFFICER, MANAGER), _may_reassign,
                   label="Assign"),
        Transition("start", (ASSIGNED,), IN_PROGRESS, (OFFICER, MANAGER), _assignee_or_manager,
                   label="Start work", stamp="started_at"),
        Transition("wait", (ASSIGNED, IN_PROGRESS), WAITING, (OFFICER, MANAGER), _assignee_or_manager,
                   comment_required=True, label="Ask the requester"),
        Transition("respond", (WAITING,), IN_PROGRESS, (REQUESTER, OFFICER, MANAGER),
                   label="Reply"),
        Transition("resolve", (ASSIGNED, IN_PROGRESS, WAITING), RESOLVED, (OFFICER, MANAGER),
                   _assignee_or_manager, comment_required=True, label="Resolve",
                   stamp="completed_at"),
        Transition("reopen", (RESOLVED,), IN_PROGRESS, (REQUESTER, MANAGER), _within_reopen_window,
                   comment_required=True, label="Reopen"),
        Transition("close", (RESOLVED,), CLOSED, (REQUESTER, OFFICER, MANAGER), label="Close",
                   stamp="closed_at"),
        Transition("cancel", (S.DRAFT, NEW, ASSIGNED), S.CANCELLED, (REQUESTER, MANAGER),
                   label="Withdraw", stamp="closed_at"),
    ]


def _ticket_hook(sr, t: Transition, user) -> None:
    ticket = ticket_of(sr)
    if ticket is None:
        return
    now = sr.status_changed_at
    clock = Clock()
    if t.action == "submit":
        clock.open(ticket, now)
    elif t.action in ("take", "assign"):
        if t.action == "take":
            ticket.assignee = user
            ticket.assignee_id = user.id
        else:
            officer = getattr(ticket, "pending_assignee", None)
            if officer is None:
                raise ValidationFailed({"assignee": ["Name the ICT officer to assign the ticket to."]})
            ticket.assignee = officer
            ticket.assignee_id = officer.id
        if ticket.owned_at is None:
            ticket.owned_at = now
            ticket.own_breached = ticket.own_due_at is not None and now > ticket.own_due_at
    elif t.action == "wait":
        clock.pause(ticket, now)
    elif t.action == "respond":
        clock.resume(ticket, now)
    elif t.action == "resolve":
        clock.resume(ticket, now)
        ticket.resolved_at = now
        ticket.resolve_breached = now > ticket.resolve_due_at
        # The clock stays stopped while the ticket is resolved, in case it is reopened.
        ticket.paused_since = now
    elif t.action == "reopen":
        sr.completed_at = None
        ticket.resolve_breached = False
        clock.resume(ticket, now)


workflow.register(workflow.RequestType(
    code=SUBSCRIPTION, prefix="ICS", label="ICT subscription", service_line=SERVICE_LINE,
    transitions=_subscription_transitions(), on_transition=_subscription_hook,
    detail_endpoint="ict.subscription_page",
))

workflow.register(workflow.RequestType(
    code=TICKET, prefix="ICT", label="ICT ticket", service_line=SERVICE_LINE,
    transitions=_ticket_transitions(), on_transition=_ticket_hook,
    detail_endpoint="ict.ticket_page",
    # Nothing happens to a closed ticket any more: the queue's "open" filter must say so.
    final_states=frozenset({CLOSED}),
))
