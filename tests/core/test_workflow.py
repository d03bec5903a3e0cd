"""The one workflow engine and the request spine (DESIGN §2), proven on the test-only type."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import marshmallow as ma
import pytest
from sqlalchemy import func, select

from jof.core import workflow
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.notifications import Notification
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.core.waiting import QueueFilter, queue_query
from jof.core.workflow import ServiceRequest, Status, TimelineEntry

REQUESTER = "requester@undp.jof.example"
HEAD = "head@undp.jof.example"
MANAGER = "manager@jof.example"
PROCUREMENT = "procurement@jof.example"
TRAVEL = "travel@jof.example"
AUDITOR = "auditor@jof.example"
OTHER_REQUESTER = "requester@unfpa.jof.example"


def _needs_amount(sr, _user):
    return None if sr.amount_usd is not None else "An amount is needed first."


def _line_side_effect(sr, _user, payload):
    if sr.description == "refuse":
        raise ValidationFailed({"details": ["The line refuses this move."]})
    sr.description = f"closed with note {payload['note']!r}"


class _ClosePayload(ma.Schema):
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))


#: A second test-only type: another prefix, and a move with both a guard and a required comment.
workflow.register(workflow.RequestType(
    code="test_guarded", prefix="TSG", label="Guarded test request", service_line="travel",
    transitions=[
        workflow.Transition("close", (Status.DRAFT,), Status.COMPLETED, (workflow.REQUESTER,),
                            _needs_amount, comment_required=True, stamp="completed_at"),
    ],
    effects={"close": _line_side_effect},
    payloads={"close": _ClosePayload},
))


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def req(reference: str) -> ServiceRequest:
    return db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == reference))


def counts(sr: ServiceRequest) -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(TimelineEntry.id)).where(TimelineEntry.request_id == sr.id)),
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.object_id == sr.reference)),
        db.session.scalar(select(func.count(Notification.id))),
    )


def act(email: str, sr: ServiceRequest, action: str, comment: str = "", version: int | None = None):
    entry = workflow.perform(user(email), sr, action, comment, version)
    db.session.commit()
    return entry


@pytest.fixture
def file_request(make, session):
    def _file(requester=REQUESTER, amount="1200.00", status="draft", **kw) -> ServiceRequest:
        db.session.commit()  # the factory writes on its own connection: hold no lock here
        return req(make.request(requester, amount_usd=amount, status=status, **kw))
    return _file


# --- the common lifecycle --------------------------------------------------------------


def test_request_below_the_limit_walks_the_whole_lifecycle(file_request, session):
    sr = file_request()
    assert (sr.status, sr.version) == (Status.DRAFT, 1)
    steps = [(REQUESTER, "submit", Status.SUBMITTED, "submitted_at"),
             (MANAGER, "approve", Status.APPROVED, "approved_at"),
             (PROCUREMENT, "start", Status.IN_PROGRESS, "started_at"),
             (PROCUREMENT, "complete", Status.COMPLETED, "completed_at")]
    for n, (email, action, status, stamp) in enumerate(steps, start=2):
        assert getattr(sr, stamp) is None
        act(email, sr, action, version=sr.version)
        assert sr.status == status and sr.version == n
        assert getattr(sr, stamp) is not None and sr.status_changed_at == getattr(sr, stamp)
    assert [(e.action, e.from_status, e.to_status, e.actor.email) for e in sr.timeline] == [
        ("create", None, "draft", REQUESTER),
        ("submit", "draft", "submitted", REQUESTER),
        ("approve", "submitted", "approved", MANAGER),
        ("start", "approved", "in_progress", PROCUREMENT),
        ("complete", "in_progress", "completed", PROCUREMENT),
    ]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == sr.reference)
                                .order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["request.create", "request.submit", "request.approve",
                                          "request.start", "request.complete"]
    assert events[2].before == {"status": "submitted", "version": 2}
    assert events[2].after["status"] == "approved" and events[2].after["version"] == 3
    assert all(e.seq is not None and e.hash for e in events)  # sealed in the same commit
    assert workflow.allowed_actions(user(MANAGER), sr) == []


def test_requester_is_notified_when_someone_else_acts(file_request, session):
    sr = file_request()
    act(REQUESTER, sr, "submit")
    mine = select(Notification).where(Notification.user_id == user(REQUESTER).id)
    assert db.session.scalars(mine).all() == []  # own action: no notice to the requester
    act(MANAGER, sr, "approve")
    notes = db.session.scalars(mine).all()
    assert len(notes) == 1
    assert sr.reference in notes[0].message and "approve" in notes[0].message.lower()
    # The others told meanwhile are those whose action the request waited for (alerts).
    others = db.session.scalars(select(Notification).where(Notification.user_id != user(REQUESTER).id)).all()
    assert others and all(n.kind == "request_waiting" for n in others)
    assert notes[0].link == f"/requests/{sr.reference}"


def test_above_the_limit_the_agency_head_must_certify_before_approval(file_request, session):
    sr = file_request(amount="10000.01", status="submitted")
    with pytest.raises(Conflict) as guard:
        workflow.perform(user(MANAGER), sr, "approve")
    assert "certify" in guard.value.detail and "10,000.00" in guard.value.detail
    db.session.rollback()
    assert workflow.allowed_actions(user(HEAD), sr) == ["certify", "reject"]
    act(HEAD, sr, "certify")
    assert sr.status == Status.CERTIFIED and sr.certified_at is not None
    act(MANAGER, sr, "approve")
    assert sr.status == Status.APPROVED and sr.approved_at is not None


@pytest.mark.parametrize("utc_hour, year", [(1, 2026), (2, 2026), (3, 2027), (4, 2027)])
def test_the_reference_year_is_the_facilitys_local_year(make, session, monkeypatch, utc_hour, year):
    from datetime import UTC, datetime

    # 1 January 2027 before 03:00 UTC is still 31 December 2026 in Brasília (UTC-3).
    monkeypatch.setattr(workflow, "utcnow", lambda: datetime(2027, 1, 1, utc_hour, 30, tzinfo=UTC))
    sr = workflow.create_request(user(REQUESTER), "test", title="New year's eve laptops")
    assert sr.reference == f"TST-{year}-00001"


def test_an_alternate_cannot_certify_a_request_they_filed(file_request, session):
    from jof.core.people import Agency

    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    undp.alternate_id = user(REQUESTER).id
    db.session.commit()
    sr = file_request(amount="10000.01", status="submitted")
    assert "certify" not in workflow.allowed_actions(user(REQUESTER), sr)
    with pytest.raises(Conflict) as refused:
        workflow.perform(user(REQUESTER), sr, "certify")
    assert "You filed this request, so you cannot certify it" in refused.value.detail
    db.session.rollback()
    assert (sr.status, sr.certified_at) == (Status.SUBMITTED, None)
    act(HEAD, sr, "certify")  # the head still can
    assert sr.status == Status.CERTIFIED


def test_an_alternate_certifies_requests_filed_by_others(file_request, session):
    from jof.core import services
    from jof.core.people import Agency
    from tests.conftest import TEST_PASSWORD

    services.create_user(None, {"email": "second@undp.jof.example", "name": "Second Requester",
                                "agency": "UNDP", "roles": ["requester"], "password": TEST_PASSWORD})
    db.session.scalar(select(Agency).where(Agency.code == "UNDP")).alternate_id = user(REQUESTER).id
    db.session.commit()
    sr = file_request("second@undp.jof.example", amount="10000.01", status="submitted")
    assert "certify" in workflow.allowed_actions(user(REQUESTER), sr)
    act(REQUESTER, sr, "certify")
    assert sr.status == Status.CERTIFIED


def test_at_the_limit_exactly_no_certification_is_needed(file_request, session):
    sr = file_request(amount="10000.00", status="submitted")
    with pytest.raises(Conflict) as guard:
        workflow.perform(user(HEAD), sr, "certify")
    assert "needs no certification" in guard.value.detail
    db.session.rollback()
    act(MANAGER, sr, "approve")
    assert sr.status == Status.APPROVED and sr.certified_at is None


def test_the_limit_is_the_agency_s_own(file_request, session):
    sr = file_request(amount="600.00", status="submitted")
    sr.agency.approval_limit_usd = Decimal("500.00")
    db.session.commit()
    with pytest.raises(Conflict):
        workflow.perform(user(MANAGER), sr, "approve")
    db.session.rollback()
    act(HEAD, sr, "certify")
    assert sr.status == Status.CERTIFIED


def test_rejection_needs_a_reason(file_request, session):
    sr = file_request(status="submitted")
    with pytest.raises(ValidationFailed) as missing:
        workflow.perform(user(MANAGER), sr, "reject", comment="   ")
    assert list(missing.value.errors) == ["comment"]
    db.session.rollback()
    act(MANAGER, sr, "reject", comment="Duplicate of an earlier request.")
    assert sr.status == Status.REJECTED and sr.closed_at is not None
    assert sr.timeline[-1].comment == "Duplicate of an earlier request."
    assert workflow.allowed_actions(user(REQUESTER), sr) == []


def test_agency_head_may_reject_a_submitted_request(file_request, session):
    sr = file_request(amount="50000.00", status="submitted")
    act(HEAD, sr, "reject", comment="Not in this year's budget.")
    assert sr.status == Status.REJECTED


@pytest.mark.parametrize("status", ["draft", "submitted", "certified", "approved"])
def test_requester_cancels_until_work_starts(file_request, session, status):
    sr = file_request(amount="20000.00" if status == "certified" else "1200.00", status=status)
    act(REQUESTER, sr, "cancel")
    assert sr.status == Status.CANCELLED and sr.closed_at is not None


def test_requester_cannot_cancel_once_work_started(file_request, session):
    sr = file_request(status="in_progress")
    with pytest.raises(Forbidden):
        workflow.perform(user(REQUESTER), sr, "cancel")


def test_manager_cancels_work_in_progress_only_with_a_comment(file_request, session):
    sr = file_request(status="in_progress")
    with pytest.raises(ValidationFailed) as missing:
        workflow.perform(user(MANAGER), sr, "cancel")
    assert "comment" in missing.value.errors
    db.session.rollback()
    act(MANAGER, sr, "cancel", comment="The supplier went bankrupt.")
    assert sr.status == Status.CANCELLED


def test_nothing_happens_after_completion(file_request, session):
    sr = file_request(status="completed")
    with pytest.raises(Conflict) as illegal:
        workflow.perform(user(MANAGER), sr, "cancel", comment="too late")
    assert illegal.value.extra["allowed_actions"] == []
    assert "No action is open to you now" in illegal.value.detail


def test_officer_of_another_line_may_not_start_the_work(file_request, session):
    sr = file_request(status="approved")
    with pytest.raises(Forbidden):
        workflow.perform(user(TRAVEL), sr, "start")


def test_partner_agency_request_follows_the_same_lifecycle(file_request, session):
    sr = file_request("requester@unaids.jof.example", amount="25000.00", status="submitted")
    assert sr.reference.startswith("TST-")
    with pytest.raises(NotFound):  # another agency's head does not even see it
        workflow.perform(user(HEAD), sr, "certify")
    db.session.rollback()
    for email, action in [("head@unaids.jof.example", "certify"), (MANAGER, "approve"),
                          (PROCUREMENT, "start"), (PROCUREMENT, "complete")]:
        act(email, sr, action)
    assert sr.status == Status.COMPLETED and sr.version == 6
    assert [e.action for e in sr.timeline] == ["create", "submit", "certify", "approve", "start", "complete"]


# --- the order of checks ----------------------------------------------------------------


def test_another_agency_gets_404_before_anything_else(file_request, session):
    sr = file_request(status="submitted")
    with pytest.raises(NotFound):
        workflow.perform(user(OTHER_REQUESTER), sr, "no-such-action", version=99)


def test_read_only_is_refused_before_the_version_is_checked(file_request, session):
    sr = file_request(status="submitted")
    with pytest.raises(Forbidden) as refused:
        workflow.perform(user(AUDITOR), sr, "approve", version=99)
    assert "reading only" in refused.value.detail


def test_stale_version_is_409_with_the_current_version_before_legality(file_request, session):
    sr = file_request(status="submitted")
    with pytest.raises(Conflict) as stale:
        workflow.perform(user(REQUESTER), sr, "complete", version=1)
    assert stale.value.extra == {"current_version": 2}
    assert "version 1" in stale.value.detail and "version 2" in stale.value.detail


def test_illegal_transition_is_409_listing_the_actor_s_actions_before_the_role(file_request, session):
    sr = file_request()
    with pytest.raises(Conflict) as illegal:
        workflow.perform(user(REQUESTER), sr, "complete", version=1)
    assert illegal.value.extra == {"allowed_actions": ["submit", "cancel"]}
    assert "Allowed now: Submit, Cancel." in illegal.value.detail  # the codes are in allowed_actions
    with pytest.raises(Conflict) as for_manager:
        workflow.perform(user(MANAGER), sr, "complete")
    assert for_manager.value.extra == {"allowed_actions": ["cancel"]}


def test_wrong_role_is_403_before_the_guard(file_request, session):
    sr = file_request(amount="50000.00", status="submitted")  # the approve guard would refuse
    with pytest.raises(Forbidden) as refused:
        workflow.perform(user(REQUESTER), sr, "approve")
    assert "manager" in refused.value.detail


def test_guard_is_409_with_its_reason_before_the_missing_comment(make, session):
    sr = workflow.create_request(user(REQUESTER), "test_guarded", title="No amount")
    db.session.commit()
    with pytest.raises(Conflict) as guard:
        workflow.perform(user(REQUESTER), sr, "close")
    assert guard.value.detail == "An amount is needed first."
    db.session.rollback()
    sr.amount_usd = Decimal("10.00")
    db.session.commit()
    with pytest.raises(ValidationFailed) as missing:
        workflow.perform(user(REQUESTER), sr, "close")
    assert list(missing.value.errors) == ["comment"]
    db.session.rollback()
    workflow.perform(user(REQUESTER), sr, "close", comment="done", payload={"note": "ok"})
    db.session.commit()
    assert sr.status == Status.COMPLETED and sr.completed_at is not None


def test_refused_transition_writes_nothing(file_request, session):
    sr = file_request(status="submitted")
    before = counts(sr)
    attempts = [(MANAGER, "complete", ""), (REQUESTER, "approve", ""), (MANAGER, "reject", ""),
                (HEAD, "certify", ""), (AUDITOR, "approve", ""), (OTHER_REQUESTER, "cancel", "")]
    for email, action, comment in attempts:
        with pytest.raises((Conflict, Forbidden, NotFound, ValidationFailed)):
            workflow.perform(user(email), sr, action, comment)
        db.session.rollback()
    db.session.expire_all()
    sr = req(sr.reference)
    assert counts(sr) == before
    assert (sr.status, sr.version) == (Status.SUBMITTED, 2)


def test_concurrent_writer_holding_the_old_row_gets_409(app, file_request, session):
    sr = file_request(status="submitted")
    db.session.commit()  # keep the loaded row (version 2), release the connection
    # another worker approves the same request meanwhile
    with app.app_context():
        other = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == sr.reference))
        workflow.perform(db.session.scalar(select(User).where(User.email == MANAGER)), other, "approve")
        db.session.commit()
        db.session.remove()
    with pytest.raises(Conflict) as late:
        workflow.perform(user(MANAGER), sr, "reject", comment="late")  # holds version 2
    assert late.value.extra == {"current_version": 3}
    db.session.rollback()
    sr = req(sr.reference)
    assert sr.status == Status.APPROVED
    assert [e.action for e in sr.timeline] == ["create", "submit", "approve"]


def test_a_line_refusing_the_move_leaves_the_request_as_it_was(make, session):
    sr = workflow.create_request(user(REQUESTER), "test_guarded", title="Hooked",
                                 description="refuse", amount_usd=Decimal("5.00"))
    db.session.commit()
    before = counts(sr)
    with pytest.raises(ValidationFailed) as refused:
        workflow.perform(user(REQUESTER), sr, "close", comment="done", payload={"note": "n"})
    assert refused.value.errors == {"details": ["The line refuses this move."]}
    # same session, no rollback by the caller: the engine undid its own changes
    assert (sr.status, sr.version, sr.completed_at) == (Status.DRAFT, 1, None)
    assert [e.action for e in sr.timeline] == ["create"]
    db.session.commit()
    assert counts(sr) == before


def test_the_effect_receives_the_validated_payload(make, session):
    sr = workflow.create_request(user(REQUESTER), "test_guarded", title="Noted", amount_usd=Decimal("5.00"))
    db.session.commit()
    workflow.perform(user(REQUESTER), sr, "close", comment="done", payload={"note": "all good"})
    db.session.commit()
    assert (req(sr.reference).status, req(sr.reference).description) == (
        Status.COMPLETED, "closed with note 'all good'")


@pytest.mark.parametrize("payload, errors", [
    (None, {"note": ["Missing data for required field."]}),
    ({"note": ""}, {"note": ["Length must be between 1 and 20."]}),
    ({"note": "x", "extra": 1}, {"extra": ["Unknown field."]}),
    (["note"], {"_body": ["Send the action's details as a JSON object."]}),
])
def test_an_invalid_payload_is_a_422_before_anything_moves(make, session, payload, errors):
    sr = workflow.create_request(user(REQUESTER), "test_guarded", title="Bad note", amount_usd=Decimal("5.00"))
    db.session.commit()
    before = counts(sr)
    with pytest.raises(ValidationFailed) as refused:
        workflow.perform(user(REQUESTER), sr, "close", comment="done", payload=payload)
    assert refused.value.errors == errors
    assert (sr.status, sr.version) == (Status.DRAFT, 1)
    db.session.commit()
    assert counts(sr) == before


def test_an_effect_for_an_action_the_table_lacks_is_refused_at_registration():
    with pytest.raises(ValueError, match="unknown action 'clsoe'"):
        workflow.RequestType(code="typo", prefix="TYP", label="Typo", service_line="travel",
                             transitions=[workflow.Transition("close", (Status.DRAFT,), Status.COMPLETED,
                                                              (workflow.REQUESTER,))],
                             effects={"clsoe": _line_side_effect})


# --- references -------------------------------------------------------------------------


def test_references_are_gapless_per_prefix_and_year(make, session):
    year = utcnow().year
    first = workflow.create_request(user(REQUESTER), "test", title="One")
    db.session.commit()
    lost = workflow.create_request(user(REQUESTER), "test", title="Rolled back")
    assert lost.reference == f"TST-{year}-00002"
    db.session.rollback()
    second = workflow.create_request(user(OTHER_REQUESTER), "test", title="Two")
    other_prefix = workflow.create_request(user(REQUESTER), "test_guarded", title="Three")
    db.session.commit()
    assert first.reference == f"TST-{year}-00001"
    assert second.reference == f"TST-{year}-00002"
    assert other_prefix.reference == f"TSG-{year}-00001"


def test_only_a_requester_of_the_agency_or_the_manager_files(make, session):
    with pytest.raises(Forbidden):
        workflow.create_request(user(HEAD), "test", title="x")
    with pytest.raises(Forbidden):
        workflow.create_request(user(AUDITOR), "test", title="x", agency=user(REQUESTER).agency)
    with pytest.raises(ValidationFailed) as bad:
        workflow.create_request(user(REQUESTER), "test", title=" ", amount_usd=Decimal("-1"))
    assert set(bad.value.errors) == {"title", "amount_usd"}
    sr = workflow.create_request(user(MANAGER), "test", title="For UNDP", agency=user(REQUESTER).agency)
    assert sr.agency.code == "UNDP"


# --- the queue --------------------------------------------------------------------------


def _refs(user_email: str, **filters) -> set[str]:
    return {sr.reference for sr in db.session.scalars(queue_query(user(user_email), QueueFilter(**filters)))}


@pytest.fixture
def queue(file_request, make, session):
    undp_draft = file_request()
    undp_done = file_request(status="completed")
    unfpa_sub = file_request(OTHER_REQUESTER, status="submitted")
    db.session.commit()
    travel = req(make.request(OTHER_REQUESTER, request_type="test_guarded"))
    return {"undp_draft": undp_draft.reference, "undp_done": undp_done.reference,
            "unfpa_sub": unfpa_sub.reference, "travel": travel.reference}


def test_queue_filters_by_line_type_agency_and_status(queue, session):
    q = queue
    assert _refs(MANAGER) == set(q.values())
    assert _refs(MANAGER, line="procurement") == {q["undp_draft"], q["undp_done"], q["unfpa_sub"]}
    assert _refs(MANAGER, line="travel") == {q["travel"]}
    assert _refs(MANAGER, line="test_guarded") == {q["travel"]}
    assert _refs(MANAGER, line="ict") == set()
    assert _refs(MANAGER, agency="UNFPA") == {q["unfpa_sub"], q["travel"]}
    assert _refs(MANAGER, agency="unfpa", status="submitted") == {q["unfpa_sub"]}
    assert _refs(MANAGER, open_only=True) == {q["undp_draft"], q["unfpa_sub"], q["travel"]}


def test_queue_is_scoped_to_the_agency_for_agency_users(queue, session):
    q = queue
    assert _refs(REQUESTER) == {q["undp_draft"], q["undp_done"]}
    assert _refs(REQUESTER, agency="UNFPA") == set()
    assert _refs(AUDITOR) == set(q.values())


def test_queue_filters_by_age(queue, session):
    old = req(queue["unfpa_sub"])
    old.created_at = utcnow() - timedelta(days=10)
    db.session.commit()
    assert _refs(MANAGER, min_age_days=7) == {queue["unfpa_sub"]}
    assert _refs(MANAGER, min_age_days=11) == set()


def test_queue_filters_by_sla_breach(queue, session):
    now = utcnow()
    late, on_time, done_in_time = req(queue["unfpa_sub"]), req(queue["undp_draft"]), req(queue["undp_done"])
    late.sla_due_at = now - timedelta(hours=1)
    on_time.sla_due_at = now + timedelta(hours=1)
    done_in_time.sla_due_at = done_in_time.completed_at + timedelta(minutes=1)
    db.session.commit()
    assert _refs(MANAGER, sla_breached=True) == {queue["unfpa_sub"]}
    assert _refs(MANAGER, sla_breached=False) == {queue["undp_draft"], queue["undp_done"], queue["travel"]}
    assert late.sla_breached and not on_time.sla_breached and not done_in_time.sla_breached
    done_in_time.sla_due_at = done_in_time.completed_at - timedelta(minutes=1)
    db.session.commit()
    assert queue["undp_done"] in _refs(MANAGER, sla_breached=True)


def test_two_simultaneous_approvals_record_exactly_one(app, api, make):
    """Two managers' clients race to approve: one wins, the other gets 409, one entry."""
    import threading

    clients = [api(MANAGER), api(MANAGER)]
    for _round in range(3):
        ref = make.request(status="submitted")
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def approve(c, ref=ref, barrier=barrier, codes=codes):
            barrier.wait()
            r = c.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": 2})
            codes.append(r.status_code)

        threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(codes) == [200, 409]
        with app.app_context():
            sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == ref))
            assert (sr.status, sr.version) == (Status.APPROVED, 3)
            assert [e.action for e in sr.timeline].count("approve") == 1
            assert db.session.scalar(select(func.count(AuditEvent.id)).where(
                AuditEvent.object_id == ref, AuditEvent.action == "request.approve")) == 1
            db.session.remove()
