"""The recruitment request's states and transition table, for the one workflow engine.

``hr_recruitment`` (``HRR-…``) starts on the common spine (DESIGN §2: draft → submitted
→ (certified by the agency head above the agency's limit) → approved) and then follows
the recruitment itself: advertised → long-listed → short-listed → assessed →
recommended → selected (by the agency: its head or its requester acting as hiring
manager) → offer → completed (onboarded). A recruitment that finds no suitable
candidate is marked ``failed`` and may be re-advertised.

This module holds the rows and the guards ("may this move happen now"); what a move
does to the applications (the short list, the frozen ranking, the selected candidate)
is an effect in :mod:`jof.hr.assessment`, joined to the rows by ``jof.hr.install``.
It imports models and core only, so importing it registers nothing.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import func, select

from jof.core import authz
from jof.core.db import db
from jof.core.workflow import AGENCY_HEAD, MANAGER, OFFICER, REQUESTER, Status, Transition
from jof.core.workflow import common_lifecycle as _common_lifecycle
from jof.hr.models import (
    ONBOARDING_STEPS,
    Application,
    AssessmentMethod,
    OnboardingStep,
    Recruitment,
    RosterConsent,
    Score,
)
from jof.hr.scoring import ranking_of

RECRUITMENT = "hr_recruitment"
SERVICE_LINE = "hr"


class RecruitmentStatus(StrEnum):
    """The states of a recruitment request (the spine's, then the recruitment's own)."""

    DRAFT = Status.DRAFT.value
    SUBMITTED = Status.SUBMITTED.value
    CERTIFIED = Status.CERTIFIED.value
    APPROVED = Status.APPROVED.value
    ADVERTISED = "advertised"
    LONG_LISTED = "long_listed"
    SHORT_LISTED = "short_listed"
    ASSESSED = "assessed"
    RECOMMENDED = "recommended"
    SELECTED = "selected"
    OFFER = "offer"
    COMPLETED = Status.COMPLETED.value
    FAILED = "failed"
    REJECTED = Status.REJECTED.value
    CANCELLED = Status.CANCELLED.value


#: States in which HR officers record applications.
OPEN_FOR_APPLICATIONS = (RecruitmentStatus.ADVERTISED,)
#: States in which the screening of an application may be overridden.
SCREENING_STATES = (RecruitmentStatus.ADVERTISED, RecruitmentStatus.LONG_LISTED)
#: The state in which scores are entered.
SCORING_STATES = (RecruitmentStatus.SHORT_LISTED,)
#: States from which a recruitment can be declared failed (no suitable candidate).
FAILABLE = (RecruitmentStatus.ADVERTISED, RecruitmentStatus.LONG_LISTED, RecruitmentStatus.SHORT_LISTED,
            RecruitmentStatus.ASSESSED)


def recruitment_of(sr) -> Recruitment | None:
    return db.session.scalar(select(Recruitment).where(Recruitment.request_id == sr.id))


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _has_applications(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is None or _count(select(Application.id).where(Application.recruitment_id == rec.id)) == 0:
        return "No application has been recorded yet: record the applications before long-listing."
    return None


def _has_screened_in(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is None or not any(a.screened_in for a in rec.applications):
        return ("No candidate meets the minimum requirements: override a screening with a "
                "comment, or declare the recruitment failed.")
    return None


def _all_scored(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is None:
        return "The recruitment has no details."
    expected = len(rec.methods) * sum(1 for a in rec.applications if a.short_listed)
    given = _count(select(Score.id).join(Application, Application.id == Score.application_id)
                   .join(AssessmentMethod, AssessmentMethod.id == Score.method_id)
                   .where(Application.recruitment_id == rec.id, Application.short_listed.is_(True)))
    if given < expected:
        return (f"{expected - given} of {expected} scores are still missing: every short-listed "
                "candidate needs a score for every method of the assessment plan.")
    return None


def _someone_passed(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is None or not any(row.passed for row in ranking_of(rec).rows):
        return (f"No candidate reached the pass mark of {rec.pass_mark if rec else '?'}: declare the "
                "recruitment failed and re-advertise.")
    return None


def _head_or_hiring_manager(sr, user) -> str | None:
    """The agency selects through its head (or alternate) or the hiring manager it named."""
    rec = recruitment_of(sr)
    if authz.is_head_of(user, sr.agency) or (rec is not None and rec.hiring_manager_id == user.id):
        return None
    return "Only the agency's head or the recruitment's hiring manager may select the candidate."


def transitions() -> list[Transition]:
    """The spine's approval rows, then the recruitment's own steps."""
    S = RecruitmentStatus
    spine = [t for t in _common_lifecycle() if t.action in ("submit", "certify", "approve", "reject")]
    spine += [t for t in _common_lifecycle() if t.action == "cancel" and S.DRAFT in t.sources]
    return spine + [
        Transition("advertise", (S.APPROVED,), S.ADVERTISED, (OFFICER, MANAGER), _not_from_roster,
                   label="Advertise", stamp="started_at"),
        Transition("present_roster", (S.APPROVED,), S.RECOMMENDED, (OFFICER, MANAGER), _roster_consented,
                   label="Present the roster candidates", stamp="started_at"),
        Transition("long_list", (S.ADVERTISED,), S.LONG_LISTED, (OFFICER, MANAGER), _has_applications,
                   label="Close applications and long-list"),
        Transition("short_list", (S.LONG_LISTED,), S.SHORT_LISTED, (OFFICER, MANAGER), _has_screened_in,
                   label="Short-list"),
        Transition("assess", (S.SHORT_LISTED,), S.ASSESSED, (OFFICER, MANAGER), _all_scored,
                   label="Close the assessment"),
        Transition("recommend", (S.ASSESSED,), S.RECOMMENDED, (OFFICER, MANAGER), _someone_passed,
                   label="Recommend"),
        Transition("select", (S.RECOMMENDED,), S.SELECTED, (AGENCY_HEAD, REQUESTER), _head_or_hiring_manager,
                   label="Select"),
        Transition("offer", (S.SELECTED,), S.OFFER, (OFFICER, MANAGER), label="Make the offer"),
        Transition("complete", (S.OFFER,), S.COMPLETED, (OFFICER, MANAGER), _onboarding_done,
                   label="Onboarded", stamp="completed_at"),
        Transition("fail", FAILABLE, S.FAILED, (OFFICER, MANAGER), comment_required=True,
                   label="Failed: no suitable candidate"),
        Transition("readvertise", (S.FAILED,), S.ADVERTISED, (OFFICER, MANAGER), label="Re-advertise"),
        Transition("cancel", (S.ADVERTISED, S.LONG_LISTED, S.SHORT_LISTED, S.ASSESSED, S.RECOMMENDED,
                              S.SELECTED, S.OFFER, S.FAILED), S.CANCELLED, (MANAGER,),
                   comment_required=True, label="Cancel", stamp="closed_at"),
    ]


# --- rosters and onboarding (rosters.py, onboarding.py) ----------------------------------
# A recruitment filed "from roster" is not advertised: once approved, an HR officer
# records which roster candidates agree to be considered and presents them (approved →
# recommended); the agency selects among them as after an assessment.


def _not_from_roster(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is not None and rec.from_roster:
        return ("This recruitment was filed from the roster: it is not advertised; present the roster "
                "candidates who agree to be considered.")
    return None


def _roster_consented(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    if rec is None or not rec.from_roster:
        return "Only a recruitment filed from the roster skips advertising and assessment."
    if _count(select(RosterConsent.id).where(RosterConsent.recruitment_id == rec.id,
                                             RosterConsent.agrees.is_(True))) == 0:
        return "No roster candidate has agreed to be considered yet: record their answers first."
    return None


def _onboarding_done(sr, _user) -> str | None:
    rec = recruitment_of(sr)
    done = set() if rec is None else set(db.session.scalars(
        select(OnboardingStep.step).where(OnboardingStep.recruitment_id == rec.id)))
    missing = [step.replace("_", " ") for step in ONBOARDING_STEPS if step not in done]
    if missing:
        return f"The onboarding checklist is not done: {', '.join(missing)} still to record."
    return None
