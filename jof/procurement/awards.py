"""The award of a lot: the evaluated winner, one purchase order per agency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _

from jof.core import audit, templating, workflow
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.money import allocate
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.procurement import states
from jof.procurement.common import SERVICE_ITEMS, ZERO, next_number, require_officer
from jof.procurement.evaluation import award_record, evaluate
from jof.procurement.models import (
    BidLine,
    Lot,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    RequisitionLine,
)
from jof.procurement.queries import all_lines_ordered
from jof.procurement.tenders import is_closed, lock_lot


def exact_value(bl: BidLine) -> Fraction:
    """What a bid line is worth before any rounding: quantity × unit price."""
    return Fraction(bl.lot_line.requisition_line.quantity) * Fraction(bl.unit_price)


def split_award(total: Decimal, lines: list[tuple[str, int, Fraction]]) -> dict[int, Decimal]:
    """The award's ``total`` split into order lines: (agency code, line key, exact value)
    → amount per line key.

    Each agency's order gets its share of the award by largest remainder over the exact
    values of its lines (core.money.allocate, ties by agency code), so the orders sum
    exactly to the award and each is within a cent of its exact share; an order's lines
    then share its total the same way.
    """
    per_agency: dict[str, list[tuple[int, Fraction]]] = defaultdict(list)
    for code, key, value in lines:
        per_agency[code].append((key, value))
    codes = sorted(per_agency)
    totals = allocate(total, [sum((v for _k, v in per_agency[c]), Fraction(0)) for c in codes], codes)
    out: dict[int, Decimal] = {}
    for code, agency_total in zip(codes, totals, strict=True):
        keyed = sorted(per_agency[code])
        shares = allocate(agency_total, [v for _k, v in keyed], [f"{k:012d}" for k, _v in keyed])
        out.update({k: s for (k, _v), s in zip(keyed, shares, strict=True)})
    return out


def award(actor: User, lot: Lot, bid_id: int, justification: str) -> list[PurchaseOrder]:
    """Award a lot to its evaluated winner and issue one purchase order per agency.

    Each agency's order holds exactly its lines at the awarded unit prices; the award
    (the bid's total) is split among the orders by :func:`split_award`, so the orders of
    a lot sum exactly to the award, cents included.
    """
    require_officer(actor)
    tender, lot = lock_lot(lot)
    bid = next((b for b in lot.bids if b.id == bid_id), None)
    if bid is None:
        raise ValidationFailed({"bid_id": [f"Not a bid on lot {lot.number} of {tender.number}."]})
    if lot.awarded_bid_id is not None:
        raise Conflict(f"Lot {lot.number} of {tender.number} is awarded already.")
    if tender.status != "published" or not is_closed(tender):
        raise Conflict(f"Tender {tender.number} must be published and closed before an award.")
    stale = sorted({ll.requisition_line.requisition.request for ll in lot.lines
                    if ll.requisition_line.requisition.request.status != states.SOURCING},
                   key=lambda sr: sr.reference)
    if stale:
        raise Conflict(_("A lot is awarded only while every requisition in it is in sourcing: %(which)s. "
                         "Take its lines out with a new tender, or cancel this one.",
                         which="; ".join(_("%(ref)s is %(status)s", ref=sr.reference,
                                           status=templating.status_label(sr.status).lower()) for sr in stale)))
    if bid.supplier.status != "active":
        raise Conflict(f"{bid.supplier.name} is {bid.supplier.status}"
                       + (f" ({bid.supplier.status_reason})" if bid.supplier.status_reason else "")
                       + "; only an active supplier can be awarded.")
    justification = (justification or "").strip()
    if not justification:
        raise ValidationFailed({"justification": ["Write the justification of the award."]})
    evaluation = evaluate(lot)
    if evaluation.winner is None or evaluation.winner.id != bid.id:
        raise Conflict(f"The evaluation ranks "
                       f"{evaluation.winner.supplier.name if evaluation.winner else 'no bid'} first; "
                       "the award goes to the evaluated winner.")
    if lot.committee_required and lot.committee_signed_at is None:
        raise Conflict("The manual requires the contracts committee's review of this lot before the award.")
    now = utcnow()
    lot.awarded_bid_id = bid.id
    lot.award_total = bid.total_usd
    lot.award_justification = justification
    lot.awarded_at = now
    lot.awarded_by_id = actor.id
    lot.award_record = award_record(evaluation, actor, now)
    states.LOT.move(lot, "award")
    by_agency: dict[int, list[BidLine]] = defaultdict(list)
    for bl in bid.lines:
        by_agency[bl.lot_line.requisition_line.requisition.request.agency_id].append(bl)
    codes = {agency_id: db.session.get(Agency, agency_id).code for agency_id in by_agency}
    amounts = split_award(bid.total_usd, [(codes[bl.lot_line.requisition_line.requisition.request.agency_id],
                                           bl.id, exact_value(bl)) for bl in bid.lines])
    orders = []
    for agency_id in sorted(by_agency, key=lambda a: codes[a]):
        lines = by_agency[agency_id]
        reqs = {bl.lot_line.requisition_line.requisition for bl in lines}
        po = PurchaseOrder(number=next_number("PO"), agency_id=agency_id, supplier_id=bid.supplier_id, lot=lot,
                           requisition=next(iter(reqs)) if len(reqs) == 1 else None,
                           service_item=SERVICE_ITEMS[tender.method], status=OrderStatus.ISSUED, issued_at=now,
                           issued_by_id=actor.id, total_usd=sum((amounts[bl.id] for bl in lines), ZERO))
        for bl in lines:
            rl = bl.lot_line.requisition_line
            po.lines.append(PurchaseOrderLine(requisition_line_id=rl.id, description=rl.description,
                                              unspsc=rl.unspsc, quantity=rl.quantity, unit=rl.unit,
                                              unit_price=bl.unit_price, amount_usd=amounts[bl.id],
                                              received_quantity=ZERO))
        db.session.add(po)
        orders.append(po)
    db.session.flush()
    assert sum((po.total_usd for po in orders), ZERO) == lot.award_total
    if all(lt.awarded_bid_id is not None for lt in tender.lots):
        states.TENDER.move(tender, "award")
    audit.record(actor, "procurement.lot.award", lot,
                 after={"tender": tender.number, "lot": lot.number, "supplier": bid.supplier.name,
                        "total_usd": bid.total_usd, "justification": justification,
                        "orders": [po.number for po in orders]})
    for po in orders:
        audit.record(actor, "procurement.po.issue", po, after={"total_usd": po.total_usd})
    reqs_touched = {rl.requisition for po in orders for rl in
                    (db.session.get(RequisitionLine, pl.requisition_line_id) for pl in po.lines)}
    for req in sorted(reqs_touched, key=lambda r: r.id):
        if req.request.status == states.SOURCING and all_lines_ordered(req):
            workflow.perform(actor, req.request, "order", comment="Purchase order issued.")
    return orders
