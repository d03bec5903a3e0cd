"""Core's job queue on its own: a kind registered by name runs its work with the acting
user and its parameters, reports progress, and on failure rolls back what the work wrote
and records why; who may start and read a job is the kind's answer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jof.core import jobs
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.errors import Forbidden, NotFound
from jof.core.people import Agency, User

MANAGER = "manager@jof.example"


def _refuse_requesters(user, _params_or_job):
    if not user.is_facility_staff:
        raise Forbidden("Facility staff only.")


def _rename(job, user, params):
    """Renames an agency (a write to roll back), reporting two steps; fails on request."""
    agency = db.session.scalar(select(Agency).where(Agency.code == "UNEP"))
    agency.name = params["name"]
    job.progress(1, 2)
    if params.get("fail"):
        raise ValueError("boom")
    job.progress(2, 2)
    return f"renamed by {user.email}", {"name": params["name"]}


@pytest.fixture
def test_kind(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "JOF_JOBS_IN_BACKGROUND", False)
    jobs.register_kind(jobs.Kind("test_rename", "rename a test agency", "test", _refuse_requesters,
                                 _refuse_requesters, _rename))
    yield
    jobs._KINDS.pop("test_rename", None)


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def test_a_registered_kind_runs_with_the_user_and_params_and_reports_its_progress(app, demo, test_kind):
    with app.test_request_context():
        name = db.session.scalar(select(Agency.name).where(Agency.code == "UNEP"))
        job = jobs.start(_user(MANAGER), "test_rename", {"name": "UN Environment Programme (test)"})
        db.session.commit()
        assert job.status == "done" and job.done == job.total == 2
        assert job.message == f"renamed by {MANAGER}" and job.result == {"name": "UN Environment Programme (test)"}
        assert jobs.progress_json(job) | {"message": ""} == {
            "id": job.id, "kind": "test_rename", "status": "done", "status_label": "Done", "done": 2, "total": 2,
            "message": "", "finished": True}
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "job",
                                                                     AuditEvent.object_id == str(job.id))
                                     .order_by(AuditEvent.id)).all()
        assert actions == ["test.job.done"]  # started and ended in one transaction
        db.session.scalar(select(Agency).where(Agency.code == "UNEP")).name = name
        db.session.commit()


def test_a_failing_work_is_rolled_back_and_its_job_says_why(app, demo, test_kind):
    with app.app_context():
        before = db.session.scalar(select(Agency.name).where(Agency.code == "UNEP"))
        job = jobs.start(_user(MANAGER), "test_rename", {"name": "Changed", "fail": True})
        db.session.commit()
        assert job.status == "failed" and job.result is None and job.finished_at is not None
        assert "Unexpected error (ValueError)" in job.message
        db.session.expire_all()
        assert db.session.scalar(select(Agency.name).where(Agency.code == "UNEP")) == before


def test_the_kind_decides_who_starts_and_reads_and_an_unknown_kind_is_not_found(app, demo, test_kind):
    with app.app_context():
        requester = _user("requester@undp.jof.example")
        count = db.session.scalar(select(func.count(jobs.Job.id)))
        with pytest.raises(Forbidden):
            jobs.start(requester, "test_rename", {"name": "x"})
        with pytest.raises(NotFound):
            jobs.start(_user(MANAGER), "melt", {})
        assert db.session.scalar(select(func.count(jobs.Job.id))) == count
        job = jobs.start(_user(MANAGER), "test_rename", {"name": "UN Environment"})
        db.session.commit()
        with pytest.raises(Forbidden):
            jobs.get(requester, job.id)
        with pytest.raises(NotFound):  # a line's pages see only their own kinds
            jobs.get(_user(MANAGER), job.id, kinds_of=("close_period",))
        assert jobs.get(_user(MANAGER), job.id) is job


def test_kinds_are_read_by_their_label_and_registering_again_replaces(app, test_kind):
    with app.test_request_context():
        assert jobs.kind_label("test_rename") == "rename a test agency"
        assert jobs.kind_label("monthly_report") == "the monthly report"
        assert jobs.kind_label("gone_kind") == "gone kind"
    assert list(jobs.kinds()).count("test_rename") == 1
    jobs.register_kind(jobs._KINDS["test_rename"])
    assert list(jobs.kinds()).count("test_rename") == 1
