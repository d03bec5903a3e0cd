"""Time to recruit feeds the SLA measures: a recruitment's clock runs from its approval
to the agency's selection, of the kind of its contract type (docs/hr.md)."""

from __future__ import annotations

from sqlalchemy import select

from jof.core.db import db
from jof.core.workflow import ServiceRequest
from jof.monitoring.models import RequestClock
from jof.monitoring.targets import KINDS
from tests.hr.conftest import HEAD, HR, candidate


def test_the_clock_of_a_recruitment_runs_from_approval_to_selection_by_contract_type(app, hr):
    ref, (ana,) = hr.short_listed([candidate("Ana Souza", years=8)], contract_type="temporary")
    hr.score(ref, ana["id"], "80", "70", "90")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    with app.app_context():
        request_id = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.reference == ref))
        assert db.session.scalars(select(RequestClock).where(RequestClock.request_id == request_id)).all() == []
    hr.must(HEAD, ref, "select", payload={"application_id": ana["id"]})
    with app.app_context():
        (clock,) = db.session.scalars(select(RequestClock).where(RequestClock.request_id == request_id)).all()
        assert (clock.kind, clock.line, clock.within_target) == ("hr.temporary", "hr", True)


def test_every_contract_type_has_a_time_to_recruit_target():
    from jof.hr.models import CONTRACT_TYPES

    assert {f"hr.{c}" for c in CONTRACT_TYPES} <= set(KINDS)
    assert all(KINDS[f"hr.{c}"].line == "hr" for c in CONTRACT_TYPES)
