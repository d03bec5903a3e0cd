"""Cost sharing (DESIGN §7): the cost-sharing keys the board adopts, the month's cost
pools, and their allocation among the member agencies.

Part of governance's public surface (with ``effects`` and ``models``): billing reads a
month's pools, previews and records its allocation here when it closes the period.
The key in force on a month splits each pool by ``allocation.allocate``; what is
recorded is exactly what the manager previewed (the preview's digest says so).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from jof.core import audit, authz, money
from jof.core.calendar import MONTH_MESSAGE, next_month, parse_month
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.money import to_decimal
from jof.core.people import Agency, Membership, Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status
from jof.governance import decisions, effects
from jof.governance.allocation import AgencyInputs, Share, allocate, validate_components
from jof.governance.models import (
    POOL_CATEGORIES,
    AllocationShare,
    CostPool,
    CostSharingKey,
    Decision,
)


def parse_period(text: str) -> date:
    """The month of a pool or an allocation: ``core.calendar.parse_month`` read strictly,
    so " 2026-01" is refused here as the API's schema refuses it."""
    if not isinstance(text, str) or text != text.strip():
        raise ValidationFailed({"period": [MONTH_MESSAGE]})
    return parse_month(text, "period")


# --- keys ----------------------------------------------------------------------------------


def key_in_force(on: date) -> CostSharingKey | None:
    return db.session.scalar(select(CostSharingKey).where(CostSharingKey.effective_from <= on)
                             .order_by(CostSharingKey.effective_from.desc(), CostSharingKey.id.desc())
                             .limit(1))

def keys_with_status(today: date | None = None) -> list[CostSharingKey]:
    """Every adopted key, newest first, each marked ``in_force`` on ``today`` (UTC)."""
    current = key_in_force(today or utcnow().date())
    rows = db.session.scalars(select(CostSharingKey).options(selectinload(CostSharingKey.decision))
                              .order_by(CostSharingKey.effective_from.desc(), CostSharingKey.id.desc())).all()
    for key in rows:
        key.in_force = current is not None and key.id == current.id
    return list(rows)


def validate_key_payload(payload: dict) -> dict:
    try:
        components = validate_components(payload.get("components"))
    except ValidationFailed as exc:
        raise ValidationFailed({f"payload.{k}": v for k, v in exc.errors.items()}) from None
    day = effects.effective_from(payload)
    _check_key_date(day)
    _check_key_agencies(components, day)
    return {"effective_from": payload["effective_from"], "components": components}


def _check_key_date(day: date) -> None:
    """A new key may not rewrite the past: not before this month, nor in (or before) a
    month whose allocation is recorded already, even from the middle of it."""
    today = utcnow().date()
    if day < today.replace(day=1):
        raise ValidationFailed({"payload.effective_from": [
            f"A key takes effect on {today.replace(day=1):%Y-%m-%d} (the first day of this month) or later."]})
    recorded = db.session.scalar(select(func.max(CostPool.period)).join(
        AllocationShare, AllocationShare.cost_pool_id == CostPool.id).where(CostPool.period >= day.replace(day=1)))
    if recorded is not None:
        raise ValidationFailed({"payload.effective_from": [
            f"The allocation of {recorded:%Y-%m} is recorded already with the key then in force; "
            "a new key takes effect after it."]})


def _check_key_agencies(components: dict, day: date) -> None:
    """Fixed weights go to member agencies still in the facility when the key starts:
    a code that names no agency (``UNDPP``), a partner, or an agency gone by then would
    weigh nobody, and its share of the cost would silently land on the others."""
    weights = components.get("fixed_weights") or {}
    agencies = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.code.in_(list(weights))))}
    problems = []
    for code in weights:
        agency = agencies.get(code)
        if agency is None:
            problems.append(f"{code} is not an agency of the facility.")
        elif not agency.is_member:
            problems.append(f"{code} is a partner of the facility: only member agencies share its costs.")
        elif agency.left_on is not None and agency.left_on <= day:
            problems.append(f"{code} is no longer a member on {day:%Y-%m-%d} (it left on {agency.left_on:%Y-%m-%d}).")
    if problems:
        raise ValidationFailed({"payload.fixed_weights": problems})


def apply_key(decision: Decision, payload: dict, actor) -> str:
    day = effects.effective_from(payload)
    components = validate_components(payload["components"])
    if not (decision.tally or {}).get("founding"):
        _check_key_date(day)  # it may have become wrong while the board voted
    _check_key_agencies(components, day)  # an agency may have left or changed meanwhile
    key = CostSharingKey(components=components, decision_id=decision.id,
                         effective_from=day, created_at=utcnow())
    db.session.add(key)
    methods = ", ".join(f"{m} {p}%" for m, p in payload["components"].items() if m != "fixed_weights")
    return f"Cost-sharing key {methods} in force from {key.effective_from:%Y-%m-%d}."


