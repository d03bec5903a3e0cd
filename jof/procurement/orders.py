"""Purchase orders and goods receipts; a fully received order becomes chargeable."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from jof.core import audit, authz, charges, workflow
from jof.core.calendar import facility_zone, local_today
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.procurement import fees, states
from jof.procurement.common import GOODS_ITEM, LINE, require_officer
from jof.procurement.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
)
from jof.procurement.queries import all_orders_received


def orders_query(user: User, agency: str | None = None, status: str | None = None):
    stmt = select(PurchaseOrder)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(PurchaseOrder.agency_id == user.agency_id)
    if agency:
        stmt = stmt.join(Agency, Agency.id == PurchaseOrder.agency_id).where(Agency.code == agency.strip().upper())
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    return stmt.order_by(PurchaseOrder.id.desc())


def get_order(user: User, number: str) -> PurchaseOrder:
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
    if po is None:
        raise NotFound("No such purchase order.")
    authz.ensure_visible(user, po.agency_id, "purchase order")
    return po


def receive(actor: User, po: PurchaseOrder, data: dict) -> GoodsReceipt:
    """Record goods received, partly or fully, with the supplier's rating for the delivery.

    A fully received order becomes chargeable and completes the requisitions it
    finished. It writes two chargeable events (DESIGN §7), each unique per source:
    ``<PO>/receipt``, the process fee (kind ``fee``, the service item of the method),
    and ``<PO>/goods``, the goods as a pass-through (kind ``pass_through``). Both carry
    the order's goods value as ``value_usd``: for the fee event that value is only the
    base a percentage fee is computed on (billing prices fees from its price list), so
    the two values must never be added up as money owed. An order of a lot several
    agencies ordered pays its share of the lot's one process fee instead
    (:mod:`jof.procurement.fees`): the event then carries that share fixed as ``fee_usd``.
    """
    require_officer(actor)
    # Parallel receipts of one order wait for each other and count what the others received.
    db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == po.id).with_for_update()
                      .execution_options(populate_existing=True))
    db.session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == po.id)
                       .execution_options(populate_existing=True)).all()
    if po.status == "received":
        raise Conflict(f"{po.number} is fully received already.")
    lines = {pl.id: pl for pl in po.lines}
    wanted: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    day = local_today()
    issued_on = po.issued_at.astimezone(facility_zone()).date()
    received_on = data.get("received_on") or day
    if received_on > day:
        errors["received_on"] = [f"Goods cannot be received in the future (today is {day:%Y-%m-%d})."]
    elif received_on < issued_on:
        errors["received_on"] = [f"{po.number} was issued on {issued_on:%Y-%m-%d}; goods are received after that."]
    if data.get("lines") is not None and not data["lines"]:
        errors["lines"] = ["Give at least one line received, or leave lines out to receive everything outstanding."]
    elif data.get("lines"):
        for i, ln in enumerate(data["lines"]):
            pl = lines.get(ln["order_line_id"])
            if pl is None:
                errors[f"lines.{i}.order_line_id"] = [f"Not a line of {po.number}."]
            elif ln["order_line_id"] in wanted:
                errors[f"lines.{i}.order_line_id"] = ["Given twice."]
            elif ln["quantity"] > pl.quantity - pl.received_quantity:
                errors[f"lines.{i}.quantity"] = [
                    f"At most {pl.quantity - pl.received_quantity} {pl.unit} are still expected."]
            else:
                wanted[pl.id] = ln["quantity"]
    else:
        wanted = {pl.id: pl.quantity - pl.received_quantity for pl in po.lines if pl.quantity > pl.received_quantity}
    if errors:
        raise ValidationFailed(errors)
    receipt = GoodsReceipt(order=po, received_on=received_on, rating=data["rating"], note=data.get("note") or "",
                           recorded_by_id=actor.id, created_at=utcnow())
    for pl_id, qty in wanted.items():
        lines[pl_id].received_quantity += qty
        receipt.lines.append(GoodsReceiptLine(order_line_id=pl_id, quantity=qty))
    db.session.add(receipt)
    full = all(pl.received_quantity >= pl.quantity for pl in po.lines)
    states.PURCHASE_ORDER.move(po, "receive_all" if full else "receive_part")
    audit.record(actor, "procurement.po.receipt", po,
                 after={"received": {str(k): v for k, v in wanted.items()}, "rating": receipt.rating,
                        "status": po.status})
    if full:
        agency = db.session.get(Agency, po.agency_id)
        description = f"{po.number}: {po.service_item.replace('_', ' ')} for {agency.code}"
        pooled = fees.pooled_fee(po, received_on)
        if pooled is not None:
            description += (f", its share of the lot's one fee of USD {pooled.lot_fee:,} among {pooled.agencies} "
                            "agencies" + (" (capped at the fee it would have paid alone)" if pooled.capped else ""))
        charges.record(actor, source_ref=f"{po.number}/receipt", service_line=LINE, agency=agency,
                       service_item=po.service_item, quantity=1, value_usd=po.total_usd,
                       delivered_on=received_on, kind="fee", description=description,
                       fee_usd=pooled.amount if pooled is not None else None)
        charges.record(actor, source_ref=f"{po.number}/goods", service_line=LINE, agency=agency,
                       service_item=GOODS_ITEM, quantity=1, value_usd=po.total_usd, delivered_on=received_on,
                       kind="pass_through", description=f"{po.number}: goods from {po.supplier.name}")
        db.session.flush()
        req_ids = {rl.requisition_id for rl in db.session.scalars(select(RequisitionLine).where(
            RequisitionLine.id.in_([pl.requisition_line_id for pl in po.lines if pl.requisition_line_id])))}
        for req_id in sorted(req_ids):
            req = db.session.get(Requisition, req_id)
            if req.request.status == states.ORDERED and all_orders_received(req):
                workflow.perform(actor, req.request, "complete", comment=f"Goods received ({po.number}).")
    return receipt
