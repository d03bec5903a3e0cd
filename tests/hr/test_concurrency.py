"""Two HR officers short-listing the same recruitment at once (PostgreSQL): one wins,
the other gets 409, and the short list is drawn once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jof.core import audit, workflow
from jof.core.db import db
from jof.core.errors import Conflict
from jof.core.people import User
from jof.hr import states
from tests.conftest import race
from tests.hr.conftest import HR, HR2, candidate

pytestmark = pytest.mark.postgres_only


def test_two_officers_short_listing_at_once_one_wins_the_other_gets_409(app, hr):
    ref = hr.advertised()
    hr.apply(ref, candidate("Ana Souza"))
    hr.apply(ref, candidate("Bruno Lima"))
    hr.must(HR, ref, "long_list")

    def short_list(i: int) -> str:
        with app.app_context():
            try:
                officer = db.session.scalar(select(User).where(User.email == (HR, HR2)[i]))
                sr = workflow.get_by_reference(officer, ref)
                version = sr.version
                workflow.perform(officer, sr, "short_list", version=version)
                db.session.commit()
                return "won"
            except Conflict as exc:
                db.session.rollback()
                return exc.status
            finally:
                db.session.remove()

    results = race(2, short_list)
    assert sorted(results, key=str) == sorted(["won", 409], key=str), results
    with app.app_context():
        sr = db.session.scalar(select(workflow.ServiceRequest).where(workflow.ServiceRequest.reference == ref))
        assert sr.status == states.RecruitmentStatus.SHORT_LISTED
        moves = db.session.scalar(select(func.count()).select_from(audit.AuditEvent).where(
            audit.AuditEvent.action == "request.short_list"))
        assert moves == 1
        assert audit.verify().ok
