"""The measures of DESIGN §8, each one SQL aggregate (or a fixed handful) over a period ×
line × agency, whatever the number of requests: volumes, processing time (median, p90)
in working time, share within target, breaches with the late step, backlog by age band,
cost per transaction, savings, and each agency's money.

Working time per request comes from :class:`~jof.monitoring.models.RequestClock` (taken
when the clock stopped, see :mod:`jof.monitoring.sla`). Percentiles are
``percentile_cont`` on PostgreSQL; SQLite has no such aggregate, so the same linear
interpolation is computed from ``row_number()``/``count()`` windows.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select

from jof.billing.models import Charge
from jof.core.calendar import WorkingCalendar, facility_zone, local_today
from jof.core.db import db
from jof.core.timeutil import UTCDateTime
from jof.core.workflow import FINAL_STATES, ServiceRequest, registered_types
from jof.monitoring.models import RequestClock
from jof.procurement.models import PurchaseOrder, PurchaseOrderLine, RequisitionLine

ZERO = Decimal("0.00")
#: Backlog age bands in working days (DESIGN §8): (label, lowest age, highest age or None).
BANDS = (("0-5", 0, 5), ("6-15", 6, 15), ("16-45", 16, 45), (">45", 46, None))


@dataclass(frozen=True)
class Filters:
    """A period of local days (both included), an optional line and agency."""

    start: date
    end: date
    line: str | None = None
    agency_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(0), facility_zone())

    @property
    def end_utc(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), facility_zone())

    def with_agency(self, agency_id: int | None) -> Filters:
        return Filters(self.start, self.end, self.line, agency_id)


def _at(moment: datetime):
    """A bound that goes through the column type (naive UTC on SQLite)."""
    return literal(moment, UTCDateTime())


def line_of(column):
    """SQL expression: the service line of a request type code."""
    mapping = {rt.code: rt.service_line for rt in registered_types()}
    return case(mapping, value=column, else_=column) if mapping else column


def _request_scope(stmt, f: Filters):
    if f.agency_id is not None:
        stmt = stmt.where(ServiceRequest.agency_id == f.agency_id)
    if f.line:
        stmt = stmt.where(line_of(ServiceRequest.request_type) == f.line)
    return stmt


def _open():
    cond = ServiceRequest.status.not_in(FINAL_STATES)
    for rt in registered_types():
        if rt.final_states:
            cond = and_(cond, ~((ServiceRequest.request_type == rt.code) & ServiceRequest.status.in_(rt.final_states)))
    return and_(cond, ServiceRequest.submitted_at.is_not(None))


def volumes(f: Filters) -> list[dict]:
    """Per line: requests submitted and completed in the period, and open now."""
    return volumes_of(request_counts(f))


def volumes_of(counts: list[dict]) -> list[dict]:
    """The volumes out of :func:`request_counts`."""
    return [{k: c[k] for k in ("line", "submitted", "completed", "open")} for c in counts]


def backlog_of(counts: list[dict]) -> list[dict]:
    """The backlog by age band out of :func:`request_counts`: lines with open requests."""
    return [{"line": c["line"], **{label: c[label] for label, *_ in BANDS}} for c in counts if c["open"]]


def request_counts(f: Filters, cal: WorkingCalendar | None = None, today: date | None = None) -> list[dict]:
    """Per line, in one pass over the requests: submitted and completed in the period,
    open now, and the open ones by age band in working days since submission (a snapshot
    of today: the period does not apply to the backlog; submitted today is 0 days old).
    Grouped by line alone, with a conditional sum per figure, so the database keeps a
    handful of groups in a hash table instead of sorting every open request."""
    cal = cal or WorkingCalendar.of_facility()
    today = today or local_today()
    zone = facility_zone()

    def since(days: int):
        return _at(datetime.combine(working_days_back(cal, today, days), time(0), zone))

    b5, b15, b45 = since(5), since(15), since(45)
    sub = ServiceRequest.submitted_at
    s0, s1 = _at(f.start_utc), _at(f.end_utc)
    is_open = _open()
    band = case((~is_open, None), (sub >= b5, "0-5"), (sub >= b15, "6-15"), (sub >= b45, "16-45"), else_=">45")
    line = line_of(ServiceRequest.request_type).label("line")
    stmt = _request_scope(select(
        line,
        func.sum(case((and_(sub >= s0, sub < s1), 1), else_=0)),
        func.sum(case((and_(ServiceRequest.completed_at >= s0, ServiceRequest.completed_at < s1), 1), else_=0)),
        func.count(band),
        *(func.sum(case((band == label, 1), else_=0)) for label, *_ in BANDS),
    ), f).group_by(line).order_by(line)
    return [{"line": r[0], "submitted": int(r[1] or 0), "completed": int(r[2] or 0), "open": int(r[3] or 0),
             **{label: int(r[4 + i] or 0) for i, (label, *_) in enumerate(BANDS)}}
            for r in db.session.execute(stmt)]


def _clock_scope(stmt, f: Filters):
    stmt = stmt.where(RequestClock.ended_at >= _at(f.start_utc), RequestClock.ended_at < _at(f.end_utc))
    if f.agency_id is not None:
        stmt = stmt.where(RequestClock.agency_id == f.agency_id)
    if f.line:
        stmt = stmt.where(RequestClock.line == f.line)
    return stmt


def _postgres_times(f: Filters):
    ws = RequestClock.working_seconds
    return _clock_scope(select(
        RequestClock.kind, func.count(),
        func.percentile_cont(0.5).within_group(ws), func.percentile_cont(0.9).within_group(ws),
        func.sum(case((RequestClock.within_target.is_(True), 1), else_=0)),
        func.sum(case((RequestClock.within_target.is_(False), 1), else_=0)),
        func.max(RequestClock.target_seconds),
    ), f).group_by(RequestClock.kind).order_by(RequestClock.kind)


def processing_times(f: Filters, ahead: Ahead | None = None) -> list[dict]:
    """Per service kind: clocks stopped in the period, median and p90 working hours,
    share within target, breaches. ``ahead``: the same filters' :func:`start_ahead`."""
    if ahead is not None and ahead.times is not None:
        rows = [(k, n, float(p50), float(p90), w, b, t) for k, n, p50, p90, w, b, t in ahead.times.result()]
    elif db.session.get_bind().dialect.name == "postgresql":
        rows = [(k, n, float(p50), float(p90), w, b, t)
                for k, n, p50, p90, w, b, t in db.session.execute(_postgres_times(f))]
    else:
        rows = _sqlite_percentiles(f)
    out = []
    for kind, n, p50, p90, within, breached, target in rows:
        judged = int(within or 0) + int(breached or 0)
        out.append({"kind": kind, "count": int(n), "median_hours": _hours(p50), "p90_hours": _hours(p90),
                    "within_target": int(within or 0), "breached": int(breached or 0),
                    "within_share": (Decimal(int(within or 0) * 100) / judged).quantize(Decimal("0.1"))
                    if judged else None,
                    "target_hours": _hours(target) if target is not None else None})
    return out


