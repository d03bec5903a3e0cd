"""The columns of procurement's lists (requisitions, joint tenders, purchase orders): what
each page shows, sorts by and exports (see :mod:`jof.core.listing`), and the words the
pages show for procurement's codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jof.core.listing import Column, Listing
from jof.core.people import Agency
from jof.core.templating import status_label
from jof.core.workflow import ServiceRequest
from jof.procurement.models import PurchaseOrder, Requisition, Supplier, Tender

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
REQUISITION_LOADS = (selectinload(Requisition.request).selectinload(ServiceRequest.agency),)

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
