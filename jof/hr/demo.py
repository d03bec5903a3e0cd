"""The demo's recruitments, played through the real services as the demo users:

- UNDP's Finance Associate (G-6, fixed-term), advertised, assessed, recommended, selected,
  onboarded (its ICT account filed with ICT) and completed, so its fee is charged; the
  three candidates who passed enter the Finance G-6 roster;
- UNESCO's Finance Assistant filed from that roster, approved, with one candidate's
  answer recorded: it waits for the others' answers;
- UNFPA's Programme Analyst (NO-B), advertised, with two applications so far.

Loading twice changes nothing (nothing is played once a recruitment exists). Candidates'
names and e-mails are invented.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.core import workflow
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.people import User
from jof.hr import applications, assessment, onboarding, recruitments, rosters
from jof.hr.models import ONBOARDING_STEPS, Recruitment

PLAN = [{"name": "Desk review", "weight": 30}, {"name": "Written test", "weight": 30},
        {"name": "Interview", "weight": 40}]

#: (name, years of experience, education, languages, scores: desk, written, interview)
FINANCE_CANDIDATES = [
    ("Mariana Teixeira", 8, "master", ["Portuguese", "English", "Spanish"], ("85", "78", "88")),
    ("Rafael Nogueira", 6, "bachelor", ["Portuguese", "English"], ("72", "80", "75")),
    ("Juliana Prado", 5, "bachelor", ["Portuguese", "English"], ("70", "74", "71.5")),
    ("Tiago Moreira", 7, "master", ["Portuguese", "English"], ("60", "55", "62")),
    ("Camila Fontes", 3, "bachelor", ["Portuguese"], None),  # screened out: 3 years of 5, no English
]
PROGRAMME_CANDIDATES = [
    ("Lucas Almeida", 4, "master", ["Portuguese", "English"]),
    ("Beatriz Ramos", 2, "bachelor", ["Portuguese", "English"]),
]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _body(post: str, family: str, level: str, contract: str, cost: str, **over) -> dict:
    body = {"post_title": post, "job_family": family, "level": level, "contract_type": contract,
            "duty_station": "Brasília", "closing_date": local_today() + timedelta(days=21),
            "estimated_cost_usd": Decimal(cost), "min_education": "bachelor", "min_years_experience": 5,
            "required_languages": ["Portuguese", "English"], "desirable_languages": ["Spanish"],
            "methods": PLAN, "pass_mark": "70"}
    body.update(over)
    return body


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@candidates.example"


def _apply(hr: User, rec: Recruitment, name: str, years: int, education: str, languages: list[str]):
    return applications.record_application(hr, rec, {"full_name": name, "email": _email(name),
                                                     "education": education, "years_experience": years,
                                                     "languages": languages})


def load_demo() -> bool:
    """Play the three recruitments; False (and nothing done) when recruitments exist."""
    if db.session.scalar(select(Recruitment.id).limit(1)) is not None:
        return False
    manager, hr = _user("manager@jof.example"), _user("hr@jof.example")

    # UNDP: advertised, assessed, selected, onboarded and completed.
    undp = _user("requester@undp.jof.example")
    rec = recruitments.file_recruitment(undp, _body("Finance Associate", "Finance", "G-6", "fixed_term", "9500"))
    sr = rec.request
    workflow.perform(undp, sr, "submit")
    workflow.perform(manager, sr, "approve")
    workflow.perform(hr, sr, "advertise")
    scored = []
    for name, years, education, languages, scores in FINANCE_CANDIDATES:
        app = _apply(hr, rec, name, years, education, languages)
        if scores:
            scored.append((app, scores))
    workflow.perform(hr, sr, "long_list")
    workflow.perform(hr, sr, "short_list")
    for app, (desk, written, interview) in scored:
        assessment.enter_scores(hr, app, [{"method": "Desk review", "score": Decimal(desk)},
                                          {"method": "Written test", "score": Decimal(written)},
                                          {"method": "Interview", "score": Decimal(interview)}])
    workflow.perform(hr, sr, "assess")
    workflow.perform(hr, sr, "recommend")
    best = assessment.ranking(hr, rec).rows[0]
    workflow.perform(undp, sr, "select", payload={"application_id": best.application_id})
    workflow.perform(hr, sr, "offer")
    for step in ONBOARDING_STEPS:
        onboarding.record_step(hr, rec, step, starts_on=local_today() + timedelta(days=14)
                               if step == "ict_account" else None)
    workflow.perform(hr, sr, "complete")

    # UNESCO: from the Finance G-6 roster, approved, one answer recorded so far.
    unesco = _user("requester@unesco.jof.example")
    from_roster = recruitments.file_recruitment(unesco, _body(
        "Finance Assistant", "Finance", "G-6", "temporary", "7000", from_roster=True))
    workflow.perform(unesco, from_roster.request, "submit")
    workflow.perform(manager, from_roster.request, "approve")
    waiting = [c for c in rosters.candidates_for(hr, from_roster) if c.entry.candidate_id != _selected(rec)]
    if waiting:
        rosters.record_consent(hr, from_roster, waiting[0].entry.id, True)

    # UNFPA: advertised, applications coming in.
    unfpa = _user("requester@unfpa.jof.example")
    open_rec = recruitments.file_recruitment(unfpa, _body(
        "Programme Analyst", "Programme", "NO-B", "fixed_term", "9800", min_education="master",
        min_years_experience=3))
    workflow.perform(unfpa, open_rec.request, "submit")
    workflow.perform(manager, open_rec.request, "approve")
    workflow.perform(hr, open_rec.request, "advertise")
    for name, years, education, languages in PROGRAMME_CANDIDATES:
        _apply(hr, open_rec, name, years, education, languages)
    return True


def _selected(rec: Recruitment) -> int | None:
    app = onboarding.selected_application(rec)
    return None if app is None else app.candidate_id