def _hours(seconds) -> Decimal:
    return (Decimal(str(seconds)) / 3600).quantize(Decimal("0.01"))


def _sqlite_percentiles(f: Filters) -> list[tuple]:
    """percentile_cont(q) = v[lo] + (pos - lo) × (v[lo+1] - v[lo]), pos = 1 + q × (n - 1),
    with row numbers over each kind ordered by working time."""
    ws = RequestClock.working_seconds
    ranked = _clock_scope(select(
        RequestClock.kind.label("kind"), ws.label("ws"),
        RequestClock.within_target.label("within"), RequestClock.target_seconds.label("target"),
        func.row_number().over(partition_by=RequestClock.kind, order_by=(ws, RequestClock.id)).label("rn"),
        func.count().over(partition_by=RequestClock.kind).label("n"),
    ), f).subquery()

    def pct(q: float):
        pos = 1 + q * (ranked.c.n - 1)
        lo = cast(pos, Integer)
        v_lo = func.max(case((ranked.c.rn == lo, ranked.c.ws)))
        v_hi = func.max(case((ranked.c.rn == lo + 1, ranked.c.ws)))
        frac = func.max(pos - lo)
        return v_lo + frac * (func.coalesce(v_hi, v_lo) - v_lo)

    stmt = select(
        ranked.c.kind, func.count(), pct(0.5), pct(0.9),
        func.sum(case((ranked.c.within.is_(True), 1), else_=0)),
        func.sum(case((ranked.c.within.is_(False), 1), else_=0)),
        func.max(ranked.c.target),
    ).group_by(ranked.c.kind).order_by(ranked.c.kind)
    return [tuple(r) for r in db.session.execute(stmt)]


def breaches(f: Filters, limit: int = 50) -> list[dict]:
    """The latest clocks that ran past their target, with the step that was late; a
    call-off's clock is named by its purchase order (it has no request)."""
    stmt = _clock_scope(select(
        func.coalesce(ServiceRequest.reference, PurchaseOrder.number), RequestClock.kind, RequestClock.agency_id,
        RequestClock.ended_at, RequestClock.working_seconds, RequestClock.target_seconds, RequestClock.late_step,
    ).outerjoin(ServiceRequest, ServiceRequest.id == RequestClock.request_id)
        .outerjoin(PurchaseOrder, PurchaseOrder.id == RequestClock.purchase_order_id)
        .where(RequestClock.within_target.is_(False)), f).order_by(RequestClock.ended_at.desc()).limit(limit)
    return [{"reference": r[0], "kind": r[1], "agency_id": r[2], "ended_at": r[3],
             "hours": _hours(r[4]), "target_hours": _hours(r[5]), "late_step": r[6] or ""}
            for r in db.session.execute(stmt)]


def working_days_back(cal: WorkingCalendar, today: date, days: int) -> date:
    """The day ``days`` working days before ``today``."""
    day = today
    while days > 0:
        day -= timedelta(days=1)
        if cal.is_working_day(day):
            days -= 1
    return day


