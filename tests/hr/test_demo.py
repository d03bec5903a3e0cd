"""The demo's recruitments, played through the HR services: a completed one (its fee
charged, its new staff member's ICT account filed), the roster it made, a recruitment
filed from that roster and an open one; loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from jof import demo as demo_module
from jof.core import audit
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.workflow import ServiceRequest
from jof.hr.models import Recruitment, RosterEntry
from jof.ict.models import IctSubscription


def test_the_demo_holds_a_completed_recruitment_a_roster_hire_in_progress_and_an_open_one(app, demo):
    with app.app_context():
        assert demo_module.load_recruitments() is True
        db.session.commit()
        recs = db.session.scalars(select(Recruitment).order_by(Recruitment.id)).all()
        assert [(r.request.agency.code, r.post_title, r.request.status, r.from_roster) for r in recs] == [
            ("UNDP", "Finance Associate", "completed", False),
            ("UNESCO", "Finance Assistant", "approved", True),
            ("UNFPA", "Programme Analyst", "advertised", False)]
        roster = db.session.scalars(select(RosterEntry).order_by(RosterEntry.total.desc())).all()
        assert [(e.job_family, e.level, str(e.total)) for e in roster] == [
            ("Finance", "G-6", "84.1000"), ("Finance", "G-6", "75.6000"), ("Finance", "G-6", "71.8000")]
        fee = db.session.scalar(select(ChargeableEvent).where(ChargeableEvent.service_line == "hr"))
        assert fee.service_item == "recruitment_fixed_term" and fee.source_ref.startswith(recs[0].request.reference)
        sub = db.session.scalar(select(IctSubscription).where(IctSubscription.filed_for.is_not(None)))
        assert sub.filed_for == recs[0].request.reference and sub.request.agency.code == "UNDP"
        assert len(recs[2].applications) == 2

        requests = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        assert demo_module.load_recruitments() is False
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == requests
        assert audit.verify().ok
