"""The columns of procurement's lists (requisitions, joint tenders, purchase orders): what
each page shows, sorts by and exports (see :mod:`jof.core.listing`), and the words the
pages show for procurement's codes."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from jof.core.db import db
from jof.core.listing import Column, Listing
from jof.core.money import quantize
from jof.core.people import Agency
from jof.core.templating import status_label
from jof.core.workflow import ServiceRequest
from jof.procurement.models import (
    GoodsReceipt,
    LongTermAgreement,
    PurchaseOrder,
    Requisition,
    Supplier,
    Tender,
)

#: Words for the codes the pages show (supplier, tender and order states, methods); the
#: English words stay the codes' own, so a page reads the same as before in English.
WORDS = {
    "active": _l("Active"), "suspended": _l("Suspended"), "debarred": _l("Debarred"),
    "draft": _l("draft"), "published": _l("published"), "awarded": _l("awarded"), "cancelled": _l("cancelled"),
    "issued": _l("issued"), "partially_received": _l("partially received"), "received": _l("received"),
    "micro_purchase": _l("micro-purchase"), "rfq": _l("RFQ"), "itb": _l("ITB"),
    "lowest_price": _l("lowest price"), "cumulative": _l("cumulative"),
}


def word(code: str | None) -> str:
    return str(WORDS[code]) if code in WORDS else (code or "—")


_request_agency = select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()

REQUISITIONS = Listing(
    "requisitions",
    (
        Column("reference", _l("Reference"), lambda r: r.reference, ServiceRequest.reference),
        Column("agency", _l("Agency"), lambda r: r.agency.code, _request_agency),
        Column("title", _l("Title"), lambda r: r.request.title, ServiceRequest.title),
        Column("estimate_usd", _l("Estimate"), lambda r: r.estimate_usd, Requisition.estimate_usd),
        Column("method", _l("Method"), lambda r: word(r.method), Requisition.method),
        Column("status", _l("Status"), lambda r: status_label(r.request.status), ServiceRequest.status),
    ),
    default_sort="reference",
    tiebreak=(Requisition.id.desc(),),
)
#: Nothing more: the line's query joins the spine and loads its agency itself.
REQUISITION_LOADS: tuple = ()

TENDERS = Listing(
    "tenders",
    (
        Column("number", _l("Number"), lambda t: t.number, Tender.number),
        Column("title", _l("Title"), lambda t: t.title, Tender.title),
        Column("method", _l("Method"), lambda t: word(t.method), Tender.method),
        Column("evaluation", _l("Evaluation"), lambda t: word(t.evaluation_method), Tender.evaluation_method),
        Column("closes", _l("Closes"), lambda t: t.closing_at, Tender.closing_at),
        Column("status", _l("Status"), lambda t: word(t.status), Tender.status),
    ),
    default_sort="number",
    tiebreak=(Tender.id.desc(),),
)

_order_agency = select(Agency.code).where(Agency.id == PurchaseOrder.agency_id).scalar_subquery()
_order_supplier = select(Supplier.name).where(Supplier.id == PurchaseOrder.supplier_id).scalar_subquery()

ORDERS = Listing(
    "purchase-orders",
    (
        Column("number", _l("Number"), lambda po: po.number, PurchaseOrder.number),
        Column("agency", _l("Agency"), lambda po: po.agency.code, _order_agency),
        Column("supplier", _l("Supplier"), lambda po: po.supplier.name, _order_supplier),
        Column("total_usd", _l("Total"), lambda po: po.total_usd, PurchaseOrder.total_usd),
        Column("status", _l("Status"), lambda po: word(po.status), PurchaseOrder.status),
    ),
    default_sort="number",
    tiebreak=(PurchaseOrder.id.desc(),),
)
ORDER_LOADS = (selectinload(PurchaseOrder.agency), selectinload(PurchaseOrder.supplier))


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def with_ratings(rows: list[Supplier]) -> list[Supplier]:
    """Each supplier's rating (the mean of its goods receipts' ratings, as
    :func:`jof.procurement.suppliers.supplier_rating`) in one statement per 500 rows."""
    found: dict[int, tuple] = {}
    for ids in _chunks([r.id for r in rows]):
        found.update({sid: (total, n) for sid, total, n in db.session.execute(
            select(PurchaseOrder.supplier_id, func.sum(GoodsReceipt.rating), func.count(GoodsReceipt.id))
            .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
            .where(PurchaseOrder.supplier_id.in_(ids)).group_by(PurchaseOrder.supplier_id))})
    for r in rows:
        total, n = found.get(r.id, (None, 0))
        r.rating = quantize(Decimal(int(total)) / Decimal(n)) if n else None
    return rows


SUPPLIERS = Listing(
    "suppliers",
    (
        Column("name", _l("Name"), lambda s: s.name, Supplier.name),
        Column("country", _l("Country"), lambda s: s.country, Supplier.country),
        Column("tax_id", _l("Tax id"), lambda s: s.tax_id, Supplier.tax_id),
        Column("unspsc", "UNSPSC", lambda s: ", ".join(s.categories or [])),
        Column("status", _l("Status"), lambda s: word(s.status), Supplier.status),
        Column("rating", _l("Rating"), lambda s: s.rating),
    ),
    default_sort="name",
    default_dir="asc",
    tiebreak=(Supplier.id,),
)


def with_consumed(rows: list[LongTermAgreement]) -> list[LongTermAgreement]:
    """What each agreement's call-off orders consumed, in one statement per 500 rows."""
    found: dict[int, Decimal] = {}
    for ids in _chunks([r.id for r in rows]):
        found.update(dict(db.session.execute(
            select(PurchaseOrder.lta_id, func.sum(PurchaseOrder.total_usd))
            .where(PurchaseOrder.lta_id.in_(ids)).group_by(PurchaseOrder.lta_id)).all()))
    for r in rows:
        r.consumed_usd = Decimal(found.get(r.id) or 0).quantize(Decimal("0.01"))
    return rows


LTAS = Listing(
    "long-term-agreements",
    (
        Column("title", _l("Title"), lambda a: a.title, LongTermAgreement.title),
        Column("supplier", _l("Supplier"),  lambda a: a.supplier.name,
               select(Supplier.name).where(Supplier.id == LongTermAgreement.supplier_id).scalar_subquery()),
        Column("valid_from", _l("Valid from"), lambda a: a.valid_from, LongTermAgreement.valid_from),
        Column("valid_to", _l("Valid to"), lambda a: a.valid_to, LongTermAgreement.valid_to),
        Column("agencies", _l("Agencies"), lambda a: ", ".join(ag.code for ag in a.agencies)),
        Column("consumed_usd", _l("Used"), lambda a: a.consumed_usd),
        Column("ceiling_usd", _l("Ceiling"), lambda a: a.ceiling_usd, LongTermAgreement.ceiling_usd),
    ),
    default_sort="valid_to",
    tiebreak=(LongTermAgreement.id.desc(),),
)
LTA_LOADS = (selectinload(LongTermAgreement.supplier), selectinload(LongTermAgreement.agencies))
