"""The billing ledger: price lists, charges, periods, invoices, credit notes, payments, jobs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.billing.states import InvoiceStatus, PeriodStatus
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.money import Money, Rate, ScaledDecimal, UnitPrice
from jof.core.people import Agency
from jof.core.statetable import StatusType
from jof.core.timeutil import UTCDateTime, utcnow

METHODS = ("flat", "percentage")
LINE_KINDS = ("fee", "pass_through", "cost_share")


class PriceList(db.Model):
    """One version of the facility's fees, in force from ``effective_from`` until the next."""

    __tablename__ = "price_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    #: The board decision that adopted it (None for the founding list of the demo).
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PriceItem]] = relationship(back_populates="price_list", order_by="PriceItem.code",
                                                  cascade="all, delete-orphan")


class PriceItem(db.Model):
    __tablename__ = "price_item"
    __table_args__ = (UniqueConstraint("price_list_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id", ondelete="CASCADE"), index=True)
    #: The service item code the lines record, e.g. ``ticket_issuance``.
    code: Mapped[str] = mapped_column(String(60))
    service_line: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    #: per ticket, per process, per seat per month…
    unit: Mapped[str] = mapped_column(String(40))
    #: flat: ``amount`` per unit; percentage: ``rate`` % of the delivered value, within floor and cap.
    method: Mapped[str] = mapped_column(String(12), default="flat")
    amount: Mapped[Decimal | None] = mapped_column(UnitPrice)
    rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    floor: Mapped[Decimal | None] = mapped_column(Money)
    cap: Mapped[Decimal | None] = mapped_column(Money)

    price_list: Mapped[PriceList] = relationship(back_populates="items")


class BillingPeriod(db.Model):
    """A month of billing; once closed its charges and allocations are frozen."""

    __tablename__ = "billing_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: First day of the month.
    month: Mapped[date] = mapped_column(Date, unique=True)
    #: open | closed (``states.PERIOD``)
    status: Mapped[PeriodStatus] = mapped_column(StatusType(PeriodStatus, 10), default=PeriodStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    summary: Mapped[dict | None] = mapped_column(JSON)


class Charge(db.Model):
    """A priced chargeable event; one per event, so one per source reference."""

    __tablename__ = "charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("chargeable_event.id"), unique=True)
    source_ref: Mapped[str] = mapped_column(String(120), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: The month billed: the delivery month, or the next open one if that was closed.
    period: Mapped[date] = mapped_column(Date, index=True)
    service_line: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(15))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    unit_price: Mapped[Decimal | None] = mapped_column(UnitPrice)
    amount: Mapped[Decimal] = mapped_column(Money)
    delivered_on: Mapped[date] = mapped_column(Date)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"))
    #: Why the charge sits where it does (e.g. delivered in a closed period).
    note: Mapped[str] = mapped_column(Text, default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[ChargeableEvent] = relationship()
    agency: Mapped[Agency] = relationship()


class Invoice(db.Model):
    """An agency's invoice for one month; immutable once issued (corrections are credit notes)."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("agency_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``JOF-2026-00001``: given at issue, gapless per year.
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    #: draft | issued (``states.INVOICE``); what the agency reads (paid, credited, overdue …)
    #: is derived from payments, credit notes and dates (``balances.standing``).
    status: Mapped[InvoiceStatus] = mapped_column(StatusType(InvoiceStatus, 10), default=InvoiceStatus.DRAFT)
    total_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    local_currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: UN operational rate of the invoice month: local units per USD.
    exchange_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("1"))
    total_local: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position",
                                                    cascade="all, delete-orphan")
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")
    credit_notes: Mapped[list[CreditNote]] = relationship(back_populates="invoice", order_by="CreditNote.id")


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: fee | pass_through | cost_share
    kind: Mapped[str] = mapped_column(String(15))
    service_line: Mapped[str] = mapped_column(String(30))
    item_code: Mapped[str] = mapped_column(String(60), default="")
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    unit_price: Mapped[Decimal | None] = mapped_column(UnitPrice)
    amount: Mapped[Decimal] = mapped_column(Money)
    #: For a cost share: inputs, weights and rounding (governance's explanation).
    explanation: Mapped[dict | None] = mapped_column(JSON)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class CreditNote(db.Model):
    """A correction of an issued invoice: ``CN-2026-00001``, full or partial."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes")


class Payment(db.Model):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(120))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
