"""The supplier register: status (active, suspended, debarred), categories, rating."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select

from jof.core import audit
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.money import quantize
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.procurement import states
from jof.procurement.common import require_officer
from jof.procurement.models import (
    Bid,
    GoodsReceipt,
    Lot,
    PurchaseOrder,
    Supplier,
    SupplierStatus,
    Tender,
)


def _supplier_fields(supplier: Supplier, data: dict) -> None:
    for key in ("name", "contact_name", "contact_phone"):
        if key in data:
            setattr(supplier, key, (data[key] or "").strip())
    if "contact_email" in data:
        supplier.contact_email = data["contact_email"] or ""
    if "categories" in data:
        supplier.categories = sorted(set(data["categories"]))


def create_supplier(actor: User, data: dict) -> Supplier:
    require_officer(actor)
    tax_id = data["tax_id"].strip()
    if db.session.scalar(select(Supplier.id).where(Supplier.country == data["country"], Supplier.tax_id == tax_id)):
        raise ValidationFailed({"tax_id": [f"A supplier with tax id {tax_id} is already registered in {data['country']}."]})
    supplier = Supplier(country=data["country"], tax_id=tax_id, status=SupplierStatus.ACTIVE, categories=[],
                        status_reason="", status_since=local_today(), created_at=utcnow())
    _supplier_fields(supplier, data)
    db.session.add(supplier)
    audit.record(actor, "procurement.supplier.create", supplier, after=audit.snapshot(supplier))
    return supplier


def update_supplier(actor: User, supplier: Supplier, data: dict) -> Supplier:
    require_officer(actor)
    before = audit.snapshot(supplier)
    _supplier_fields(supplier, data)
    audit.record(actor, "procurement.supplier.update", supplier, before=before, after=audit.snapshot(supplier))
    return supplier


def set_supplier_status(actor: User, supplier: Supplier, status: str, reason: str = "") -> Supplier:
    """Suspend, debar or reinstate; a supplier that is not active is never awarded."""
    require_officer(actor)
    reason = (reason or "").strip()
    if status != "active" and not reason:
        raise ValidationFailed({"reason": [f"Give the reason the supplier is {status}."]})
    before = audit.snapshot(supplier)
    states.SUPPLIER.move(supplier, states.SUPPLIER_ACTION[SupplierStatus(status)])
    supplier.status_reason = reason
    supplier.status_since = local_today()
    audit.record(actor, "procurement.supplier.status", supplier, before=before, after=audit.snapshot(supplier))
    return supplier


def get_supplier(supplier_id: int) -> Supplier:
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound("No such supplier.")
    return supplier


def suppliers_query(q: str | None = None, status: str | None = None, category: str | None = None):
    stmt = select(Supplier)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Supplier.name).like(like), func.lower(Supplier.tax_id).like(like)))
    if status:
        stmt = stmt.where(Supplier.status == status)
    stmt = stmt.order_by(Supplier.name, Supplier.id)
    if category:
        # JSON lists are not portably searchable in SQL: filter the (small) register in Python.
        ids = [s.id for s in db.session.scalars(stmt) if trades_in(s, category)]
        stmt = select(Supplier).where(Supplier.id.in_(ids or [-1])).order_by(Supplier.name, Supplier.id)
    return stmt


def opened_bids_of(user: User, supplier: Supplier) -> list[Bid]:
    """A supplier's bids as facility staff may see them: only those of closed tenders.

    Bids stay sealed until their tender closes, and agencies never see bids at all.
    """
    if not user.is_facility_staff:
        return []
    return list(db.session.scalars(
        select(Bid).join(Lot, Lot.id == Bid.lot_id).join(Tender, Tender.id == Lot.tender_id)
        .where(Bid.supplier_id == supplier.id, Tender.closing_at.is_not(None), Tender.closing_at <= utcnow())
        .order_by(Bid.id.desc())))


def trades_in(supplier: Supplier, code: str) -> bool:
    """A supplier registered for a broader code (a segment, family or class) covers its children."""
    return any(code.startswith(c) or c.startswith(code) for c in (supplier.categories or []))


def supplier_rating(supplier: Supplier) -> Decimal | None:
    avg = db.session.execute(
        select(func.sum(GoodsReceipt.rating), func.count(GoodsReceipt.id))
        .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .where(PurchaseOrder.supplier_id == supplier.id)).one()
    if not avg[1]:
        return None
    return quantize(Decimal(int(avg[0])) / Decimal(avg[1]))


def with_ratings(suppliers: list[Supplier]) -> list[Supplier]:
    """:func:`with_rating` for a page of suppliers in one statement (not one per row)."""
    ids = [x.id for x in suppliers]
    sums = {sid: (total, count) for sid, total, count in db.session.execute(
        select(PurchaseOrder.supplier_id, func.sum(GoodsReceipt.rating), func.count(GoodsReceipt.id))
        .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .where(PurchaseOrder.supplier_id.in_(ids)).group_by(PurchaseOrder.supplier_id))} if ids else {}
    for x in suppliers:
        total, count = sums.get(x.id, (None, 0))
        x.rating = quantize(Decimal(int(total)) / Decimal(count)) if count else None
    return suppliers


def with_rating(supplier: Supplier) -> Supplier:
    supplier.rating = supplier_rating(supplier)
    return supplier
