"""Authorization in one place (DESIGN §9): another agency's object is 404, a missing role
403, the auditor reads everything and changes nothing, facility staff see every agency,
and the agency head's alternate certifies like the head."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jof.core import auth, authz, workflow
from jof.core.db import db
from jof.core.errors import Forbidden, NotFound
from jof.core.people import Agency, Role, User, UserRole
from tests.conftest import TEST_PASSWORD, csrf_from

UNDP_REQUESTER = "requester@undp.jof.example"
UNDP_HEAD = "head@undp.jof.example"
UNFPA_REQUESTER = "requester@unfpa.jof.example"
UNFPA_HEAD = "head@unfpa.jof.example"
ALTERNATE = "deputy@undp.jof.example"
FACILITY_STAFF = ["manager@jof.example", "procurement@jof.example", "travel@jof.example",
                  "ict@jof.example", "auditor@jof.example", "admin@jof.example"]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _status(app, reference: str) -> tuple[str, int]:
    with app.app_context():
        sr = db.session.scalar(select(workflow.ServiceRequest)
                               .where(workflow.ServiceRequest.reference == reference))
        return sr.status, sr.version


@pytest.fixture
def alternate(app, demo):
    """A UNDP deputy (plain requester) whom UNDP names as its head's alternate."""
    with app.app_context():
        undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
        deputy = User(email=ALTERNATE, name="UNDP Deputy", agency_id=undp.id,
                      password_hash=auth.hash_password(TEST_PASSWORD),
                      role_rows=[UserRole(role=Role.REQUESTER)])
        db.session.add(deputy)
        db.session.flush()
        undp.alternate_id = deputy.id
        db.session.commit()
    return ALTERNATE


# --- service level ----------------------------------------------------------------------


def test_another_agency_s_request_is_not_found_like_a_missing_one(make, session):
    ref = make.request(UNDP_REQUESTER)
    with pytest.raises(NotFound) as other:
        workflow.get_by_reference(_user(UNFPA_REQUESTER), ref)
    with pytest.raises(NotFound) as missing:
        workflow.get_by_reference(_user(UNFPA_REQUESTER), "TST-1999-99999")
    assert other.value.detail == missing.value.detail
    assert workflow.get_by_reference(_user(UNDP_HEAD), ref).reference == ref


@pytest.mark.parametrize("email", FACILITY_STAFF)
def test_facility_staff_see_every_agency(make, session, email):
    refs = {make.request(UNDP_REQUESTER), make.request(UNFPA_REQUESTER),
            make.request("requester@unaids.jof.example")}
    staff = _user(email)
    for ref in refs:
        assert workflow.get_by_reference(staff, ref).reference == ref
    seen = {sr.reference for sr in db.session.scalars(workflow.visible_requests(staff))}
    assert seen == refs


def test_agency_users_see_only_their_agency(make, session):
    mine, theirs = make.request(UNDP_REQUESTER), make.request(UNFPA_REQUESTER)
    seen = {sr.reference for sr in db.session.scalars(workflow.visible_requests(_user(UNDP_HEAD)))}
    assert seen == {mine}
    assert theirs not in seen


def test_ensure_visible_refuses_objects_of_no_agency_to_agency_users(demo, session):
    with pytest.raises(NotFound):
        authz.ensure_visible(_user(UNDP_REQUESTER), None)
    authz.ensure_visible(_user("manager@jof.example"), None)


def test_only_the_auditor_is_read_only(demo, session):
    assert authz.is_read_only(_user("auditor@jof.example"))
    for email in ["manager@jof.example", "admin@jof.example", UNDP_REQUESTER, UNDP_HEAD]:
        assert not authz.is_read_only(_user(email))
    with pytest.raises(Forbidden):
        authz.ensure_can_change(_user("auditor@jof.example"))


def test_auditor_changes_nothing_through_the_engine(make, session):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    auditor = _user("auditor@jof.example")
    sr = workflow.get_by_reference(auditor, ref)
    assert workflow.allowed_actions(auditor, sr) == []
    with pytest.raises(Forbidden):
        workflow.perform(auditor, sr, "approve", version=sr.version)
    with pytest.raises(Forbidden):
        workflow.create_request(auditor, "test", title="x", agency=sr.agency)


