"""HR records (issue 14): the recruitment request's details and assessment plan, the
candidates, their applications, and the scores of the assessment.

Privacy by construction: a candidate's personal data (name, contact, education,
experience, languages) live in :class:`Candidate` and nowhere else. Applications,
scores, timeline entries and audit events refer to the candidate by id only, so
removing a candidate's personal data later (``jof hr purge``) redacts one row (and the
documents, referees and frozen reports that name them) and leaves the audit chain — whose events never held those data — verifiable.
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
    LargeBinary,
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
    #: Self-declared and optional (:data:`GENDERS`), reported only as aggregates.
    gender: Mapped[str | None] = mapped_column(String(20))
    #: ISO 3166-1 alpha-2 code, self-declared, optional.
    nationality: Mapped[str | None] = mapped_column(String(2))
    #: When ``jof hr purge`` removed the personal data (the row stays, redacted).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    #: How it reached the facility (:data:`SOURCES`).
    source: Mapped[str] = mapped_column(String(10), default="officer", server_default="officer")

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


# --- public applications, referees, panels, reports, purge (docs/hr.md) -------------------

#: Self-declared, optional, reported only as aggregates (jof/hr/statistics.py).
GENDERS = ("woman", "man", "non_binary", "other")
#: How an application reached the facility.
SOURCES = ("officer", "public", "import")



class ApplicationAttachment(db.Model):
    """A document (CV, cover letter) sent with an application: checked like a decision's
    attachments (jof/governance/attachments.py); personal data, removed by the purge."""

    __tablename__ = "hr_application_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("hr_application.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(130))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referee(db.Model):
    """Someone a candidate names as a referee: a panel member who is one cannot sit."""

    __tablename__ = "hr_referee"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("hr_application.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)


class PublicSubmission(db.Model):
    """An application sent through the public page: its one-time form token (a second
    send of the same form is not a second application) and the sender's address group,
    which the rate limit counts. Kept only for the limit's window, then deleted."""

    __tablename__ = "hr_public_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The application it created (None while refused attempts are counted).
    application_id: Mapped[int | None] = mapped_column(ForeignKey("hr_application.id", ondelete="SET NULL"))


class PanelMember(db.Model):
    """A user sitting on a recruitment's assessment panel; a declared conflict of interest
    (or being a candidate's referee) ends the seat. The note stays on this row, never in
    the audit event (it may name a candidate)."""

    __tablename__ = "hr_panel_member"
    __table_args__ = (UniqueConstraint("recruitment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conflict_note: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecommendationReport(db.Model):
    """The report made when recommending: the ranked table as it stood, frozen, from which
    the PDF is rendered; a later change to a candidate does not change it. The purge
    replaces a removed candidate's name in it."""

    __tablename__ = "hr_recommendation_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"), index=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    made_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)


class PurgedTally(db.Model):
    """What the purge keeps of the candidates whose personal data it removed: how many
    declared each gender and nationality, per year of application and agency, so the
    statistics (jof/hr/statistics.py) stay the same after a purge."""

    __tablename__ = "hr_purged_tally"
    __table_args__ = (UniqueConstraint("year", "agency_id", "dimension", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: ``gender`` or ``nationality``; ``value`` is the code, or "" when not declared.
    dimension: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)


class TermsOfReference(db.Model):
    """One version of a recruitment's terms of reference (jof/hr/terms.py): the highest
    version is the current one; earlier versions stay as its history. The document is the
    post's description, not a person's data."""

    __tablename__ = "hr_terms_of_reference"
    __table_args__ = (UniqueConstraint("recruitment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recruitment_id: Mapped[int] = mapped_column(ForeignKey("hr_recruitment.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(130))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: What changed in this version (the uploader's words; never audited).
    note: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recruitment: Mapped[Recruitment] = relationship()
    uploaded_by: Mapped[User] = relationship()
