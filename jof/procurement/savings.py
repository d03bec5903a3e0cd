"""Savings: agencies' estimates minus the award, per tender and per agency (DESIGN §3)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from jof.core.db import db
from jof.core.people import Agency, User
from jof.procurement.common import ZERO, require_staff_reader
from jof.procurement.models import Lot, PurchaseOrder, PurchaseOrderLine, RequisitionLine, Tender


def _per_tender_and_agency(tender_ids) -> dict[int, dict[str, list[Decimal]]]:
    """Estimates and awards of the awarded lots' purchase-order lines, summed per tender and
    per agency in one grouped statement (a tender's agencies are its orders' agencies).
    ``tender_ids``: a list, or a subquery of ids (no bound parameter per tender)."""
    rows = db.session.execute(
        select(Lot.tender_id, Agency.code, func.sum(RequisitionLine.estimate_usd), func.sum(PurchaseOrderLine.amount_usd))
        .join(PurchaseOrder, PurchaseOrder.lot_id == Lot.id)
        .join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .join(RequisitionLine, RequisitionLine.id == PurchaseOrderLine.requisition_line_id)
        .join(Agency, Agency.id == PurchaseOrder.agency_id)
        .where(Lot.tender_id.in_(tender_ids), Lot.awarded_bid_id.is_not(None))
        .group_by(Lot.tender_id, Agency.code))
    out: dict[int, dict[str, list[Decimal]]] = defaultdict(dict)
    for tender_id, code, estimate, awarded in rows:
        out[tender_id][code] = [estimate or ZERO, awarded or ZERO]
    return out


def _entry(tender: Tender, per_agency: dict[str, list[Decimal]]) -> dict:
    agencies = [{"agency": code, "estimate_usd": e, "awarded_usd": a, "savings_usd": e - a}
                for code, (e, a) in sorted(per_agency.items())]
    est = sum((a["estimate_usd"] for a in agencies), ZERO)
    awd = sum((a["awarded_usd"] for a in agencies), ZERO)
    return {"tender_id": tender.id, "tender": tender.number, "estimate_usd": est, "awarded_usd": awd,
            "savings_usd": est - awd, "agencies": agencies}


def tender_savings(tender: Tender) -> dict:
    """Estimates minus award, per awarded lot, summed per tender and per agency (DESIGN §3);
    an agency's part of an award is what its purchase orders hold."""
    return _entry(tender, _per_tender_and_agency([tender.id]).get(tender.id, {}))


def savings(user: User, tender_id: int | None = None) -> list[dict]:
    """Every published or awarded tender with an awarded lot, with its savings: three
    statements whatever the number of tenders, lots and orders."""
    require_staff_reader(user)
    awarded = select(Lot.tender_id).where(Lot.awarded_bid_id.is_not(None))
    stmt = (select(Tender).where(Tender.status.in_(("published", "awarded")), Tender.id.in_(awarded))
            .order_by(Tender.id))
    if tender_id is not None:
        stmt = stmt.where(Tender.id == tender_id)
    tenders = db.session.scalars(stmt).all()
    sums = _per_tender_and_agency(stmt.with_only_columns(Tender.id).order_by(None)) if tenders else {}
    return [_entry(t, sums.get(t.id, {})) for t in tenders]
