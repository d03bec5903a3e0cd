"""Model-level questions about requisitions and their orders, asked by the transition
guards (states.py) and by the services alike; no rule and no write here."""

from __future__ import annotations

from sqlalchemy import select

from jof.core import workflow
from jof.core.db import db
from jof.procurement.models import (
    Lot,
    LotLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Requisition,
    Tender,
)


def requisition_of(sr: workflow.ServiceRequest) -> Requisition | None:
    return db.session.scalar(select(Requisition).where(Requisition.request_id == sr.id))



def all_lines_ordered(req: Requisition | None) -> bool:
    if req is None or not req.lines:
        return False
    ordered = set(db.session.scalars(select(PurchaseOrderLine.requisition_line_id).where(
        PurchaseOrderLine.requisition_line_id.in_([ln.id for ln in req.lines]))))
    return all(ln.id in ordered for ln in req.lines)


def orders_of(req: Requisition) -> list[PurchaseOrder]:
    return list(db.session.scalars(
        select(PurchaseOrder).join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(PurchaseOrderLine.requisition_line_id.in_([ln.id for ln in req.lines]))
        .distinct().order_by(PurchaseOrder.id)))


def all_orders_received(req: Requisition | None) -> bool:
    if req is None or not all_lines_ordered(req):
        return False
    return all(po.status == "received" for po in orders_of(req))


def tender_of(req: Requisition) -> Tender | None:
    return db.session.scalar(
        select(Tender).join(Lot, Lot.tender_id == Tender.id).join(LotLine, LotLine.lot_id == Lot.id)
        .where(LotLine.requisition_line_id.in_([ln.id for ln in req.lines])).limit(1))
