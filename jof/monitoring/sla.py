"""SLA clocks of requests (DESIGN §8): when each request's service kind starts and stops
counting, the working time it took, whether that was within the agreement's target, and
which step was running when the target ran out.

A clock stops at a step of the request's timeline (the purchase order of a requisition,
the ticket of a trip, the resolution of an ICT ticket, the settlement of a claim). When
that step's timeline entry is flushed, :func:`capture` writes one
:class:`~jof.monitoring.models.RequestClock` row; the measures are SQL aggregates over
those rows. :func:`clocks` gives the clocks still running, for the alert job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from jof.core.calendar import Holiday, WorkingCalendar, local_date
from jof.core.people import Facility
from jof.core.timeutil import utcnow
from jof.core.workflow import FINAL_STATES, ServiceRequest, TimelineEntry, get_type
from jof.hr.models import Recruitment
from jof.ict.models import IctTicket
from jof.monitoring.models import RequestClock
from jof.monitoring.targets import targets_for, to_duration
from jof.procurement.models import PurchaseOrder, Requisition
from jof.travel.models import TravelRequest


@dataclass(frozen=True)
class Rule:
    """A clock of one request type: it stops at the timeline entry with ``stop_action``
    (or reaching ``stop_status``); ``kind(session, request)`` names the service kind (None:
    no clock), ``start(session, request)`` the moment it started."""

    kind: Callable[[Session, ServiceRequest], str | None]
    start: Callable[[Session, ServiceRequest], datetime | None]
    stop_action: str | None = None
    stop_status: str | None = None
    #: Working seconds the clock stood still (an ICT ticket waiting on its requester).
    paused: Callable[[Session, ServiceRequest], int] | None = None

    def stops_at(self, entry: TimelineEntry) -> bool:
        return ((self.stop_action is not None and entry.action == self.stop_action)
                or (self.stop_status is not None and entry.to_status == self.stop_status))


def _submitted(_s, r: ServiceRequest) -> datetime | None:
    return r.submitted_at


# The line's record is read as an object (from the session's identity map, with the
# changes of the flush under way), never as a bare column (the database's older value).
def _procurement_kind(s: Session, r: ServiceRequest) -> str | None:
    req = s.scalars(select(Requisition).where(Requisition.request_id == r.id)).first()
    return f"procurement.{req.method}" if req is not None and req.method else None


def _ticket(s: Session, r: ServiceRequest) -> IctTicket | None:
    return s.scalars(select(IctTicket).where(IctTicket.request_id == r.id)).first()


def _ict_kind(s: Session, r: ServiceRequest) -> str | None:
    ticket = _ticket(s, r)
    return f"ict.{ticket.priority}" if ticket is not None and ticket.priority else None


def _ict_paused(s: Session, r: ServiceRequest) -> int:
    """The desk's own clock stops while a ticket waits on the requester (DESIGN §5)."""
    ticket = _ticket(s, r)
    return (ticket.paused_seconds or 0) if ticket is not None else 0


def _travel(s: Session, r: ServiceRequest) -> TravelRequest | None:
    return s.scalars(select(TravelRequest).where(TravelRequest.request_id == r.id)).first()


def _trip_end(s: Session, r: ServiceRequest) -> datetime | None:
    trip = _travel(s, r)
    return trip.ends_at if trip else None


def _hr_kind(s: Session, r: ServiceRequest) -> str | None:
    rec = s.scalars(select(Recruitment).where(Recruitment.request_id == r.id)).first()
    return f"hr.{rec.contract_type}" if rec is not None else None


#: request type → its clocks. Tests add rules for their own request type.
RULES: dict[str, list[Rule]] = {
    "procurement": [Rule(_procurement_kind, _submitted, stop_status="ordered")],
    "travel": [Rule(lambda s, r: "travel.ticket", lambda s, r: r.approved_at, stop_action="ticket"),
               Rule(lambda s, r: "travel.claim", _trip_end, stop_action="settle")],
    "ict_ticket": [Rule(_ict_kind, _submitted, stop_status="resolved", paused=_ict_paused)],
    "hr_recruitment": [Rule(_hr_kind, lambda s, r: r.approved_at, stop_action="select")],
}


def register(request_type: str, rule: Rule) -> None:
    RULES.setdefault(request_type, []).append(rule)


def late_step(cal: WorkingCalendar, start: datetime, entries: list[TimelineEntry], target: timedelta) -> str | None:
    """The step during which the target ran out: each step ends at a timeline entry and
    is named by its action; the first whose end is past the target is the late one."""
    for entry in sorted((e for e in entries if e.at > start), key=lambda e: e.at):
        if cal.between(start, entry.at) > target:
            return entry.action
    return None


def measure(session: Session, request: ServiceRequest, kind: str, start: datetime, end: datetime,
            cal: WorkingCalendar, paused: int = 0) -> RequestClock:
    """The clock row of one request and kind, against the agreement in force on the day
    the clock started; ``paused`` working seconds, when the clock stood still, do not count."""
    targets, _sla = targets_for(request.agency_id, start.astimezone(cal.tz).date(), session)
    took = max(cal.between(start, end) - timedelta(seconds=paused), timedelta(0))
    amount = targets.get(kind)
    target = to_duration(kind, amount, cal) if amount is not None else None
    within = None if target is None else took <= target
    late = None if within in (None, True) else late_step(cal, start, list(request.timeline), target)
    return RequestClock(request=request, kind=kind, line=get_type(request.request_type).service_line,
                        agency_id=request.agency_id, started_at=start, ended_at=end,
                        working_seconds=int(took.total_seconds()),
                        target_seconds=None if target is None else int(target.total_seconds()),
                        within_target=within, late_step=late)


