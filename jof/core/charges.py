"""Chargeable events: what a service line delivered that the facility will bill.

Every line (procurement receipts, travel tickets, ICT subscriptions) records delivered
services through :func:`record`; billing prices them with the price list in force and
owns the ledger built on them. One event per source reference, held by a unique
constraint: recording the same delivery twice returns the first event and writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core import audit
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.money import Money, ScaledDecimal, to_decimal
from jof.core.people import Agency
from jof.core.timeutil import UTCDateTime, utcnow

#: fee: priced by the price list; pass_through: a cost paid on the agency's behalf.
KINDS = ("fee", "pass_through")

#: Called with (actor, event) for every newly recorded event (billing posts it to its ledger).
_after_record: list = []


def after_record(fn) -> None:
    if fn not in _after_record:
        _after_record.append(fn)


#: Lines that bill by the month (ICT subscriptions), by name: called by the period close
#: with (actor, month) before it totals the month; each returns a note for the manager.
_monthly_billers: dict = {}


def register_monthly_biller(name: str, fn) -> None:
    """A line's ``install(app)`` names its monthly billing here (billing never imports it)."""
    _monthly_billers[name] = fn


def run_monthly_billers(actor, month) -> list[str]:
    return [note for _, fn in sorted(_monthly_billers.items()) if (note := fn(actor, month))]


#: The price list's answer to "what fee would this delivery draw": (item, quantity,
#: value_usd, on) → Decimal, or None when no fee is in force. Registered by the line that
#: owns the price list, so a line that shares one fee among agencies (a joint tender)
#: can apply its rule without importing billing.
_fee_quote: list = []


def register_fee_quote(fn) -> None:
    _fee_quote[:] = [fn]


def quote_fee(service_item: str, quantity, value_usd, on: date) -> Decimal | None:
    """The fee the price list in force ``on`` puts on a delivery; None without a price list
    (or without that item)."""
    return _fee_quote[0](service_item, to_decimal(quantity), to_decimal(value_usd), on) if _fee_quote else None


class ChargeableEvent(db.Model):
    __tablename__ = "chargeable_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. ``PO-2026-00012/receipt/3`` or ``ICT-SUB-7/2026-11``: unique per delivery.
    source_ref: Mapped[str] = mapped_column(String(120), unique=True)
    service_line: Mapped[str] = mapped_column(String(20), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: Price-list item code, e.g. ``ticket_issuance``, ``rfq_process``, ``email_account``.
    service_item: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(15), default="fee")
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    #: Value of what was delivered in USD (pass-through cost, or the base of a % fee).
    value_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: A fee the delivering line already fixed from the price list under a rule of its
    #: own (a joint tender's one process fee, shared among its agencies): billing posts
    #: it as is. None for every other fee, which billing prices from ``service_item``.
    fee_usd: Mapped[Decimal | None] = mapped_column(Money)
    delivered_on: Mapped[date] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()


def record(actor, **kwargs) -> ChargeableEvent:
    """Record a delivered service once; a second call for the same source returns the first.
    The arguments are those of :func:`record_new`."""
    return record_new(actor, **kwargs)[0]


def record_new(actor, *, source_ref: str, service_line: str, agency: Agency, service_item: str,
               quantity, value_usd=Decimal("0.00"), delivered_on: date, kind: str = "fee",
               description: str = "", fee_usd=None) -> tuple[ChargeableEvent, bool]:
    """Record a delivered service once: (the event, whether this call created it). A call
    for a source recorded before, or by a concurrent transaction a moment ago, returns
    that event and False."""
    existing = db.session.scalar(select(ChargeableEvent).where(ChargeableEvent.source_ref == source_ref))
    if existing is not None:
        return existing, False
    if kind not in KINDS:
        raise ValidationFailed({"kind": [f"Use one of: {', '.join(KINDS)}."]})
    quantity = to_decimal(quantity)
    if quantity <= 0:
        raise ValidationFailed({"quantity": ["Must be positive."]})
    if fee_usd is not None and (kind != "fee" or to_decimal(fee_usd) < 0):
        raise ValidationFailed({"fee_usd": ["A fixed amount is for a fee, and not negative."]})
    event = ChargeableEvent(source_ref=source_ref, service_line=service_line, agency_id=agency.id,
                            service_item=service_item, kind=kind, quantity=quantity,
                            value_usd=to_decimal(value_usd), delivered_on=delivered_on,
                            fee_usd=None if fee_usd is None else to_decimal(fee_usd),
                            description=description, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:
        # Recorded a moment ago by a concurrent request.
        return db.session.scalar(select(ChargeableEvent).where(ChargeableEvent.source_ref == source_ref)), False
    audit.record(actor, "charge.event", event, after=audit.snapshot(event))
    for fn in _after_record:
        fn(actor, event)
    return event, True
