"""The facility, its member agencies and the people who use JOF (DESIGN §1)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.money import Money
from jof.core.timeutil import UTCDateTime, utcnow


class Role(enum.StrEnum):
    REQUESTER = "requester"
    AGENCY_HEAD = "agency_head"
    OFFICER = "officer"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"
    #: One per facility: chairs the board (proposes, opens and closes decisions), reads
    #: what the auditor reads, and never votes (DESIGN §1).
    RESIDENT_COORDINATOR = "resident_coordinator"


AGENCY_ROLES = {Role.REQUESTER, Role.AGENCY_HEAD}
FACILITY_ROLES = {Role.OFFICER, Role.MANAGER, Role.AUDITOR, Role.ADMIN, Role.RESIDENT_COORDINATOR}
#: Roles a facility has at most one holder of: one account holds the role, active or
#: not (the database's ``uq_user_role_single_holder`` index keeps it so).
SINGLE_HOLDER_ROLES = {Role.RESIDENT_COORDINATOR}
SERVICE_LINES = ("procurement", "travel", "ict", "hr")


class Membership(enum.StrEnum):
    MEMBER = "member"  # votes and shares the fixed costs
    PARTNER = "partner"  # served under its SLA and pays fees, but does not vote


class Facility(db.Model):
    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    local_currency: Mapped[str] = mapped_column(String(3))
    #: Prefix of invoice numbers, e.g. JOF-2026-00001.
    invoice_prefix: Mapped[str] = mapped_column(String(10), default="JOF")
    #: Working hours, local time, Monday to Friday (the SLA clocks count only these).
    work_start_minute: Mapped[int] = mapped_column(Integer, default=8 * 60)
    work_end_minute: Mapped[int] = mapped_column(Integer, default=18 * 60)
    address: Mapped[str] = mapped_column(Text, default="")
    #: Where agencies pay (printed on every invoice): bank, account holder, IBAN or account
    #: number (an IBAN of up to 34 characters stored in groups of four), and SWIFT/BIC;
    #: edited by the manager or the administrator, audited.
    bank_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bank_account_holder: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bank_account: Mapped[str] = mapped_column(String(42), default="", server_default="")
    bank_swift: Mapped[str] = mapped_column(String(11), default="", server_default="")
    #: What a payer quotes with a transfer; ``{invoice}`` (required) and ``{agency}`` are
    #: filled in per invoice: ``JOF {invoice} / {agency}`` gives ``JOF JOF-2026-00008 / UNDP``.
    payment_reference: Mapped[str] = mapped_column(String(100), default="{invoice}", server_default="{invoice}")

    def payment_reference_for(self, invoice_number: str, agency_code: str) -> str:
        return (self.payment_reference or "{invoice}").replace("{invoice}", invoice_number).replace(
            "{agency}", agency_code)


class Agency(db.Model):
    """A member office (or partner) served by the facility."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``UNDP``, or ``UNDP-AR`` for an office served from a regional hub.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    membership: Mapped[str] = mapped_column(String(10), default=Membership.MEMBER)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    #: Requests above this value (USD) need the agency head's certification (DESIGN §2).
    approval_limit_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal("10000.00"))
    address: Mapped[str] = mapped_column(Text, default="")
    #: A user of this agency who may certify and vote in the head's place.
    alternate_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", use_alter=True, name="fk_agency_alternate_id_user")
    )

    alternate: Mapped[User | None] = relationship(foreign_keys=[alternate_id])
    headcounts: Mapped[list[AgencyHeadcount]] = relationship(
        back_populates="agency", order_by="AgencyHeadcount.year", cascade="all, delete-orphan"
    )

    def is_active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)

    @property
    def is_member(self) -> bool:
        return self.membership == Membership.MEMBER

    def headcount_for(self, year: int) -> int | None:
        return next((h.headcount for h in self.headcounts if h.year == year), None)


class AgencyHeadcount(db.Model):
    """Staff count per year, an input of headcount-based cost sharing."""

    __tablename__ = "agency_headcount"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    year: Mapped[int] = mapped_column(Integer)
    headcount: Mapped[int] = mapped_column(Integer)

    agency: Mapped[Agency] = relationship(back_populates="headcounts")


class User(db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: None for facility staff.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    #: Bumped at logout and password change: every cookie carrying an older value is dead.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    @property
    def service_lines(self) -> set[str]:
        return {r.service_line for r in self.role_rows if r.service_line}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_facility_staff(self) -> bool:
        return self.agency_id is None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):
    """One role of a user; officers hold one row per service line they work on."""

    __tablename__ = "user_role"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "service_line"),
        # One account holds a single-holder role (the Resident Coordinator), whatever the
        # service checked: two admins naming two at the same moment cannot both succeed
        # (migration mon2). A partial index, on SQLite and PostgreSQL alike.
        Index("uq_user_role_single_holder", "role", unique=True,
              sqlite_where=text("role = 'resident_coordinator'"),
              postgresql_where=text("role = 'resident_coordinator'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    service_line: Mapped[str | None] = mapped_column(String(20))


class ApiToken(db.Model):
    """A bearer token for agencies' systems; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Failed logins, kept in the database so the throttle holds across workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The client address (behind TRUSTED_PROXIES, from X-Forwarded-For): the throttle counts by it.
    remote_addr: Mapped[str] = mapped_column(String(64), default="", index=True)


class KnownLoginAddress(db.Model):
    """Client addresses (IPv6 grouped by /64) that have signed in to an account: the
    account-wide login delay does not apply to them, so guessers elsewhere cannot keep
    the owner waiting (docs/security.md)."""

    __tablename__ = "known_login_address"
    __table_args__ = (UniqueConstraint("email", "remote_addr"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    #: As the throttle counts it: an IPv4 address, an IPv6 /64 network, or the raw value.
    remote_addr: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
