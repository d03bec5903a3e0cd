"""Monitoring tables (DESIGN §8): service-level agreements and the working time each
completed request took, captured once when it completes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.people import Agency, User
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import ServiceRequest
from jof.procurement.models import PurchaseOrder


class ServiceLevelAgreement(db.Model):
    """The service levels the facility owes one agency (or, with no agency, every agency
    that has none of its own) from ``valid_from`` until ``valid_to`` (inclusive; open-ended
    when empty). Two agreements of the same agency never overlap."""

    __tablename__ = "monitoring_sla"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: the facility-wide default.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: Reference of the signed agreement (registry number, letter, memo).
    reference: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: The signed document: a PDF checked by its first bytes, at most 5 MB.
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    recorded_by: Mapped[User] = relationship()
    targets: Mapped[list[SlaTarget]] = relationship(
        back_populates="sla", cascade="all, delete-orphan", order_by="SlaTarget.kind")


class SlaTarget(db.Model):
    """One target of an agreement: for a service kind (``procurement.rfq``, ``ict.P2``…)
    the working time allowed, in the kind's unit (working days or working hours, see
    :data:`jof.monitoring.targets.KINDS`)."""

    __tablename__ = "monitoring_sla_target"
    __table_args__ = (UniqueConstraint("sla_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sla.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: Working days or working hours, by kind.
    amount: Mapped[int] = mapped_column(Integer)

    sla: Mapped[ServiceLevelAgreement] = relationship(back_populates="targets")


class RequestClock(db.Model):
    """The working time one completed request took for one service kind, and whether it
    was within the target in force when it started. A call-off under a long-term
    agreement has no request (it is placed as its purchase order): its clock names the
    order instead. Written once, when the clock stops: working time needs the facility calendar (hours, week-ends, holidays, time
    zone), which SQL cannot apply portably, so it is taken at completion and every
    measure is then a plain SQL aggregate over these rows."""

    __tablename__ = "monitoring_clock"
    __table_args__ = (
        UniqueConstraint("request_id", "kind"),
        # Each clock measures a request or a call-off's order, never both (migration mon2).
        CheckConstraint("(request_id IS NULL) <> (purchase_order_id IS NULL)", name="one_subject"),
        Index("ix_monitoring_clock_period", "ended_at", "line", "agency_id"),
        # The dashboard's percentiles per kind read the clocks in this order (migration perf2).
        Index("ix_monitoring_clock_kind_time", "kind", "working_seconds",
              postgresql_include=["ended_at", "within_target", "target_seconds", "agency_id", "line"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"),
                                                   index=True)
    #: A call-off's purchase order (an LTA call-off is no request): one clock each.
    purchase_order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order.id", ondelete="CASCADE"),
                                                          unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    line: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Working seconds from start to end on the facility calendar.
    working_seconds: Mapped[int] = mapped_column(Integer)
    #: None when no agreement sets a target for the kind.
    target_seconds: Mapped[int | None] = mapped_column(Integer)
    within_target: Mapped[bool | None] = mapped_column(Boolean)
    #: The step during which the target ran out (``approval``, ``assignment``, ``delivery``…).
    late_step: Mapped[str | None] = mapped_column(String(30))

    request: Mapped[ServiceRequest | None] = relationship()
    purchase_order: Mapped[PurchaseOrder | None] = relationship()
