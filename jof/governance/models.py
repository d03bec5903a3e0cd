"""The board: decisions, the voting members snapshot, votes, cost-sharing keys, cost pools
and recorded allocations (DESIGN §6, §7)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.money import Money
from jof.core.people import Agency, User
from jof.core.statetable import StatusType
from jof.core.timeutil import UTCDateTime, utcnow
from jof.governance.states import DecisionStatus, EffectStatus, Outcome

KINDS = ("general", "budget", "cost_sharing_key", "price_list", "procurement_manual", "membership")
#: Kinds whose adopted payload changes the system by itself.
EFFECT_KINDS = ("cost_sharing_key", "price_list", "procurement_manual", "membership")
THRESHOLDS = ("simple_majority", "two_thirds", "unanimity")
QUORUM_RULES = ("more_than_half", "two_thirds", "all")
CHOICES = ("yes", "no", "abstain")
POOL_CATEGORIES = ("staff", "premises", "ict_infrastructure", "other")


class Decision(db.Model):
    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30), default="general")
    #: draft → open → closed (``states.DECISIONS``)
    status: Mapped[DecisionStatus] = mapped_column(StatusType(DecisionStatus, 10), default=DecisionStatus.DRAFT)
    quorum_rule: Mapped[str] = mapped_column(String(20), default="more_than_half")
    threshold: Mapped[str] = mapped_column(String(20), default="simple_majority")
    #: Structured effect of an adopted decision (validated per kind).
    payload: Mapped[dict | None] = mapped_column(JSON)
    #: None for a founding decision recorded when the facility was created.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(StatusType(Outcome, 10))
    #: ``RES-2026-007``: gapless per year, given when the decision closes.
    resolution_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: The tally frozen at closing: counts, quorum and threshold results, each agency's vote.
    tally: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    proposed_by: Mapped[User | None] = relationship()
    voters: Mapped[list[DecisionVoter]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="DecisionVoter.id")
    votes: Mapped[list[Vote]] = relationship(back_populates="decision", order_by="Vote.id")
    effects: Mapped[list[DecisionEffect]] = relationship(back_populates="decision")
    attachments: Mapped[list[DecisionAttachment]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="DecisionAttachment.id")

    __mapper_args__ = {"version_id_col": version}


class DecisionAttachment(db.Model):
    """A document the board reads with a draft decision, stored in the database."""

    __tablename__ = "decision_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    #: Made safe for a download header (no path, no quotes, no control characters).
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Loaded only when downloaded.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decision: Mapped[Decision] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()


class DecisionVoter(db.Model):
    """A voting member, snapshotted when the decision opens: later joins do not vote on it."""

    __tablename__ = "decision_voter"
    __table_args__ = (UniqueConstraint("decision_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))

    decision: Mapped[Decision] = relationship(back_populates="voters")
    agency: Mapped[Agency] = relationship()


class Vote(db.Model):
    """The current vote of one agency on one decision; the constraint makes it one."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("decision_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    choice: Mapped[str] = mapped_column(String(10))
    statement: Mapped[str] = mapped_column(Text, default="")
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: How many times the agency changed its vote.
    changes: Mapped[int] = mapped_column(Integer, default=0)

    decision: Mapped[Decision] = relationship(back_populates="votes")
    agency: Mapped[Agency] = relationship()
    cast_by: Mapped[User] = relationship()


class DecisionEffect(db.Model):
    """What an adopted decision did (or is waiting to do, when its module is not there yet)."""

    __tablename__ = "decision_effect"
    __table_args__ = (UniqueConstraint("decision_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    kind: Mapped[str] = mapped_column(String(30))
    effective_from: Mapped[date] = mapped_column(Date)
    #: pending (no module applies this kind yet) | scheduled (applied on effective_from) | applied
    #: | failed (could not apply any more when its day came; the summary says why): ``states.EFFECTS``
    status: Mapped[EffectStatus] = mapped_column(StatusType(EffectStatus, 10), default=EffectStatus.PENDING)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")

    decision: Mapped[Decision] = relationship(back_populates="effects")


class CostSharingKey(db.Model):
    """How shared costs are split; in force from ``effective_from`` until the next key."""

    __tablename__ = "cost_sharing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: {"equal": "40", "usage_count": "60"}: method → percentage, summing to 100;
    #: "fixed" takes {"fixed": "100", "fixed_weights": {"UNDP": "3", ...}}.
    components: Mapped[dict] = mapped_column(JSON)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decision: Mapped[Decision] = relationship()


class CostPool(db.Model):
    """One month's shared cost of the facility in one category."""

    __tablename__ = "cost_pool"
    __table_args__ = (UniqueConstraint("period", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: First day of the month.
    period: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllocationShare(db.Model):
    """An agency's recorded share of a cost pool, with how it was computed."""

    __tablename__ = "allocation_share"
    __table_args__ = (UniqueConstraint("cost_pool_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_pool_id: Mapped[int] = mapped_column(ForeignKey("cost_pool.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("cost_sharing_key.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    explanation: Mapped[dict] = mapped_column(JSON)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cost_pool: Mapped[CostPool] = relationship()
    agency: Mapped[Agency] = relationship()