def test_head_and_named_alternate_are_heads_of_their_agency_only(alternate, session):
    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    unfpa = db.session.scalar(select(Agency).where(Agency.code == "UNFPA"))
    assert authz.is_head_of(_user(UNDP_HEAD), undp)
    assert authz.is_head_of(_user(ALTERNATE), undp)
    assert not authz.is_head_of(_user(ALTERNATE), unfpa)
    assert not authz.is_head_of(_user(UNFPA_HEAD), undp)
    assert not authz.is_head_of(_user(UNDP_REQUESTER), undp)
    _user(UNDP_HEAD).active = False
    assert not authz.is_head_of(_user(UNDP_HEAD), undp)


def test_alternate_certifies_like_the_head(alternate, make, session):
    ref = make.request(UNDP_REQUESTER, amount_usd="25000.00", status="submitted")
    sr = workflow.get_by_reference(_user(ALTERNATE), ref)
    with pytest.raises(Forbidden):
        workflow.perform(_user(UNDP_REQUESTER), sr, "certify")
    assert workflow.allowed_actions(_user(ALTERNATE), sr) == ["certify", "reject", "cancel"]
    workflow.perform(_user(ALTERNATE), sr, "certify")
    db.session.commit()
    assert sr.status == workflow.Status.CERTIFIED
    assert sr.timeline[-1].actor.email == ALTERNATE


def test_an_alternate_no_longer_named_cannot_certify(alternate, make, session):
    ref = make.request(UNDP_REQUESTER, amount_usd="25000.00", status="submitted")
    db.session.scalar(select(Agency).where(Agency.code == "UNDP")).alternate_id = None
    db.session.commit()
    sr = workflow.get_by_reference(_user(ALTERNATE), ref)
    with pytest.raises(Forbidden):
        workflow.perform(_user(ALTERNATE), sr, "certify")


# --- API --------------------------------------------------------------------------------


def test_api_another_agency_s_request_is_404(api, make):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    unfpa = api(UNFPA_REQUESTER)
    r = unfpa.get(f"/api/v1/requests/{ref}")
    assert r.status_code == 404 and r.get_json()["detail"] == "No such request."
    r = unfpa.post(f"/api/v1/requests/{ref}/transitions", json={"action": "cancel", "version": 2})
    assert r.status_code == 404
    listed = unfpa.get("/api/v1/requests").get_json()
    assert ref not in {item["reference"] for item in listed["items"]}
    head = api(UNFPA_HEAD)
    assert head.post(f"/api/v1/requests/{ref}/transitions",
                     json={"action": "reject", "comment": "no", "version": 2}).status_code == 404
    assert api(UNDP_HEAD).get(f"/api/v1/requests/{ref}").status_code == 200


def test_api_facility_staff_list_every_agency(api, make):
    refs = {make.request(UNDP_REQUESTER), make.request(UNFPA_REQUESTER)}
    for email in ("manager@jof.example", "auditor@jof.example"):
        body = api(email).get("/api/v1/requests").get_json()
        assert {item["reference"] for item in body["items"]} == refs


def test_api_missing_role_is_403(app, api, make):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    r = api(UNDP_REQUESTER).post(f"/api/v1/requests/{ref}/transitions",
                                 json={"action": "approve", "version": 2})
    assert r.status_code == 403
    assert _status(app, ref) == ("submitted", 2)
    assert api(UNDP_REQUESTER).get("/api/v1/audit").status_code == 403


def test_api_auditor_reads_everything_and_changes_nothing(app, api, make):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    auditor = api("auditor@jof.example")
    assert auditor.get(f"/api/v1/requests/{ref}").get_json()["allowed_actions"] == []
    assert auditor.get("/api/v1/audit").status_code == 200
    r = auditor.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": 2})
    assert r.status_code == 403 and "reading only" in r.get_json()["detail"]
    assert auditor.patch("/api/v1/agencies/UNDP", json={"name": "Renamed"}).status_code == 403
    assert auditor.post("/api/v1/exchange-rates", json={"currency": "BRL", "month": "2026-01",
                                                        "units_per_usd": "5.10"}).status_code == 403
    assert _status(app, ref) == ("submitted", 2)
    # their own session is theirs to end
    assert auditor.delete("/api/v1/auth/token").status_code == 204
    assert auditor.get("/api/v1/me").status_code == 401


