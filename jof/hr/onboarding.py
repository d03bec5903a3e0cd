"""Onboarding (docs/hr.md, "Onboarding"): the checklist of a selection, recorded by HR
officers once the offer is made, and the ``complete`` move refused until it is done
(the guard is in :mod:`jof.hr.states`).

The ICT account step files the new person's e-mail account with ICT through the core
registry :mod:`jof.core.accounts` (HR never imports ICT): a draft ICT subscription in
the agency's name, for the recruitment's requester to submit. The step keeps the ICT
request's reference and the ICT order keeps the recruitment's, so each links to the
other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from jof.core import accounts, audit
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.hr import states
from jof.hr.models import ONBOARDING_STEPS, Application, OnboardingStep, Recruitment
from jof.hr.recruitments import ensure_hr_officer, ensure_sees_candidates

#: The state in which the checklist is recorded: the offer is made.
ONBOARDING_STATES = (states.RecruitmentStatus.OFFER,)


@dataclass
class Item:
    step: str
    done: OnboardingStep | None


def checklist_of(rec: Recruitment) -> list[Item]:
    done = {s.step: s for s in db.session.scalars(
        select(OnboardingStep).where(OnboardingStep.recruitment_id == rec.id))}
    return [Item(step, done.get(step)) for step in ONBOARDING_STEPS]


def checklist(actor: User, rec: Recruitment) -> list[Item]:
    """The five steps, each with who recorded it and when (None: not done)."""
    ensure_sees_candidates(actor, rec)
    return checklist_of(rec)


def selected_application(rec: Recruitment) -> Application | None:
    return db.session.scalar(select(Application).where(Application.recruitment_id == rec.id,
                                                       Application.selected.is_(True)))


def record_step(actor: User, rec: Recruitment, step: str, note: str = "",
                starts_on: date | None = None) -> Item:
    """Record one step as done. ``ict_account`` needs the person's first day and files
    their e-mail account with ICT."""
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    if step not in ONBOARDING_STEPS:
        raise NotFound("No such onboarding step.")
    sr = rec.request
    if sr.status not in ONBOARDING_STATES:
        raise Conflict("The onboarding checklist is recorded once the offer is made; the recruitment is "
                       f"{sr.status.replace('_', ' ')}.")
    if db.session.scalar(select(OnboardingStep.id).where(OnboardingStep.recruitment_id == rec.id,
                                                         OnboardingStep.step == step)) is not None:
        raise Conflict(f"The step {step.replace('_', ' ')} is recorded already.")
    ict_reference = None
    if step == "ict_account":
        if starts_on is None:
            raise ValidationFailed({"starts_on": ["Give the new person's first day: the account starts then."]})
        person = selected_application(rec)
        ict_reference = accounts.file_account(actor, accounts.AccountOrder(
            agency=sr.agency, requester=sr.requester, person=person.candidate.full_name, starts_on=starts_on,
            filed_for=sr.reference))
    row = OnboardingStep(recruitment_id=rec.id, step=step, note=(note or "").strip(), ict_reference=ict_reference,
                         done_by_id=actor.id, done_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "hr.onboarding.step", row, after={
        "recruitment": sr.reference, "step": step, "ict_reference": ict_reference})
    return Item(step, row)
