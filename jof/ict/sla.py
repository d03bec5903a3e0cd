"""Ticket priority and the SLA clocks of the ICT service desk (DESIGN §5).

Priority comes from urgency × impact (3 × 3 → P1–P4). Each priority has a time to own
(someone takes the ticket) and a time to resolve, both counted in the facility's working
hours outside its holidays, in its time zone. The resolve clock stops while the ticket
waits on the requester (and while it is resolved, should it be reopened); the stopped
working time pushes the due time back by as much. A change of priority recomputes both
due times from the opening, as if the ticket had had the new priority all along.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jof.core.calendar import WorkingCalendar
from jof.ict.states import RUNNING_TICKET_STATES, TicketStatus

#: Wire and form names of urgency and impact levels (1 is the highest).
LEVELS = {"high": 1, "medium": 2, "low": 3}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}

#: (urgency, impact) → priority. Configuration: the facility may change it by decision.
PRIORITY_MATRIX: dict[tuple[int, int], str] = {
    (1, 1): "P1", (1, 2): "P2", (1, 3): "P3",
    (2, 1): "P2", (2, 2): "P3", (2, 3): "P4",
    (3, 1): "P3", (3, 2): "P4", (3, 3): "P4",
}

#: priority → (time to own, time to resolve), in working time (DESIGN §5 defaults).
SLA_TARGETS: dict[str, tuple[timedelta, timedelta]] = {
    "P1": (timedelta(hours=1), timedelta(hours=4)),
    "P2": (timedelta(hours=2), timedelta(hours=8)),
    "P3": (timedelta(hours=4), timedelta(hours=24)),
    "P4": (timedelta(hours=8), timedelta(hours=64)),
}

PRIORITIES = tuple(SLA_TARGETS)


def priority_of(urgency: int, impact: int) -> str:
    return PRIORITY_MATRIX[(urgency, impact)]


def due_times(cal: WorkingCalendar, opened_at: datetime, priority: str,
              paused: timedelta = timedelta(0)) -> tuple[datetime, datetime]:
    """(own due, resolve due) of a ticket opened at ``opened_at``."""
    own, resolve = SLA_TARGETS[priority]
    return cal.add(opened_at, own), cal.add(opened_at, resolve + paused)


def working_left(cal: WorkingCalendar, now: datetime, due: datetime) -> timedelta:
    """Working time from now to due; negative once the due time has passed."""
    if now <= due:
        return cal.between(now, due)
    return -cal.between(due, now)


class Clock:
    """The SLA clock operations on a ticket record (:class:`jof.ict.models.IctTicket`)."""

    def __init__(self, cal: WorkingCalendar | None = None):
        self.cal = cal or WorkingCalendar.of_facility()

    def recompute(self, ticket) -> None:
        ticket.own_due_at, ticket.resolve_due_at = due_times(
            self.cal, ticket.opened_at, ticket.priority, timedelta(seconds=ticket.paused_seconds))
        self.sync_spine(ticket)

    @staticmethod
    def stopped_late(ticket) -> bool:
        """The clock stopped (waiting on the requester) after the resolve due time."""
        return (ticket.paused_since is not None and ticket.resolve_due_at is not None
                and ticket.paused_since > ticket.resolve_due_at)

    def sync_spine(self, ticket) -> None:
        """The spine's SLA due time is the resolve due time. While the clock waits on the
        requester it has none (the queue's breach filter must not count a stopped clock),
        unless the ticket was late already when it stopped: then it stays breached, in the
        stored flag and on the spine, so breach reports and the manager's queue keep it.
        A running clock speaks for itself (due time against now); the resolution sets the
        flag for good."""
        status = ticket.request.status
        waiting = status == TicketStatus.WAITING
        if waiting:
            ticket.resolve_breached = self.stopped_late(ticket)
        elif status in RUNNING_TICKET_STATES:
            ticket.resolve_breached = False
        ticket.request.sla_due_at = (ticket.resolve_due_at if not waiting or self.stopped_late(ticket)
                                     else None)

    def open(self, ticket, now: datetime) -> None:
        ticket.opened_at = now
        ticket.paused_seconds = 0
        ticket.paused_since = None
        self.recompute(ticket)

    def pause(self, ticket, now: datetime) -> None:
        """Stop the resolve clock; a ticket late already keeps its breach (flag and spine)."""
        if ticket.paused_since is None:
            ticket.paused_since = now
        if ticket.owned_at is None and ticket.own_due_at is not None and now > ticket.own_due_at:
            ticket.own_breached = True
        self.sync_spine(ticket)

    def resume(self, ticket, now: datetime) -> None:
        if ticket.paused_since is not None:
            stopped = self.cal.between(ticket.paused_since, now)
            ticket.paused_seconds = (ticket.paused_seconds or 0) + int(stopped.total_seconds())
            ticket.paused_since = None
        self.recompute(ticket)

    def time_left(self, ticket, now: datetime) -> timedelta | None:
        """Working time left to resolve; frozen while the clock is stopped."""
        if ticket.resolve_due_at is None:
            return None
        return working_left(self.cal, ticket.paused_since or now, ticket.resolve_due_at)

    def own_time_left(self, ticket, now: datetime) -> timedelta | None:
        if ticket.own_due_at is None or ticket.owned_at is not None:
            return None
        return working_left(self.cal, now, ticket.own_due_at)


def format_working(delta: timedelta | None) -> str:
    """``3 h 05 min`` / ``-0 h 20 min`` (overdue), for tables."""
    if delta is None:
        return "—"
    sign = "-" if delta < timedelta(0) else ""
    minutes = int(abs(delta).total_seconds() // 60)
    return f"{sign}{minutes // 60} h {minutes % 60:02d} min"
