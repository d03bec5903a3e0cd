"""The bench's bulk requests (bench/data.py) are rows the app itself could have written."""

from __future__ import annotations

from sqlalchemy import func, select

from bench import data
from jof.core import workflow
from jof.core.db import db
from jof.core.people import User
from jof.core.workflow import ServiceRequest
from tests.conftest import TEST_PASSWORD

N = 3000


def _load(app, n: int = N):
    from jof import demo

    with app.app_context():
        demo.load(TEST_PASSWORD)
        db.session.commit()
        return data.bulk_requests(n, seed=11)


def test_bulk_requests_spread_over_every_type_agency_and_a_status_of_its_table(app):
    loaded = _load(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == N == loaded.requests
        rows = db.session.execute(select(ServiceRequest.request_type, ServiceRequest.status,
                                         ServiceRequest.agency_id).distinct()).all()
        assert {t for t, _s, _a in rows} == set(data.TYPE_SHARE)
        assert len({a for _t, _s, a in rows}) == len(data.AGENCY_WEIGHT)
        for rtype in data.TYPE_SHARE:
            table = workflow.get_type(rtype).transitions
            known = {s for t in table for s in t.sources} | {t.target for t in table} | {"draft"}
            used = {s for t, s, _a in rows if t == rtype}
            assert used <= known, (rtype, used - known)
            assert len(used) >= 5


def test_bulk_requests_keep_their_time_stamps_in_the_order_of_the_lifecycle(app):
    _load(app)
    with app.app_context():
        for sr in db.session.scalars(select(ServiceRequest)):
            stamps = [s for s in (sr.created_at, sr.submitted_at, sr.certified_at, sr.approved_at,
                                  sr.started_at, sr.completed_at, sr.closed_at) if s is not None]
            assert stamps == sorted(stamps), sr.reference
            assert sr.status_changed_at == stamps[-1]
            assert (sr.completed_at is not None) == (sr.status in data.COMPLETED)


def test_a_request_filed_after_the_bulk_load_gets_a_fresh_reference(app):
    _load(app, 500)
    with app.app_context():
        requester = db.session.scalar(select(User).where(User.email == "requester@undp.jof.example"))
        sr = workflow.create_request(requester, "travel", title="After the bench load")
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)
                                 .where(ServiceRequest.reference == sr.reference)) == 1
        db.session.commit()


def test_the_audit_trail_still_verifies_after_the_bulk_load(app):
    _load(app)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
