"""Procurement (DESIGN §3): suppliers, the manual, requisitions, joint tenders, orders, LTAs.

Amounts are Decimal stored as integer minor units (jof.core.money). Bids and orders
are in USD: the facility tenders in its base currency, requisitions may be estimated
in any currency the UN operational rates cover.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.money import Money, ScaledDecimal, UnitPrice
from jof.core.people import Agency, User
from jof.core.statetable import StatusType
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import ServiceRequest

#: Quantities may be fractional (metres, litres) to two decimals.
Quantity = ScaledDecimal(2)
#: Technical scores 0–100 with two decimals; evaluation terms carry four.
Score = ScaledDecimal(2)

METHODS = ("micro_purchase", "rfq", "itb")
EVALUATION_METHODS = ("lowest_price", "cumulative")


class SupplierStatus(StrEnum):
    #: Never awarded, never bids, unless active.
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEBARRED = "debarred"


SUPPLIER_STATUSES = tuple(SupplierStatus)


class TenderStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    #: Every lot awarded.
    AWARDED = "awarded"
    #: Kept for tenders withdrawn before this table existed; no move leads here yet.
    CANCELLED = "cancelled"


class LotStatus(StrEnum):
    OPEN = "open"
    AWARDED = "awarded"


class OrderStatus(StrEnum):
    ISSUED = "issued"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"


TENDER_STATUSES = tuple(TenderStatus)


class ProcurementManual(db.Model):
    """One version of the procurement manual; the version in force on a day decides the method.

    Thresholds are in USD and inclusive at the lower end (DESIGN §3): below
    ``rfq_from_usd`` a micro-purchase, from it an RFQ, from ``itb_from_usd`` an
    invitation to bid; contracts committee review from ``committee_from_usd``.
    """

    __tablename__ = "procurement_manual"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    rfq_from_usd: Mapped[Decimal] = mapped_column(Money)
    itb_from_usd: Mapped[Decimal] = mapped_column(Money)
    committee_from_usd: Mapped[Decimal] = mapped_column(Money)
    micro_min_quotes: Mapped[int] = mapped_column(Integer, default=1)
    rfq_min_quotes: Mapped[int] = mapped_column(Integer, default=3)
    rfq_min_working_days: Mapped[int] = mapped_column(Integer, default=5)
    itb_min_offers: Mapped[int] = mapped_column(Integer, default=3)
    itb_min_working_days: Mapped[int] = mapped_column(Integer, default=20)
    technical_minimum: Mapped[Decimal] = mapped_column(Score)
    technical_weight: Mapped[Decimal] = mapped_column(Score)
    financial_weight: Mapped[Decimal] = mapped_column(Score)
    #: The board's decision that adopted the version (None for the founding version).
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Supplier(db.Model):
    __tablename__ = "supplier"
    __table_args__ = (UniqueConstraint("country", "tax_id", name="uq_supplier_country_tax_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2))
    #: CNPJ in Brazil; unique per country.
    tax_id: Mapped[str] = mapped_column(String(40))
    #: UNSPSC codes (2 to 8 digits) the supplier trades in; a prefix covers its children.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[SupplierStatus] = mapped_column(StatusType(SupplierStatus, 12), default=SupplierStatus.ACTIVE,
                                                   index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Requisition(db.Model):
    """An agency's need, the procurement detail of a ``PRC`` service request."""

    __tablename__ = "requisition"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    justification: Mapped[str] = mapped_column(Text, default="")
    needed_by: Mapped[date | None] = mapped_column(Date)
    budget_code: Mapped[str] = mapped_column(String(60), default="")
    #: Sum of the lines in USD at the operational rate of the month it was (re)estimated.
    estimate_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: The day whose month's rate converted the estimate (submission date once submitted).
    estimated_on: Mapped[date] = mapped_column(Date)
    manual_id: Mapped[int | None] = mapped_column(ForeignKey("procurement_manual.id"))
    method: Mapped[str | None] = mapped_column(String(20))
    committee_required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The rule of the manual that decided the method, in words, as applied.
    method_rule: Mapped[str] = mapped_column(Text, default="")
    #: Set at submission when the agency bought the same UNSPSC class within 12 months.
    splitting_warning: Mapped[str] = mapped_column(Text, default="")
    splitting_acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    splitting_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[ServiceRequest] = relationship()
    manual: Mapped[ProcurementManual | None] = relationship()
    lines: Mapped[list[RequisitionLine]] = relationship(
        back_populates="requisition", order_by="RequisitionLine.line_no", cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        return self.request.reference

    @property
    def agency(self) -> Agency:
        return self.request.agency


class RequisitionLine(db.Model):
    __tablename__ = "requisition_line"
    __table_args__ = (UniqueConstraint("requisition_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisition.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    #: UNSPSC commodity code, 8 digits; its first 6 digits are the class lots group by.
    unspsc: Mapped[str] = mapped_column(String(8), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    currency: Mapped[str] = mapped_column(String(3))
    estimate_usd: Mapped[Decimal] = mapped_column(Money)

    requisition: Mapped[Requisition] = relationship(back_populates="lines")

    @property
    def unspsc_class(self) -> str:
        return self.unspsc[:6]


class Tender(db.Model):
    """A joint tender: approved requisitions of one or more agencies, bought once, in lots."""

    __tablename__ = "tender"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``TND-2026-00003``, gapless per year.
    number: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))
    evaluation_method: Mapped[str] = mapped_column(String(20))
    status: Mapped[TenderStatus] = mapped_column(StatusType(TenderStatus, 12), default=TenderStatus.DRAFT,
                                                 index=True)
    manual_id: Mapped[int] = mapped_column(ForeignKey("procurement_manual.id"))
    #: Copied from the manual when the tender is created, so a later version cannot
    #: change the rules of a running tender.
    technical_minimum: Mapped[Decimal] = mapped_column(Score)
    technical_weight: Mapped[Decimal] = mapped_column(Score)
    financial_weight: Mapped[Decimal] = mapped_column(Score)
    closing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    manual: Mapped[ProcurementManual] = relationship()
    created_by: Mapped[User] = relationship()
    lots: Mapped[list[Lot]] = relationship(back_populates="tender", order_by="Lot.number",
                                           cascade="all, delete-orphan")


class Lot(db.Model):
    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    #: UNSPSC class (first 6 digits) every line of the lot shares.
    unspsc_class: Mapped[str] = mapped_column(String(6))
    estimate_usd: Mapped[Decimal] = mapped_column(Money)
    committee_required: Mapped[bool] = mapped_column(Boolean, default=False)
    committee_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    committee_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    awarded_bid_id: Mapped[int | None] = mapped_column(
        ForeignKey("bid.id", use_alter=True, name="fk_lot_awarded_bid_id_bid", ondelete="SET NULL"))
    award_justification: Mapped[str] = mapped_column(Text, default="")
    award_total: Mapped[Decimal | None] = mapped_column(Money)
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: open → awarded (the lot's state table is in states.py).
    status: Mapped[LotStatus] = mapped_column(StatusType(LotStatus, 12), default=LotStatus.OPEN,
                                              server_default=LotStatus.OPEN.value)
    #: The evaluation the award was made on, frozen at the award: every bid's price,
    #: scores, rank and reason, the weights, the committee's sign-off. A supplier
    #: suspended later changes what ``evaluate()`` says today, never this record.
    award_record: Mapped[dict | None] = mapped_column(JSON)

    tender: Mapped[Tender] = relationship(back_populates="lots")
    lines: Mapped[list[LotLine]] = relationship(back_populates="lot", order_by="LotLine.id",
                                                cascade="all, delete-orphan")
    bids: Mapped[list[Bid]] = relationship(back_populates="lot", order_by="Bid.id",
                                           foreign_keys="Bid.lot_id", cascade="all, delete-orphan")
    awarded_bid: Mapped[Bid | None] = relationship(foreign_keys=[awarded_bid_id], post_update=True)


class LotLine(db.Model):
    """A requisition line placed in a lot; each requisition line is tendered once."""

    __tablename__ = "lot_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    requisition_line_id: Mapped[int] = mapped_column(ForeignKey("requisition_line.id"), unique=True)

    lot: Mapped[Lot] = relationship(back_populates="lines")
    requisition_line: Mapped[RequisitionLine] = relationship()


class Bid(db.Model):
    __tablename__ = "bid"
    __table_args__ = (UniqueConstraint("lot_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: 0–100, from the evaluation panel (cumulative method).
    technical_score: Mapped[Decimal | None] = mapped_column(Score)
    technically_compliant: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Sum of the line amounts, each rounded to the cent: what an award commits.
    total_usd: Mapped[Decimal] = mapped_column(Money)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    lot: Mapped[Lot] = relationship(back_populates="bids", foreign_keys=[lot_id])
    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list[BidLine]] = relationship(back_populates="bid", order_by="BidLine.id",
                                                cascade="all, delete-orphan")


class BidLine(db.Model):
    __tablename__ = "bid_line"
    __table_args__ = (UniqueConstraint("bid_id", "lot_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    lot_line_id: Mapped[int] = mapped_column(ForeignKey("lot_line.id"))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    #: quantity × unit price, rounded half up to the cent.
    amount_usd: Mapped[Decimal] = mapped_column(Money)

    bid: Mapped[Bid] = relationship(back_populates="lines")
    lot_line: Mapped[LotLine] = relationship()


lta_agency = Table(
    "lta_agency", db.metadata,
    Column("lta_id", ForeignKey("lta.id"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)


class LongTermAgreement(db.Model):
    __tablename__ = "lta"
    #: An awarded lot becomes at most one agreement.
    __table_args__ = (Index("uq_lta_lot_id", "lot_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    #: Last day call-offs may be placed; at most three years after valid_from.
    valid_to: Mapped[date] = mapped_column(Date)
    ceiling_usd: Mapped[Decimal] = mapped_column(Money)
    #: The lot whose award became this agreement, if any.
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier: Mapped[Supplier] = relationship()
    agencies: Mapped[list[Agency]] = relationship(secondary=lta_agency, order_by="Agency.code")
    lines: Mapped[list[LtaLine]] = relationship(back_populates="lta", order_by="LtaLine.id",
                                                cascade="all, delete-orphan")


class LtaLine(db.Model):
    __tablename__ = "lta_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    lta_id: Mapped[int] = mapped_column(ForeignKey("lta.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    unspsc: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)

    lta: Mapped[LongTermAgreement] = relationship(back_populates="lines")


class PurchaseOrder(db.Model):
    """One agency's order from a supplier: from a lot's award, or a call-off under an LTA."""

    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``PO-2026-00001``, gapless per year.
    number: Mapped[str] = mapped_column(String(30), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    requisition_id: Mapped[int | None] = mapped_column(ForeignKey("requisition.id"), index=True)
    lta_id: Mapped[int | None] = mapped_column(ForeignKey("lta.id"), index=True)
    #: Price-list item the order's receipt is charged under (rfq_process, lta_call_off, …).
    service_item: Mapped[str] = mapped_column(String(40))
    total_usd: Mapped[Decimal] = mapped_column(Money)
    #: issued → partially_received → received
    status: Mapped[OrderStatus] = mapped_column(StatusType(OrderStatus, 20), default=OrderStatus.ISSUED,
                                                index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    agency: Mapped[Agency] = relationship()
    supplier: Mapped[Supplier] = relationship()
    lot: Mapped[Lot | None] = relationship()
    requisition: Mapped[Requisition | None] = relationship()
    lta: Mapped[LongTermAgreement | None] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", order_by="PurchaseOrderLine.id", cascade="all, delete-orphan")
    receipts: Mapped[list[GoodsReceipt]] = relationship(
        back_populates="order", order_by="GoodsReceipt.id", cascade="all, delete-orphan")


class PurchaseOrderLine(db.Model):
    __tablename__ = "purchase_order_line"
    #: A requisition line is ordered once: two awards of one lot cannot both write their
    #: orders, whatever the application checks (NULLs, the call-off lines, stay free).
    __table_args__ = (Index("uq_purchase_order_line_requisition_line_id", "requisition_line_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    requisition_line_id: Mapped[int | None] = mapped_column(ForeignKey("requisition_line.id"))
    lta_line_id: Mapped[int | None] = mapped_column(ForeignKey("lta_line.id"))
    description: Mapped[str] = mapped_column(String(500))
    unspsc: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    amount_usd: Mapped[Decimal] = mapped_column(Money)
    received_quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0.00"))

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")


class GoodsReceipt(db.Model):
    __tablename__ = "goods_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    #: 1–5: how the supplier performed on this delivery (its rating is the average).
    rating: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[PurchaseOrder] = relationship(back_populates="receipts")
    lines: Mapped[list[GoodsReceiptLine]] = relationship(cascade="all, delete-orphan")


class GoodsReceiptLine(db.Model):
    __tablename__ = "goods_receipt_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("goods_receipt.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_line.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
