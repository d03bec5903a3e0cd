"""Each agency's money over a period (DESIGN §8): fees, pass-through, its share of the
shared costs with the key and the resolution that set it, how that share moved from the
previous month and why, invoices and balance, and the counterfactual the smaller agencies
ask for: what its own volume costs at the price list against what it pays as a share of
the facility's fixed costs.

A fixed number of grouped queries, whatever the number of agencies or charges.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from jof.billing.models import Invoice, Payment
from jof.billing.states import InvoiceStatus
from jof.core.calendar import WorkingCalendar, next_month, previous_month
from jof.core.db import db
from jof.core.people import Agency
from jof.governance.models import AllocationShare, CostPool, CostSharingKey, Decision
from jof.monitoring.measures import ZERO, Filters, charge_totals
from jof.monitoring.targets import targets_for

#: An issued invoice counts; a draft is not billed yet.
BILLED = (InvoiceStatus.ISSUED,)


def _allocated_by_month(m0: date, m1: date, agency_id: int | None) -> dict:
    """agency → {month: its shares of the month's pools}, for the months from ``m0`` to ``m1``.

    The shared costs are read from the allocation governance records (``AllocationShare``),
    not from billing: the period close records the allocation and copies each share into
    the agency's draft invoice as a line of kind ``cost_share`` (``billing.services._drafts``),
    so the allocation is the source of truth and the invoice lines a copy of it. Billing's
    charges never carry shared costs, and invoice lines would miss a month allocated but
    not yet invoiced. One grouped query."""
    stmt = (select(AllocationShare.agency_id, CostPool.period, func.sum(AllocationShare.amount))
            .join(CostPool, CostPool.id == AllocationShare.cost_pool_id)
            .where(CostPool.period >= m0, CostPool.period <= m1)
            .group_by(AllocationShare.agency_id, CostPool.period))
    if agency_id is not None:
        stmt = stmt.where(AllocationShare.agency_id == agency_id)
    out: dict[int, dict] = {}
    for a, period, amount in db.session.execute(stmt):
        out.setdefault(a, {})[period] = amount or ZERO
    return out


def _shares(months: tuple, agency_id: int | None) -> tuple[dict, dict]:
    """(agency, month) → (amount, key id, resolution number, what the key weighed, the
    key's components) of its recorded shares, and month → the total of the pools
    allocated that month. One statement: a row per share (agencies × pools × 2 months)."""
    stmt = (select(AllocationShare.agency_id, CostPool.period, CostPool.id, CostPool.amount, AllocationShare.amount,
                   AllocationShare.key_id, Decision.resolution_number, AllocationShare.explanation,
                   CostSharingKey.components)
            .join(CostPool, CostPool.id == AllocationShare.cost_pool_id)
            .join(CostSharingKey, CostSharingKey.id == AllocationShare.key_id)
            .outerjoin(Decision, Decision.id == CostSharingKey.decision_id)
            .where(CostPool.period.in_(months)))
    if agency_id is not None:
        stmt = stmt.where(AllocationShare.agency_id == agency_id)
    shares: dict = {}
    pools: dict = {}
    for a, period, pool_id, pool_amount, amount, key, res, explanation, components in db.session.execute(stmt):
        pools.setdefault(period, {})[pool_id] = pool_amount or ZERO
        total, _key, _res, inputs, _c = shares.get((a, period), (ZERO, key, res, {}, components))
        inputs = {**inputs, **((explanation or {}).get("inputs") or {})}
        shares[(a, period)] = (total + (amount or ZERO), key, res, inputs, components or {})
    return shares, {p: sum(v.values(), ZERO) for p, v in pools.items()}


#: Why a share moved, as a code the dashboard words in the reader's language.
CAUSES = ("", "first_share", "no_share", "key_changed", "unchanged", "shared_costs_changed", "members_changed",
          "headcount_changed", "usage_changed", "usage_or_headcount")

#: What each method of a key weighs: a headcount, a usage, or only who the members are.
BASIS = {"headcount": "headcount", "usage_count": "usage", "usage_value": "usage", "equal": "members",
         "fixed": "members"}


def _weighed(components: dict) -> set[str]:
    return {BASIS[m] for m in components if m in BASIS}


def cause_of_change(before: tuple | None, now: tuple | None, pool_before: Decimal, pool_now: Decimal) -> str:
    """Why a share moved: a new key (by resolution), else what the key weighs under the
    same key, else the shared costs themselves. ``before`` and ``now`` are ``(amount, key
    id, resolution, inputs, components)``: the inputs each method weighed (from the
    allocation's explanation) tell whether the members, the headcounts or the usage moved
    the agency's fraction; when none moved, the pools did ("shared costs changed": pools
    differ from month to month, so they are named only when the fraction stayed). Without
    recorded inputs, a change of the pools is named first, then the key's basis tells (a
    headcount-only key can only move by headcount); only a key weighing both, with
    nothing to tell them apart, gives the combined "usage or headcount"."""
    if before is None and now is None:
        return ""
    if before is None:
        return "first_share"
    if now is None:
        return "no_share"
    if before[1] != now[1]:
        return "key_changed"
    if before[0] == now[0]:
        return "unchanged"
    inputs_before, inputs_now = (before[3] if len(before) > 3 else {}), (now[3] if len(now) > 3 else {})
    if inputs_before or inputs_now:
        moved = {BASIS[m] for m in set(inputs_before) | set(inputs_now)
                 if m in BASIS and inputs_before.get(m) != inputs_now.get(m)}
        if not moved:
            return "shared_costs_changed"
        if "members" in moved:  # an agency joined or left: every total moves with it
            return "members_changed"
        return _basis_cause(moved)
    if pool_before != pool_now:
        return "shared_costs_changed"
    return _basis_cause(_weighed(now[4] if len(now) > 4 else {}) - {"members"})


def _basis_cause(moved: set[str]) -> str:
    if moved == {"headcount"}:
        return "headcount_changed"
    if moved == {"usage"}:
        return "usage_changed"
    return "usage_or_headcount"


def agencies(f: Filters, totals: dict | None = None) -> list[dict]:
    """One row per agency (or the one asked for). The share columns compare the latest
    month of the period whose allocation is recorded (``share_month``; the period's last
    month when none is) with the month before: the current month is allocated only when
    its period closes, so it would show every share as fallen to zero. The other sums
    cover the whole period. ``totals``: :func:`~jof.monitoring.measures.charge_totals` of
    the same filters, when the caller has them already."""
    m0, m1 = f.start.replace(day=1), f.end.replace(day=1)
    agency_q = select(Agency.id, Agency.code, Agency.name).order_by(Agency.code)
    if f.agency_id is not None:
        agency_q = agency_q.where(Agency.id == f.agency_id)
    rows = db.session.execute(agency_q).all()

    kinds = {"fee": 0, "pass_through": 1}
    sums: dict[int, list[Decimal]] = {}
    for (a, _line, kind), amount in (charge_totals(f) if totals is None else totals).items():
        if kind in kinds:
            sums.setdefault(a, [ZERO, ZERO])[kinds[kind]] += amount
    charges = {a: tuple(v) for a, v in sums.items()}

    inv_q = (select(Invoice.agency_id, func.sum(Invoice.total_usd))
             .where(Invoice.status.in_(BILLED), Invoice.period >= m0, Invoice.period <= m1)
             .group_by(Invoice.agency_id))
    invoiced = {a: amt or ZERO for a, amt in db.session.execute(inv_q)}
    # Balance: everything billed up to the period's end less everything paid on it.
    due_q = (select(Invoice.agency_id, func.sum(Invoice.total_usd))
             .where(Invoice.status.in_(BILLED), Invoice.period <= m1).group_by(Invoice.agency_id))
    due = {a: amt or ZERO for a, amt in db.session.execute(due_q)}
    paid_q = (select(Invoice.agency_id, func.sum(Payment.amount)).join(Invoice, Invoice.id == Payment.invoice_id)
              .where(Invoice.period <= m1).group_by(Invoice.agency_id))
    paid = {a: amt or ZERO for a, amt in db.session.execute(paid_q)}

    allocated = _allocated_by_month(m0, m1, f.agency_id)
    share_month = max((p for months in allocated.values() for p in months), default=m1)
    prev = previous_month(share_month)
    shares, pools = _shares((prev, share_month), f.agency_id)
    out = []
    for agency_id, code, name in rows:
        fee, pt = charges.get(agency_id, (ZERO, ZERO))
        cs = sum(allocated.get(agency_id, {}).values(), ZERO)
        now, before = shares.get((agency_id, share_month)), shares.get((agency_id, prev))
        share_now = now[0] if now else ZERO
        share_before = before[0] if before else ZERO
        out.append({
            "agency_id": agency_id, "agency": code, "name": name,
            "fees_usd": fee, "pass_through_usd": pt, "cost_share_usd": cs,
            "share_month": share_month, "share_usd": share_now, "share_previous_usd": share_before,
            "share_change_usd": share_now - share_before,
            "share_key_id": now[1] if now else None, "share_resolution": (now[2] if now else None) or "",
            "share_cause": cause_of_change(before, now, pools.get(prev, ZERO), pools.get(share_month, ZERO)),
            "invoiced_usd": invoiced.get(agency_id, ZERO),
            "balance_usd": due.get(agency_id, ZERO) - paid.get(agency_id, ZERO),
            # Counterfactual: its own volume at the price list (the fees) against its share
            # of the facility's fixed costs in the same months.
            "price_list_cost_usd": fee, "fixed_cost_share_usd": cs,
        })
    return out


def working_days_between(cal: WorkingCalendar, after: date, until: date) -> int:
    """Working days after ``after`` up to and including ``until`` (0 when not later)."""
    days, day = 0, after
    while day < until:
        day += timedelta(days=1)
        days += cal.is_working_day(day)
    return days


def invoice_timeliness(f: Filters, cal: WorkingCalendar) -> list[dict]:
    """Billing's service level: working days from a period's end to the day the agency's
    invoice for it was issued, against the ``billing.invoices`` target in force. One
    grouped query; the working days are counted per period and agency (a few dozen rows
    a year), not per request."""
    m0, m1 = f.start.replace(day=1), f.end.replace(day=1)
    stmt = (select(Invoice.period, Agency.id, Agency.code, func.min(Invoice.issued_on))
            .join(Agency, Agency.id == Invoice.agency_id)
            .where(Invoice.status.in_(BILLED), Invoice.period >= m0, Invoice.period <= m1)
            .group_by(Invoice.period, Agency.id, Agency.code).order_by(Invoice.period, Agency.code))
    if f.agency_id is not None:
        stmt = stmt.where(Invoice.agency_id == f.agency_id)
    out = []
    targets: dict = {}
    for period, agency_id, code, issued in db.session.execute(stmt):
        period_end = next_month(period) - timedelta(days=1)
        if agency_id not in targets:
            targets[agency_id] = targets_for(agency_id, period_end)[0]["billing.invoices"]
        took = working_days_between(cal, period_end, issued) if issued else None
        out.append({"period": period, "agency": code, "issued_on": issued, "working_days": took,
                    "target_days": targets[agency_id],
                    "within_target": None if took is None else took <= targets[agency_id]})
    return out
