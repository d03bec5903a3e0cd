"""Savings: agencies' estimates minus the award, per tender and per agency (DESIGN §3)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from jof.core.db import db
from jof.core.people import User
from jof.procurement.common import ZERO, require_staff_reader
from jof.procurement.models import PurchaseOrder, RequisitionLine, Tender


def tender_savings(tender: Tender) -> dict:
    """Estimates minus award, per awarded lot, summed per tender and per agency (DESIGN §3);
    an agency's part of an award is what its purchase orders hold."""
    per_agency: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for lot in tender.lots:
        if lot.awarded_bid_id is None:
            continue
        for po in db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.lot_id == lot.id)):
            for pl in po.lines:
                rl = db.session.get(RequisitionLine, pl.requisition_line_id)
                per_agency[po.agency.code][0] += rl.estimate_usd
                per_agency[po.agency.code][1] += pl.amount_usd
    agencies = [{"agency": code, "estimate_usd": e, "awarded_usd": a, "savings_usd": e - a}
                for code, (e, a) in sorted(per_agency.items())]
    est = sum((a["estimate_usd"] for a in agencies), ZERO)
    awd = sum((a["awarded_usd"] for a in agencies), ZERO)
    return {"tender_id": tender.id, "tender": tender.number, "estimate_usd": est, "awarded_usd": awd,
            "savings_usd": est - awd, "agencies": agencies}


def savings(user: User, tender_id: int | None = None) -> list[dict]:
    require_staff_reader(user)
    stmt = select(Tender).where(Tender.status.in_(("published", "awarded"))).order_by(Tender.id)
    if tender_id is not None:
        stmt = stmt.where(Tender.id == tender_id)
    return [tender_savings(t) for t in db.session.scalars(stmt)
            if any(lot.awarded_bid_id for lot in t.lots)]