def backlog(f: Filters, cal: WorkingCalendar | None = None, today: date | None = None) -> list[dict]:
    """Open requests by age in working days since submission, per line (a snapshot of
    today: the period does not apply). A request submitted today is 0 days old."""
    return backlog_of(request_counts(f, cal, today))


def _month_bounds(f: Filters) -> tuple[date, date]:
    return f.start.replace(day=1), f.end.replace(day=1)


def _charge_totals(f: Filters):
    m0, m1 = _month_bounds(f)
    return (select(Charge.agency_id, Charge.service_line, Charge.kind, func.sum(Charge.amount))
            .where(Charge.period >= m0, Charge.period <= m1)
            .group_by(Charge.agency_id, Charge.service_line, Charge.kind))


def charge_totals(f: Filters, ahead: Ahead | None = None) -> dict[tuple[int, str, str], Decimal]:
    """Charges of the months of the period, every agency, summed by (agency, line, kind):
    one pass over the charges that :func:`cost_per_transaction` and
    :func:`jof.monitoring.finances.agencies` both read from. ``ahead``: the same
    filters' :func:`start_ahead`."""
    rows = ahead.charges.result() if ahead is not None and ahead.charges is not None \
        else db.session.execute(_charge_totals(f))
    return {(a, ln, k): amount or ZERO for a, ln, k, amount in rows}


# --- the two other passes, run beside the pass over the requests -------------------------

#: Threads that run a dashboard's clock and charge passes on connections of their own.
_AHEAD = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jof-measures")


@dataclass
class Ahead:
    """The clock pass (processing times) and the charge pass of one set of filters,
    started on PostgreSQL on their own pooled connections while the caller runs the pass
    over the requests; each waits for its rows when read. Empty on SQLite (one writer,
    and a pilot's data is small): the measures then run in the caller's session."""

    times: Future | None = None
    charges: Future | None = None


def _rows(engine, stmt) -> list:
    with engine.connect() as conn:
        return list(conn.execute(stmt).all())


def start_ahead(f: Filters) -> Ahead:
    """Start the period's clock and charge passes beside the caller's own work. Each runs
    as a statement of its own, as it would in the caller's session (PostgreSQL's READ
    COMMITTED gives every statement its own snapshot either way); the page's wall time
    becomes the longest pass instead of their sum."""
    engine = db.session.get_bind()
    if engine.dialect.name != "postgresql":
        return Ahead()
    return Ahead(times=_AHEAD.submit(_rows, engine, _postgres_times(f)),
                 charges=_AHEAD.submit(_rows, engine, _charge_totals(f)))


def cost_per_transaction(f: Filters, volume_rows: list[dict] | None = None,
                         totals: dict[tuple[int, str, str], Decimal] | None = None) -> list[dict]:
    """Per line: fees charged for the months of the period ÷ requests completed in it.
    ``volume_rows`` (:func:`volumes`) and ``totals`` (:func:`charge_totals`) of the same
    filters, when the caller has them already (the dashboard does: no second pass)."""
    totals = charge_totals(f) if totals is None else totals
    fees: dict[str, Decimal] = {}
    for (agency_id, ln, kind), amount in totals.items():
        if kind == "fee" and f.agency_id in (None, agency_id) and f.line in (None, "", ln):
            fees[ln] = fees.get(ln, ZERO) + amount
    done = {v["line"]: v["completed"] for v in (volumes(f) if volume_rows is None else volume_rows)}
    out = []
    for ln in sorted(set(fees) | set(done)):
        n, amount = done.get(ln, 0), fees.get(ln, ZERO)
        out.append({"line": ln, "fees_usd": amount, "completed": n,
                    "per_transaction_usd": (amount / n).quantize(Decimal("0.01")) if n else None})
    return out


def savings(f: Filters) -> dict:
    """Savings of joint tenders and LTA call-offs: agencies' estimates minus what their
    purchase orders issued in the period hold (procurement's savings rule, DESIGN §3)."""
    source = case((PurchaseOrder.lot_id.is_not(None), "joint_tender"), else_="lta").label("source")
    stmt = (select(source, func.sum(RequisitionLine.estimate_usd), func.sum(PurchaseOrderLine.amount_usd))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
            .join(RequisitionLine, RequisitionLine.id == PurchaseOrderLine.requisition_line_id)
            .where(or_(PurchaseOrder.lot_id.is_not(None), PurchaseOrder.lta_id.is_not(None)),
                   PurchaseOrder.issued_at >= _at(f.start_utc), PurchaseOrder.issued_at < _at(f.end_utc)))
    if f.agency_id is not None:
        stmt = stmt.where(PurchaseOrder.agency_id == f.agency_id)
    rows = {s: (e or ZERO, a or ZERO) for s, e, a in db.session.execute(stmt.group_by(source))}
    out = {s: {"estimate_usd": e, "awarded_usd": a, "savings_usd": e - a} for s, (e, a) in rows.items()}
    out["total_usd"] = sum((v["savings_usd"] for v in out.values()), ZERO)
    return out