def adopt_initial_key(components: dict, effective_from: date, actor: User | None = None) -> CostSharingKey:
    """The key a facility starts with, recorded as an adopted founding decision."""
    components = validate_components(components)
    _check_key_agencies(components, effective_from)
    payload = {"effective_from": effective_from.isoformat(), "components": components}
    decision = decisions.record_founding(
        actor, title="Founding cost-sharing key", kind="cost_sharing_key",
        text="Adopted by the member agencies when the facility was created.", payload=payload)
    return db.session.scalar(select(CostSharingKey).where(CostSharingKey.decision_id == decision.id))


# --- cost pools ----------------------------------------------------------------------------


def _manager(actor: User) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager enters cost pools and allocations.")


def _pool_amount(amount, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        amount = to_decimal(amount)
    except ValueError as exc:
        errors["amount"] = [str(exc)]
        return None
    if amount < 0:
        errors["amount"] = ["Must not be negative."]
    elif amount >= money.MAX_AMOUNT:
        errors["amount"] = ["Too large for a month's shared cost."]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["Give the amount to the cent."]
    return amount


def _pool_open(pool_period: date) -> None:
    effects.ensure_not_frozen(pool_period)
    if _allocated(pool_period):
        raise Conflict(f"The allocation of {pool_period:%Y-%m} is recorded; its pools no longer change.")


def add_cost_pool(actor: User, period: date, category: str, amount, description: str = "") -> CostPool:
    _manager(actor)
    errors: dict[str, list[str]] = {}
    if category not in POOL_CATEGORIES:
        errors["category"] = [f"Choose one of: {', '.join(POOL_CATEGORIES)}."]
    amount = _pool_amount(amount, errors)
    if not errors and db.session.scalar(select(CostPool.id).where(CostPool.period == period,
                                                                  CostPool.category == category)):
        errors["category"] = [f"The {category} pool of {period:%Y-%m} exists already; edit it instead."]
    _pool_open(period)
    if errors:
        raise ValidationFailed(errors)
    pool = CostPool(period=period, category=category, amount=amount, description=description,
                    created_by_id=actor.id, created_at=utcnow())
    db.session.add(pool)
    audit.record(actor, "cost_pool.create", pool, after=audit.snapshot(pool))
    return pool


def get_cost_pool(pool_id: int) -> CostPool:
    pool = db.session.get(CostPool, pool_id)
    if pool is None:
        raise NotFound("No such cost pool.")
    return pool


def update_cost_pool(actor: User, pool: CostPool, data: dict) -> CostPool:
    """Correct a pool's amount or description until its month's allocation is recorded."""
    _manager(actor)
    _pool_open(pool.period)
    errors: dict[str, list[str]] = {}
    amount = _pool_amount(data["amount"], errors) if "amount" in data else pool.amount
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(pool)
    pool.amount = amount
    if "description" in data:
        pool.description = data["description"] or ""
    audit.record(actor, "cost_pool.update", pool, before=before, after=audit.snapshot(pool))
    return pool


def delete_cost_pool(actor: User, pool: CostPool) -> None:
    """Remove a pool entered by mistake, until its month's allocation is recorded."""
    _manager(actor)
    _pool_open(pool.period)
    audit.record(actor, "cost_pool.delete", pool, before=audit.snapshot(pool))
    db.session.delete(pool)
    db.session.flush()


def pools_of(period: date) -> list[CostPool]:
    return list(db.session.scalars(select(CostPool).where(CostPool.period == period)
                                   .order_by(CostPool.category)))


def _allocated(period: date) -> bool:
    return db.session.scalar(select(func.count(AllocationShare.id)).join(CostPool).where(
        CostPool.period == period)) > 0


# --- allocation ----------------------------------------------------------------------------


def period_inputs(period: date) -> list[AgencyInputs]:
    """Member agencies active in the month, with what a key may weigh.

    Usage is the number and USD value of the agency's requests completed in the month,
    on every service line.
    """
    end = next_month(period)
    members = [a for a in db.session.scalars(select(Agency).where(Agency.membership == Membership.MEMBER)
                                             .options(selectinload(Agency.headcounts)).order_by(Agency.code))
               if a.joined_on < end and (a.left_on is None or a.left_on > period)]
    start_dt = datetime.combine(period, time(), UTC)
    end_dt = datetime.combine(end, time(), UTC)
    usage = dict((row[0], (row[1], row[2])) for row in db.session.execute(
        select(ServiceRequest.agency_id, func.count(ServiceRequest.id),
               func.coalesce(func.sum(ServiceRequest.amount_usd), 0))
        .where(ServiceRequest.status == Status.COMPLETED, ServiceRequest.completed_at >= start_dt,
               ServiceRequest.completed_at < end_dt)
        .group_by(ServiceRequest.agency_id)))
    out = []
    for a in members:
        n, value = usage.get(a.id, (0, Decimal("0")))
        out.append(AgencyInputs(code=a.code, headcount=a.headcount_for(period.year) or 0,
                                usage_count=int(n), usage_value=to_decimal(value)))
    return out


@dataclass
class PoolPreview:
    pool: CostPool
    shares: list[Share]


def _preview(period: date) -> tuple[CostSharingKey, list[PoolPreview], str]:
    key = key_in_force(period)
    if key is None:
        raise Conflict(f"No cost-sharing key is in force in {period:%Y-%m}; the board must adopt one.")
    inputs = period_inputs(period)
    pools = pools_of(period)
    if not pools:
        raise Conflict(f"No cost pools were entered for {period:%Y-%m}.")
    _check_key_fits(key, period, inputs)
    previews = [PoolPreview(p, allocate(p.amount, key.components, inputs)) for p in pools]
    facts = {"key": key.id, "components": key.components,
             "pools": [[p.id, p.category, str(Fraction(p.amount))] for p in pools],
             "inputs": [[i.code, i.headcount, i.usage_count, str(Fraction(i.usage_value))] for i in inputs]}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    return key, previews, digest


def _check_key_fits(key: CostSharingKey, period: date, inputs: list[AgencyInputs]) -> None:
    """A key in force whose fixed weights name no agency, or give weight to no member of
    the month, cannot split the month's costs: the board must adopt another key. (Keys
    are checked when proposed and adopted; this guards keys older than that check.)"""
    components = validate_components(key.components)
    weights = components.get("fixed_weights") if "fixed" in components else None
    if not weights:
        return
    which = f"The cost-sharing key in force from {key.effective_from:%Y-%m-%d}"
    if key.decision is not None and key.decision.resolution_number:
        which += f" ({key.decision.resolution_number})"
    known = set(db.session.scalars(select(Agency.code).where(Agency.code.in_(list(weights)))))
    unknown = sorted(set(weights) - known)
    if unknown:
        raise Conflict(f"{which} gives a weight to {', '.join(unknown)}, which names no agency of the "
                       f"facility: the board must adopt a corrected key before {period:%Y-%m} is allocated.")
    weighed = sorted(c for c, w in weights.items() if to_decimal(w) > 0)
    present = {i.code for i in inputs}
    if weighed and not present.intersection(weighed):
        raise Conflict(f"{which} weighs only {', '.join(weighed)}, none of them a member agency in "
                       f"{period:%Y-%m}: the board must adopt a new key before the month is allocated.")


def preview(period: date) -> tuple[CostSharingKey, list[PoolPreview]]:
    key, previews, _digest = _preview(period)
    return key, previews


def preview_digest(period: date) -> str:
    """A fingerprint of what the preview is computed from (key, pools, inputs): recording
    needs it, so what is recorded is what the manager read."""
    return _preview(period)[2]


def record_allocation(actor: User, period: date, digest: str | None = None) -> list[AllocationShare]:
    """Record the previewed allocation; recording again replaces the earlier shares.

    ``digest`` is the previewed one: if the key, a pool or an input changed since, the
    figures would differ from what was read, so it is refused (409). The API and the
    page always pass it; ``None`` is only for a caller that records as part of a larger
    step with its own preview (billing's period close).
    """
    _manager(actor)
    effects.ensure_not_frozen(period)
    key, previews, current = _preview(period)
    if digest is not None and not (isinstance(digest, str) and hmac.compare_digest(digest.encode(), current.encode())):
        raise Conflict("The figures changed since your preview; review them again before recording.")
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    rows = []
    for pv in previews:
        old = db.session.scalars(select(AllocationShare).where(AllocationShare.cost_pool_id == pv.pool.id)).all()
        for row in old:
            db.session.delete(row)
        db.session.flush()
        for share in pv.shares:
            row = AllocationShare(cost_pool_id=pv.pool.id, agency_id=agencies[share.code],
                                  key_id=key.id, amount=share.amount, explanation=share.explanation,
                                  recorded_by_id=actor.id, recorded_at=utcnow())
            db.session.add(row)
            rows.append(row)
        audit.record(actor, "allocation.record", pv.pool,
                     after={"key": key.id, "digest": digest, "shares": {s.code: s.amount for s in pv.shares}})
    db.session.flush()
    return rows


def recorded_shares(period: date) -> list[AllocationShare]:
    return list(db.session.scalars(select(AllocationShare).join(CostPool).where(CostPool.period == period)
                                   .options(selectinload(AllocationShare.agency), selectinload(AllocationShare.cost_pool))
                                   .order_by(CostPool.category, AllocationShare.agency_id)))


def recorded_allocation(period: date) -> tuple[CostSharingKey, list[PoolPreview]] | None:
    """The allocation as recorded (the stored rows, not a recomputation), or None."""
    rows = recorded_shares(period)
    if not rows:
        return None
    by_pool: dict[int, PoolPreview] = {}
    for r in sorted(rows, key=lambda r: (r.cost_pool.category, r.agency.code)):
        pv = by_pool.setdefault(r.cost_pool_id, PoolPreview(r.cost_pool, []))
        pv.shares.append(Share(code=r.agency.code, amount=r.amount, explanation=r.explanation))
    return db.session.get(CostSharingKey, rows[0].key_id), list(by_pool.values())
