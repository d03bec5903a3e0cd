"""ICT records (DESIGN §5): the service catalogue, subscriptions with their seat periods,
tickets with their SLA clocks, and ticket comments.

Subscriptions and tickets are requests on the spine: each detail record here points to
its :class:`~jof.core.workflow.ServiceRequest` (one to one), which carries the agency,
the requester, the status and the timeline.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.money import Money
from jof.core.people import User
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import ServiceRequest

#: recurring: billed monthly per seat, prorated by day; one_off: billed once when delivered.
SERVICE_KINDS = ("recurring", "one_off")
TICKET_KINDS = ("incident", "service_request")
TICKET_CATEGORIES = ("email", "network", "printing", "hardware", "software", "access", "other")


class IctService(db.Model):
    """An entry of the ICT service catalogue."""

    __tablename__ = "ict_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The price-list item code that prices it, e.g. ``email_account``.
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(12), default="recurring")
    #: Catalogue price in USD: per seat per month (recurring) or per unit (one-off). It
    #: values the delivered service; the price list in force decides what is invoiced.
    unit_price_usd: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def recurring(self) -> bool:
        return self.kind == "recurring"


class IctSubscription(db.Model):
    """An agency's order of a catalogue service: N seats of a recurring service from a
    date (history of seat changes in :class:`SubscriptionPeriod`), or N units of a
    one-off service."""

    __tablename__ = "ict_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("ict_service.id"), index=True)
    #: Seats ordered (recurring) or units (one-off); the periods hold the seats in force.
    seats: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    #: Last day of service (inclusive); None while the subscription runs on.
    ends_on: Mapped[date | None] = mapped_column(Date)
    #: The request of another line this order was filed for (HR's onboarding of a new
    #: person files their e-mail account: ``HRR-2026-00003``); None for the agency's own orders.
    filed_for: Mapped[str | None] = mapped_column(String(30))

    request: Mapped[ServiceRequest] = relationship()
    service: Mapped[IctService] = relationship()
    periods: Mapped[list[SubscriptionPeriod]] = relationship(
        back_populates="subscription", order_by="SubscriptionPeriod.seq", cascade="all, delete-orphan"
    )

    @property
    def current_seats(self) -> int:
        return self.periods[-1].seats if self.periods else self.seats


class SubscriptionPeriod(db.Model):
    """A stretch of days with a constant number of seats; a change of seats ends the
    current period the day before and starts the next one, so history is kept."""

    __tablename__ = "ict_subscription_period"
    __table_args__ = (UniqueConstraint("subscription_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("ict_subscription.id"), index=True)
    #: 1, 2, … in order of time; part of each monthly charge's source reference.
    seq: Mapped[int] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    #: Last day (inclusive); None for the open period.
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    subscription: Mapped[IctSubscription] = relationship(back_populates="periods")


class IctTicket(db.Model):
    """An incident or service request to the ICT service desk, with its SLA clocks.

    The clocks count working time only (the facility's calendar). Both run from
    ``opened_at``; the resolve clock is pushed back by ``paused_seconds``, the working
    time spent waiting on the requester (or resolved, before a reopening).
    """

    __tablename__ = "ict_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="incident")
    category: Mapped[str] = mapped_column(String(30), default="other")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("ict_service.id"))
    #: 1 high, 2 medium, 3 low.
    urgency: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    #: ``P1``–``P4`` from the urgency × impact matrix.
    priority: Mapped[str] = mapped_column(String(2), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    own_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set while the clock is stopped (waiting on the requester, or resolved).
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Working seconds the resolve clock has been stopped so far.
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: Breach flags, set when the ticket was owned / resolved after its due time.
    own_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolve_breached: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[ServiceRequest] = relationship()
    service: Mapped[IctService | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    comments: Mapped[list[TicketComment]] = relationship(
        back_populates="ticket", order_by="TicketComment.id", cascade="all, delete-orphan"
    )


class TicketComment(db.Model):
    __tablename__ = "ict_ticket_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ict_ticket.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[IctTicket] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()