def test_api_alternate_certifies(api, make, alternate):
    ref = make.request(UNDP_REQUESTER, amount_usd="25000.00", status="submitted")
    r = api(ALTERNATE).post(f"/api/v1/requests/{ref}/transitions", json={"action": "certify", "version": 2})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "certified" and r.get_json()["version"] == 3


def test_api_transition_conflicts_carry_what_the_client_needs(api, make):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    manager = api("manager@jof.example")
    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": 1})
    assert r.status_code == 409 and r.get_json()["current_version"] == 2
    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "complete", "version": 2})
    assert r.status_code == 409 and r.get_json()["allowed_actions"] == ["approve", "reject", "cancel"]
    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "reject", "version": 2})
    assert r.status_code == 422 and "comment" in r.get_json()["errors"]
    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": 2})
    assert r.status_code == 200 and r.get_json()["status"] == "approved"


# --- HTML -------------------------------------------------------------------------------


def _post_action(client, ref: str, action: str, version: int, comment: str = "", token_from: str = "/"):
    token = csrf_from(client.get(token_from).get_data(as_text=True))
    return client.post(f"/requests/{ref}/transitions",
                       data={"action": action, "version": str(version), "comment": comment,
                             "csrf_token": token})


def test_ui_another_agency_s_request_is_404(web, make, app):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    unfpa = web(UNFPA_REQUESTER)
    assert unfpa.get(f"/requests/{ref}").status_code == 404
    assert _post_action(unfpa, ref, "cancel", 2).status_code == 404
    assert ref.encode() not in unfpa.get("/queue").data
    assert _status(app, ref) == ("submitted", 2)
    page = web(UNDP_HEAD).get(f"/requests/{ref}")
    assert page.status_code == 200 and ref.encode() in page.data


def test_ui_auditor_reads_every_agency_and_changes_nothing(web, make, app):
    ref = make.request(UNFPA_REQUESTER, status="submitted")
    auditor = web("auditor@jof.example")
    page = auditor.get(f"/requests/{ref}")
    assert page.status_code == 200 and b'data-testid="action-' not in page.data
    assert _post_action(auditor, ref, "approve", 2, token_from=f"/requests/{ref}").status_code == 403
    assert _status(app, ref) == ("submitted", 2)
    token = csrf_from(auditor.get("/").get_data(as_text=True))
    assert auditor.post("/logout", data={"csrf_token": token}).status_code == 302


def test_ui_missing_role_is_403_and_the_right_role_moves_the_request(web, make, app):
    ref = make.request(UNDP_REQUESTER, amount_usd="25000.00", status="submitted")
    requester = web(UNDP_REQUESTER)
    assert _post_action(requester, ref, "certify", 2, token_from=f"/requests/{ref}").status_code == 403
    head = web(UNDP_HEAD)
    assert b'data-testid="action-certify"' in head.get(f"/requests/{ref}").data
    r = _post_action(head, ref, "certify", 2, token_from=f"/requests/{ref}")
    assert r.status_code == 302
    assert _status(app, ref) == ("certified", 3)


def test_ui_transition_needs_the_csrf_token(web, make, app):
    ref = make.request(UNDP_REQUESTER)
    requester = web(UNDP_REQUESTER)
    r = requester.post(f"/requests/{ref}/transitions", data={"action": "submit", "version": "1"})
    assert r.status_code == 400
    assert _status(app, ref) == ("draft", 1)


def test_ui_stale_form_is_409(web, make, app):
    ref = make.request(UNDP_REQUESTER, status="submitted")
    r = _post_action(web("manager@jof.example"), ref, "approve", 1, token_from=f"/requests/{ref}")
    assert r.status_code == 409
    assert _status(app, ref) == ("submitted", 2)
