"""HR records (issue 14): the recruitment request's details and assessment plan, the
candidates, their applications, and the scores of the assessment.

Privacy by construction: a candidate's personal data (name, contact, education,
experience, languages) live in :class:`Candidate` and nowhere else. Applications,
scores, timeline entries and audit events refer to the candidate by id only, so
removing a candidate's personal data later (``jof hr purge``, not yet built) redacts one
row and leaves the audit chain — whose events never held those data — verifiable.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jof.core.db import db
from jof.core.people import User
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import ServiceRequest

#: Grades a recruitment may be for: national officers, general service, professional,
#: service contract, and individual contractor (no grade).
LEVELS = (
    *(f"NO-{c}" for c in "ABCD"), *(f"G-{n}" for n in range(1, 8)), *(f"P-{n}" for n in range(1, 6)),
    *(f"SB-{n}" for n in range(1, 6)), "IC",
)
CONTRACT_TYPES = ("fixed_term", "temporary", "service_contract", "individual_contractor")
#: Education levels, lowest first: a candidate meets a minimum at or above it.
EDUCATION_LEVELS = ("secondary", "technical", "bachelor", "master", "doctorate")


class Recruitment(db.Model):
    """An agency's request to fill a post (``HRR-…``), one to one with its spine request."""

    __tablename__ = "hr_recruitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    post_title: Mapped[str] = mapped_column(String(200))
    #: Free text today (e.g. "Finance"); the future rosters group by it and the level.
    job_family: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(8))
    contract_type: Mapped[str] = mapped_column(String(30))
    duty_station: Mapped[str] = mapped_column(String(120))
    closing_date: Mapped[date] = mapped_column(Date)
    #: Minimum requirements, screened automatically.
    min_education: Mapped[str] = mapped_column(String(20))
    min_years_experience: Mapped[int] = mapped_column(Integer)
    #: Language names, e.g. ["English", "Portuguese"]; required ones screen, desirable ones do not.
    required_languages: Mapped[list] = mapped_column(JSON, default=list)
    desirable_languages: Mapped[list] = mapped_column(JSON, default=list)
    #: Weighted total (0–100) a candidate must reach to be recommended.
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    #: The requesting agency's person who runs the selection with its head.
    hiring_manager_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Filed "from roster": no advertising or assessment, selection among the roster's
    #: candidates of the job family and level who agree to be considered (rosters.py).
    from_roster: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[ServiceRequest] = relationship()
    hiring_manager: Mapped[User] = relationship()
    methods: Mapped[list[AssessmentMethod]] = relationship(
        back_populates="recruitment", order_by="AssessmentMethod.seq", cascade="all, delete-orphan")
    applications: Mapped[list[Application]] = relationship(
        back_populates="recruitment", order_by="Application.seq", cascade="all, delete-orphan")


class AssessmentMethod(db.Model):
    """One method of the assessment plan (desk review, written test, interview …) and its
    weight; the weights of a plan sum to 100."""

    __tablename__ = "hr_assessment_method"
    __table_args__ = (UniqueConstraint("recruitment_id", "seq"), UniqueConstraint("recruitment_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    weight: Mapped[int] = mapped_column(Integer)

    recruitment: Mapped[Recruitment] = relationship(back_populates="methods")


class Candidate(db.Model):
    """A person's personal data, kept apart from everything that is audited."""

    __tablename__ = "hr_candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    education: Mapped[str] = mapped_column(String(20))
    years_experience: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Application(db.Model):
    """A candidate's application to one recruitment: its screening, its place on the
    short list, its scores. ``seq`` numbers the applications of a recruitment in the
    order they were recorded; it breaks the last tie of the ranking."""

    __tablename__ = "hr_application"
    __table_args__ = (UniqueConstraint("recruitment_id", "seq"), UniqueConstraint("recruitment_id", "candidate_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("hr_candidate.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The automatic screening against the minimum requirements, at recording.
    meets_requirements: Mapped[bool] = mapped_column(Boolean)
    #: An officer's decision over the automatic one (None: none taken), with its comment.
    override: Mapped[bool | None] = mapped_column(Boolean)
    override_comment: Mapped[str] = mapped_column(Text, default="")
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    short_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)

    recruitment: Mapped[Recruitment] = relationship(back_populates="applications")
    candidate: Mapped[Candidate] = relationship()
    override_by: Mapped[User | None] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="application", cascade="all, delete-orphan")

    @property
    def screened_in(self) -> bool:
        return self.meets_requirements if self.override is None else self.override


class Score(db.Model):
    """One short-listed candidate's score (0–100) on one method of the plan."""

    __tablename__ = "hr_score"
    __table_args__ = (UniqueConstraint("application_id", "method_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("hr_application.id", ondelete="CASCADE"))
    method_id: Mapped[int] = mapped_column(ForeignKey("hr_assessment_method.id", ondelete="CASCADE"))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="scores")
    method: Mapped[AssessmentMethod] = relationship()


# --- rosters and onboarding (docs/hr.md, "Shared rosters", "Onboarding") -----------------

#: How long a candidate who passed an assessment stays on the roster.
ROSTER_MONTHS = 24
#: The onboarding checklist of a selection, in the order it is usually done.
ONBOARDING_STEPS = ("offer_accepted", "medical_clearance", "security_clearance", "id_badge", "ict_account")


class RosterEntry(db.Model):
    """A candidate who passed an assessment, on the roster of its job family and level
    from ``valid_from`` to ``valid_until`` (both included): any agency may hire from it."""

    __tablename__ = "hr_roster_entry"
    __table_args__ = (UniqueConstraint("candidate_id", "recruitment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("hr_candidate.id"), index=True)
    #: The recruitment whose assessment the candidate passed.
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id"), index=True)
    job_family: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[str] = mapped_column(String(8))
    total: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    candidate: Mapped[Candidate] = relationship()
    recruitment: Mapped[Recruitment] = relationship()


class RosterConsent(db.Model):
    """A roster candidate's answer to a from-roster recruitment: agreeing puts them among
    the candidates the agency selects from (as an application of that recruitment)."""

    __tablename__ = "hr_roster_consent"
    __table_args__ = (UniqueConstraint("recruitment_id", "roster_entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"), index=True)
    roster_entry_id: Mapped[int] = mapped_column(ForeignKey("hr_roster_entry.id"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("hr_application.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roster_entry: Mapped[RosterEntry] = relationship()


class OnboardingStep(db.Model):
    """One done step of a selection's onboarding checklist (a step without a row is not
    done); the ICT account step keeps the reference of the ICT request it filed."""

    __tablename__ = "hr_onboarding_step"
    __table_args__ = (UniqueConstraint("recruitment_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    ict_reference: Mapped[str | None] = mapped_column(String(30))
    done_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
