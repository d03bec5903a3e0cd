"""Travel records (DESIGN §4): the travel request with its itinerary, the provisions that
reduce DSA, the officer's quotes and ticket, the claim, and the DSA rate table.

A travel request is a request on the spine: :class:`TravelRequest` points to its
:class:`~jof.core.workflow.ServiceRequest` (one to one), which carries the agency, the
requester, the status and the timeline.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.money import Money, ScaledDecimal
from jof.core.people import User
from jof.core.statetable import StatusType
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import ServiceRequest

TRAVEL_CLASSES = ("economy", "premium_economy", "business")



class Stage(StrEnum):
    """The facility's step inside ``in_progress`` (DESIGN §4); its moves are the declared
    table ``jof.travel.states.STAGES``. ``NONE`` (shown as "started") until the first step."""

    NONE = ""
    QUOTED = "quoted"
    TICKETED = "ticketed"
    TRAVELLED = "travelled"
    CLAIMED = "claimed"
    SETTLED = "settled"


#: Steps after the ticket was issued: cancelling then costs a fee.
TICKETED_STAGES = (Stage.TICKETED, Stage.TRAVELLED, Stage.CLAIMED, Stage.SETTLED)

#: The city name of a country's fallback DSA rate (``Elsewhere``, as in the ICSC tables).
ELSEWHERE = "Elsewhere"


def fold(city: str) -> str:
    """``São  Paulo`` → ``sao paulo``: how cities are matched against the rate table (the
    ``city_key`` of a rate) and travellers without an account against their other trips."""
    text = unicodedata.normalize("NFKD", city or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


class DsaRate(db.Model):
    """A location's DSA rate from an effective month until a later month's rate replaces it."""

    __tablename__ = "dsa_rate"
    __table_args__ = (UniqueConstraint("country", "city_key", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(100))
    #: The city folded for matching: no accents, case-folded (``sao paulo``).
    city_key: Mapped[str] = mapped_column(String(100))
    #: ISO 3166 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    #: First day of the month from which the rate applies.
    month: Mapped[date] = mapped_column(Date)
    usd_per_night: Mapped[Decimal] = mapped_column(Money)
    #: Share of the rate that pays for the room, in percent (removed when accommodation is provided).
    room_pct: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def location(self) -> str:
        return f"{self.city}, {self.country}"


class TravelRequest(db.Model):
    """The travel details of a ``TRV-…`` request."""

    __tablename__ = "travel_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    #: The traveller when they have an account (else only the name is known).
    traveller_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    traveller_name: Mapped[str] = mapped_column(String(200))
    #: Case-folded name, to find the same traveller's other trips.
    traveller_key: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    travel_class: Mapped[str] = mapped_column(String(20), default="economy")
    needs_ticket: Mapped[bool] = mapped_column(Boolean, default=True)
    needs_visa: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_dsa: Mapped[bool] = mapped_column(Boolean, default=True)
    advance_requested: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The facility's step inside ``in_progress``; changed only through ``states.STAGES``.
    stage: Mapped[Stage] = mapped_column(StatusType(Stage, 20), default=Stage.NONE)
    #: First departure and last arrival of the planned itinerary (for overlap checks).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    #: The DSA estimate of the planned itinerary: explained lines (strings) and total.
    estimate_lines: Mapped[list] = mapped_column(JSON, default=list)
    estimate_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: Paid before travel when requested (fixed at approval).
    advance_usd: Mapped[Decimal | None] = mapped_column(Money)

    carrier: Mapped[str | None] = mapped_column(String(100))
    booking_reference: Mapped[str | None] = mapped_column(String(40))
    fare: Mapped[Decimal | None] = mapped_column(Money)
    fare_currency: Mapped[str | None] = mapped_column(String(3))
    fare_usd: Mapped[Decimal | None] = mapped_column(Money)
    ticketed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticketed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    travelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claim_lines: Mapped[list | None] = mapped_column(JSON)
    claim_total: Mapped[Decimal | None] = mapped_column(Money)
    #: Actual DSA minus the advance: paid on settlement (negative: recovered).
    claim_balance: Mapped[Decimal | None] = mapped_column(Money)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cancellation_fee: Mapped[Decimal | None] = mapped_column(Money)
    cancellation_fee_currency: Mapped[str | None] = mapped_column(String(3))
    cancellation_fee_usd: Mapped[Decimal | None] = mapped_column(Money)

    request: Mapped[ServiceRequest] = relationship()
    traveller: Mapped[User | None] = relationship(foreign_keys=[traveller_id])
    ticketed_by: Mapped[User | None] = relationship(foreign_keys=[ticketed_by_id])
    legs: Mapped[list[TravelLeg]] = relationship(
        back_populates="travel", order_by="TravelLeg.seq", cascade="all, delete-orphan")
    provisions: Mapped[list[TravelProvision]] = relationship(
        back_populates="travel", order_by="TravelProvision.night", cascade="all, delete-orphan")
    quotes: Mapped[list[TravelQuote]] = relationship(
        back_populates="travel", order_by="TravelQuote.id", cascade="all, delete-orphan")

    @property
    def planned_legs(self) -> list[TravelLeg]:
        return sorted((leg for leg in self.legs if leg.kind == "planned"), key=lambda leg: leg.seq)

    @property
    def actual_legs(self) -> list[TravelLeg]:
        return sorted((leg for leg in self.legs if leg.kind == "actual"), key=lambda leg: leg.seq)

    @property
    def claim_difference(self) -> Decimal | None:
        return None if self.claim_total is None else self.claim_total - self.estimate_total


class TravelLeg(db.Model):
    """One leg of the itinerary: planned when filed, actual when the claim is filed."""

    __tablename__ = "travel_leg"
    __table_args__ = (UniqueConstraint("travel_id", "kind", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    travel_id: Mapped[int] = mapped_column(ForeignKey("travel_request.id"), index=True)
    #: ``planned`` or ``actual``.
    kind: Mapped[str] = mapped_column(String(10), default="planned")
    seq: Mapped[int] = mapped_column(Integer)
    origin_city: Mapped[str] = mapped_column(String(100))
    origin_country: Mapped[str] = mapped_column(String(2))
    destination_city: Mapped[str] = mapped_column(String(100))
    destination_country: Mapped[str] = mapped_column(String(2))
    depart_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arrive_at: Mapped[datetime] = mapped_column(UTCDateTime)

    travel: Mapped[TravelRequest] = relationship(back_populates="legs")


class TravelProvision(db.Model):
    """Accommodation or meals the host provides on a night of the trip."""

    __tablename__ = "travel_provision"
    __table_args__ = (UniqueConstraint("travel_id", "night"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    travel_id: Mapped[int] = mapped_column(ForeignKey("travel_request.id"), index=True)
    night: Mapped[date] = mapped_column(Date)
    accommodation: Mapped[bool] = mapped_column(Boolean, default=False)
    breakfast: Mapped[bool] = mapped_column(Boolean, default=False)
    lunch: Mapped[bool] = mapped_column(Boolean, default=False)
    dinner: Mapped[bool] = mapped_column(Boolean, default=False)

    travel: Mapped[TravelRequest] = relationship(back_populates="provisions")


class TravelQuote(db.Model):
    """A fare the travel officer obtained before ticketing."""

    __tablename__ = "travel_quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    travel_id: Mapped[int] = mapped_column(ForeignKey("travel_request.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(100))
    fare: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    travel: Mapped[TravelRequest] = relationship(back_populates="quotes")
