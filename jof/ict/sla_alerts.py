"""The ICT service desk's timed alerts: a ticket's resolve clock at 80 % of its target
(at risk) and past its due time (breached), to the facility manager and the assignee
(DESIGN §8). Registered by ``install(app)``; raised once per ticket, person and due time
by ``jof monitoring run`` (a change of priority gives a new due time, and a new alert).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select

from jof.core import alerts
from jof.core.calendar import WorkingCalendar
from jof.core.db import db
from jof.core.people import Role
from jof.core.workflow import ServiceRequest
from jof.ict.models import IctTicket
from jof.ict.sla import SLA_TARGETS, working_left
from jof.ict.states import RUNNING_TICKET_STATES

#: Share of the target used at which a ticket is at risk.
AT_RISK = 0.8


def _running(now: datetime):
    return db.session.execute(
        select(IctTicket, ServiceRequest).join(ServiceRequest, ServiceRequest.id == IctTicket.request_id)
        .where(ServiceRequest.status.in_(RUNNING_TICKET_STATES), IctTicket.paused_since.is_(None),
               IctTicket.resolve_due_at.is_not(None))
        .order_by(IctTicket.resolve_due_at)).all()


def _alert(kind: str, message: str, ticket: IctTicket, sr: ServiceRequest, managers) -> alerts.Alert:
    return alerts.Alert(kind, [*managers, ticket.assignee], message,
                        {"reference": sr.reference, "title": sr.title, "priority": ticket.priority,
                         "due": ticket.resolve_due_at},
                        link=f"/requests/{sr.reference}", object_key=f"request:{sr.reference}",
                        occasion=ticket.resolve_due_at.isoformat())


def breached(now: datetime) -> Iterator[alerts.Alert]:
    rows = [(t, sr) for t, sr in _running(now) if t.resolve_due_at <= now]
    managers = alerts.users_with_roles(Role.MANAGER) if rows else []
    for ticket, sr in rows:
        yield _alert(alerts.SLA_BREACHED, "SLA breached: %(reference)s “%(title)s” (%(priority)s) was due "
                     "at %(due)s.", ticket, sr, managers)


def at_risk(now: datetime) -> Iterator[alerts.Alert]:
    """Running tickets with at most 20 % of their resolve target left, not yet late."""
    rows = [(t, sr) for t, sr in _running(now) if t.resolve_due_at > now]
    if not rows:
        return
    cal = WorkingCalendar.of_facility()
    managers = alerts.users_with_roles(Role.MANAGER)
    for ticket, sr in rows:
        target = SLA_TARGETS[ticket.priority][1]
        if working_left(cal, now, ticket.resolve_due_at) <= target * (1 - AT_RISK) + timedelta(0):
            yield _alert(alerts.SLA_AT_RISK, "SLA at risk: %(reference)s “%(title)s” (%(priority)s) is due "
                         "at %(due)s.", ticket, sr, managers)
