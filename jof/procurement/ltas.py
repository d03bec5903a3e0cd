"""Long-term agreements and the call-offs placed under them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from jof.core import audit, authz
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import MAX_AMOUNT, quantize
from jof.core.people import Agency, Role, User
from jof.core.timeutil import utcnow
from jof.procurement.common import CALL_OFF_ITEM, TOO_LARGE, ZERO, next_number, require_officer
from jof.procurement.models import (
    LongTermAgreement,
    Lot,
    LtaLine,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from jof.procurement.tenders import lock_lot


def create_lta(actor: User, data: dict, lot: Lot | None = None) -> LongTermAgreement:
    """Enter an agreement directly, or (``lot`` given) record the one an awarded lot became."""
    require_officer(actor)
    errors: dict[str, list[str]] = {}
    supplier = db.session.get(Supplier, data["supplier_id"])
    if supplier is None:
        errors["supplier_id"] = ["No such supplier."]
    valid_from = data["valid_from"]
    earliest, latest = date(2000, 1, 1), _add_years(local_today(), 5)
    if not earliest <= valid_from <= latest:
        errors["valid_from"] = [f"Give a date between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}."]
    if errors:
        raise ValidationFailed(errors)
    valid_to = data.get("valid_to") or _add_years(valid_from, 2) - timedelta(days=1)
    if valid_to < valid_from:
        errors["valid_to"] = ["The agreement must end after it starts."]
    elif valid_to >= _add_years(valid_from, 3):
        errors["valid_to"] = ["A long-term agreement runs at most three years."]
    agencies = []
    for code in dict.fromkeys(c.strip().upper() for c in data["agencies"]):
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            errors.setdefault("agencies", []).append(f"No agency {code}.")
        else:
            agencies.append(agency)
    if errors:
        raise ValidationFailed(errors)
    if supplier.status != "active":
        raise Conflict(f"{supplier.name} is {supplier.status}; agreements are made only with active suppliers.")
    lta = LongTermAgreement(title=data["title"].strip(), supplier=supplier, valid_from=valid_from, valid_to=valid_to,
                            ceiling_usd=data["ceiling_usd"], lot_id=lot.id if lot else None, created_by_id=actor.id,
                            created_at=utcnow())
    lta.agencies = agencies
    lta.lines = [LtaLine(description=ln["description"].strip(), unspsc=ln["unspsc"], unit=ln["unit"].strip(),
                         unit_price=ln["unit_price"]) for ln in data["lines"]]
    db.session.add(lta)
    audit.record(actor, "procurement.lta.create", lta,
                 after={**audit.snapshot(lta), "agencies": [a.code for a in agencies]})
    return lta


def lta_from_lot(actor: User, lot: Lot, data: dict) -> LongTermAgreement:
    """The award of a lot becomes a long-term agreement (DESIGN §3).

    The awarded supplier and its unit prices form the catalogue (one line per distinct
    item and price); validity defaults to two years from today (at most three); the
    participants default to the agencies whose requisitions are in the lot. The lot's
    own purchase orders stay as issued; later needs are call-offs under the agreement.
    """
    require_officer(actor)
    tender, lot = lock_lot(lot)
    if lot.awarded_bid_id is None:
        raise Conflict(f"Lot {lot.number} of {tender.number} is not awarded yet; "
                       "an agreement is made from an awarded lot.")
    existing = db.session.scalar(select(LongTermAgreement).where(LongTermAgreement.lot_id == lot.id))
    if existing is not None:
        raise Conflict(f"Lot {lot.number} of {tender.number} became agreement \"{existing.title}\" already.")
    bid = lot.awarded_bid
    catalogue: dict[tuple, dict] = {}
    for bl in bid.lines:
        rl = bl.lot_line.requisition_line
        key = (rl.description, rl.unspsc, rl.unit, bl.unit_price)
        catalogue.setdefault(key, {"description": rl.description, "unspsc": rl.unspsc, "unit": rl.unit,
                                   "unit_price": bl.unit_price})
    agencies = data.get("agencies") or sorted(
        {ll.requisition_line.requisition.request.agency.code for ll in lot.lines})
    return create_lta(actor, {
        "title": (data.get("title") or "").strip() or f"{tender.title}, lot {lot.number}",
        "supplier_id": bid.supplier_id, "valid_from": data.get("valid_from") or local_today(),
        "valid_to": data.get("valid_to"), "ceiling_usd": data["ceiling_usd"], "agencies": agencies,
        "lines": list(catalogue.values())}, lot=lot)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def consumed(lta: LongTermAgreement) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(PurchaseOrder.total_usd), 0))
                             .where(PurchaseOrder.lta_id == lta.id)) or ZERO


def with_consumed(lta: LongTermAgreement) -> LongTermAgreement:
    lta.consumed_usd = Decimal(consumed(lta)).quantize(Decimal("0.01"))
    return lta


def get_lta(lta_id: int, lock: bool = False) -> LongTermAgreement:
    stmt = select(LongTermAgreement).where(LongTermAgreement.id == lta_id)
    if lock:
        stmt = stmt.with_for_update()
    lta = db.session.scalar(stmt)
    if lta is None:
        raise NotFound("No such long-term agreement.")
    return lta


def call_off(actor: User, lta: LongTermAgreement, data: dict) -> PurchaseOrder:
    """A participating agency orders under the agreement; refused past its ceiling or validity."""
    authz.ensure_can_change(actor)
    if actor.is_facility_staff:
        require_officer(actor)
        code = (data.get("agency") or "").strip().upper()
        agency = db.session.scalar(select(Agency).where(Agency.code == code)) if code else None
        if agency is None:
            raise ValidationFailed({"agency": ["Name the agency the call-off is for."]})
    else:
        authz.require_roles(actor, Role.REQUESTER, Role.AGENCY_HEAD)
        agency = actor.agency
        code = (data.get("agency") or "").strip().upper()
        if code and code != agency.code:
            raise ValidationFailed({"agency": [
                f"You order for your own agency ({agency.code}); leave the agency out."]})
    if agency.id not in {a.id for a in lta.agencies}:
        raise Forbidden(f"{agency.code} does not participate in this long-term agreement.")
    day = local_today()
    if not (lta.valid_from <= day <= lta.valid_to):
        raise Conflict(f"The agreement is valid from {lta.valid_from:%Y-%m-%d} to {lta.valid_to:%Y-%m-%d}; "
                       "no call-off can be placed today.")
    if lta.supplier.status != "active":
        raise Conflict(f"{lta.supplier.name} is {lta.supplier.status}; no call-off can be placed.")
    catalogue = {ln.id: ln for ln in lta.lines}
    errors: dict[str, list[str]] = {}
    po_lines = []
    for i, ln in enumerate(data["lines"]):
        item = catalogue.get(ln["lta_line_id"])
        if item is None:
            errors[f"lines.{i}.lta_line_id"] = ["Not a catalogue line of this agreement."]
            continue
        if any(pl.lta_line_id == item.id for pl in po_lines):
            errors[f"lines.{i}.lta_line_id"] = ["Given twice: order the whole quantity on one line."]
            continue
        amount = quantize(ln["quantity"] * item.unit_price)
        if amount >= MAX_AMOUNT:
            errors[f"lines.{i}.quantity"] = [TOO_LARGE.format(amount=amount)]
            continue
        po_lines.append(PurchaseOrderLine(lta_line_id=item.id, description=item.description, unspsc=item.unspsc,
                                          quantity=ln["quantity"], unit=item.unit, unit_price=item.unit_price,
                                          amount_usd=amount, received_quantity=ZERO))
    if errors:
        raise ValidationFailed(errors)
    total = sum((pl.amount_usd for pl in po_lines), ZERO)
    used = Decimal(consumed(lta))
    if used + total > lta.ceiling_usd:
        raise Conflict(f"This call-off of USD {total:,} would exceed the agreement's ceiling of USD "
                       f"{lta.ceiling_usd:,} (USD {lta.ceiling_usd - used:,} left).")
    po = PurchaseOrder(number=next_number("PO"), agency_id=agency.id, supplier_id=lta.supplier_id, lta=lta,
                       service_item=CALL_OFF_ITEM, total_usd=total, status=OrderStatus.ISSUED, issued_at=utcnow(),
                       issued_by_id=actor.id)
    po.lines = po_lines
    db.session.add(po)
    audit.record(actor, "procurement.lta.call_off", po, after={"lta": lta.id, "total_usd": total})
    return po


def ltas_query():
    return select(LongTermAgreement).order_by(LongTermAgreement.id.desc())