#: An LTA call-off's service kind (DESIGN §8: "LTA call-off 3 days", its own method).
CALL_OFF_KIND = "procurement.lta"


def is_call_off(order: PurchaseOrder) -> bool:
    return order.lta_id is not None or order.lta is not None


def measure_call_off(session: Session, order: PurchaseOrder, cal: WorkingCalendar) -> RequestClock:
    """The clock of a call-off under a long-term agreement, from submission to purchase
    order like every procurement kind: a call-off is placed as its order, so both are
    the moment it was issued and the working time is nil, against the call-off target
    of the agreement in force that day: within it, so never late at a step."""
    start = order.issued_at or utcnow()
    targets, _sla = targets_for(order.agency_id, start.astimezone(cal.tz).date(), session)
    took = cal.between(start, start)
    amount = targets.get(CALL_OFF_KIND)
    target = to_duration(CALL_OFF_KIND, amount, cal) if amount is not None else None
    within = None if target is None else took <= target
    return RequestClock(purchase_order=order, kind=CALL_OFF_KIND, line="procurement", agency_id=order.agency_id,
                        started_at=start, ended_at=start, working_seconds=int(took.total_seconds()),
                        target_seconds=None if target is None else int(target.total_seconds()),
                        within_target=within, late_step=None)


def capture(session: Session, flush_context=None, instances=None) -> None:
    """``before_flush``: a new timeline entry that stops a clock writes its clock row
    (once per request and kind: a step taken again later does not move it); a new
    call-off order writes its own."""
    entries = [o for o in session.new if isinstance(o, TimelineEntry)]
    orders = [o for o in session.new if isinstance(o, PurchaseOrder) and is_call_off(o)]
    if not entries and not orders:
        return
    cal = None
    with session.no_autoflush:
        for order in orders:
            cal = cal or calendar_of(session)
            session.add(measure_call_off(session, order, cal))
        for entry in entries:
            request = entry.request
            for rule in RULES.get(request.request_type, ()):
                if not rule.stops_at(entry):
                    continue
                kind, start = rule.kind(session, request), rule.start(session, request)
                if kind is None or start is None:
                    continue
                if request.id is not None and session.scalars(select(RequestClock.id).where(
                        RequestClock.request_id == request.id, RequestClock.kind == kind)).first():
                    continue
                cal = cal or calendar_of(session)
                paused = rule.paused(session, request) if rule.paused and request.id is not None else 0
                session.add(measure(session, request, kind, start, max(entry.at, start), cal, paused))


def calendar_of(session: Session) -> WorkingCalendar:
    """The facility calendar read through the flushing session itself (a flush may run in
    a session other than the app's, e.g. on a connection of its own)."""
    facility = session.get(Facility, 1)
    holidays = set(session.scalars(select(Holiday.day)))
    if facility is None:
        return WorkingCalendar("UTC", 8 * 60, 18 * 60, holidays)
    return WorkingCalendar(facility.time_zone, facility.work_start_minute, facility.work_end_minute, holidays)


def listen() -> None:
    """Capture clocks on every session (idempotent: installing twice listens once)."""
    if not event.contains(Session, "before_flush", capture):
        event.listen(Session, "before_flush", capture)


@dataclass
class OpenClock:
    request: ServiceRequest
    kind: str
    started_at: datetime
    target: timedelta
    used: timedelta

    @property
    def fraction(self) -> float:
        """Share of the target used (1.0 and above: breached)."""
        return self.used / self.target if self.target else 0.0

    @property
    def breached(self) -> bool:
        return self.used > self.target

    @property
    def step(self) -> str:
        """The step the request is at now (the status it waits in)."""
        return self.request.status


def clocks(session: Session, now: datetime) -> list[OpenClock]:
    """Every clock still running at ``now``: open requests with the kind, target and
    share of it used, for the alert job ("SLA at 80%", "breached"). One query for the
    requests; working time is taken on the facility calendar per open request."""
    cal = WorkingCalendar.of_facility()
    rows = session.scalars(
        select(ServiceRequest).where(ServiceRequest.status.not_in(FINAL_STATES),
                                     ServiceRequest.submitted_at.is_not(None),
                                     ServiceRequest.request_type.in_(list(RULES)))
        .order_by(ServiceRequest.id)).all()
    done = {(r, k) for r, k in session.execute(
        select(RequestClock.request_id, RequestClock.kind).where(
            RequestClock.request_id.in_([r.id for r in rows])))} if rows else set()
    targets_cache: dict = {}
    result = []
    for request in rows:
        if request.status in get_type(request.request_type).final_states:
            continue
        for rule in RULES.get(request.request_type, ()):
            kind, start = rule.kind(session, request), rule.start(session, request)
            if kind is None or start is None or start > now or (request.id, kind) in done:
                continue
            key = (request.agency_id, local_date(start))
            if key not in targets_cache:
                targets_cache[key] = targets_for(*key)[0]
            amount = targets_cache[key].get(kind)
            if amount is None:
                continue
            paused = timedelta(seconds=rule.paused(session, request)) if rule.paused else timedelta(0)
            used = max(cal.between(start, now) - paused, timedelta(0))
            result.append(OpenClock(request, kind, start, to_duration(kind, amount, cal), used))
            break
    return result
