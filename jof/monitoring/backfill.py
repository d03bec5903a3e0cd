"""``jof monitoring backfill``: the clocks that requests and call-offs would have written,
for those that reached their stopping step before clocks existed (or before their kind
had a clock, as call-offs until migration mon2).

Each clock is rebuilt through the same code that writes it live (:mod:`jof.monitoring.sla`):
the request's rules find the first timeline entry that stops each clock (the purchase
order of a requisition, the ticket and the settlement of a trip, the resolution of an
ICT ticket), the same start, kind and pause, against the agreement in force on the day
the clock started; a call-off's clock is its order's issue time. Open requests whose
clock still runs need nothing: the alert job and the dashboard take running clocks from
the requests themselves. A clock already there is never touched, so a second run adds
nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from jof.core.workflow import ServiceRequest
from jof.monitoring import sla
from jof.monitoring.models import RequestClock
from jof.procurement.models import PurchaseOrder

#: Requests read per batch (their timelines with them).
BATCH = 500


@dataclass
class Backfill:
    """What a backfill wrote (or, dry, would write): clocks per service kind."""

    dry_run: bool
    added: Counter = field(default_factory=Counter)
    requests_read: int = 0
    call_offs_read: int = 0

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.added.items()))
        return (f"{self.requests_read} requests and {self.call_offs_read} call-offs read; "
                f"{verb} {self.total} clocks" + (f" ({kinds})" if kinds else ""))


def backfill(session: Session, dry_run: bool = False) -> Backfill:
    """Add every missing clock (``dry_run``: count them, add none). The caller commits."""
    result = Backfill(dry_run)
    cal = sla.calendar_of(session)
    have = {(r, k) for r, k in session.execute(
        select(RequestClock.request_id, RequestClock.kind).where(RequestClock.request_id.is_not(None)))}
    last = 0
    while True:
        batch = session.scalars(
            select(ServiceRequest).where(ServiceRequest.request_type.in_(list(sla.RULES)), ServiceRequest.id > last)
            .options(selectinload(ServiceRequest.timeline)).order_by(ServiceRequest.id).limit(BATCH)).all()
        if not batch:
            break
        last = batch[-1].id
        result.requests_read += len(batch)
        for request in batch:
            for clock in _request_clocks(session, request, cal, have):
                result.added[clock.kind] += 1
                if not dry_run:
                    session.add(clock)
        if not dry_run:
            session.flush()
    orders = session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.lta_id.is_not(None),
                                    ~PurchaseOrder.id.in_(select(RequestClock.purchase_order_id).where(
                                        RequestClock.purchase_order_id.is_not(None))))
        .order_by(PurchaseOrder.id)).all()
    result.call_offs_read = len(orders)
    for order in orders:
        clock = sla.measure_call_off(session, order, cal)
        result.added[clock.kind] += 1
        if not dry_run:
            session.add(clock)
    if not dry_run:
        session.flush()
    return result


def _request_clocks(session: Session, request: ServiceRequest, cal, have: set) -> list[RequestClock]:
    """The clocks ``request`` lacks: for each of its rules, from the first timeline entry
    that stops it, exactly as :func:`jof.monitoring.sla.capture` would have written them."""
    out = []
    timeline = sorted(request.timeline, key=lambda e: (e.at, e.id))
    for rule in sla.RULES.get(request.request_type, ()):
        stop = next((e for e in timeline if rule.stops_at(e)), None)
        if stop is None:
            continue
        kind, start = rule.kind(session, request), rule.start(session, request)
        if kind is None or start is None or (request.id, kind) in have:
            continue
        paused = rule.paused(session, request) if rule.paused else 0
        out.append(sla.measure(session, request, kind, start, max(stop.at, start), cal, paused))
        have.add((request.id, kind))
    return out
