"""The Resident Coordinator (DESIGN §1, issue 12): one per facility, chairs the board —
proposes, opens and closes decisions — is told what the manager is told of the board,
and never votes: one agency, one vote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from jof.core import services
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.notifications import Notification
from jof.core.timeutil import utcnow
from jof.governance.models import Decision, Vote
from tests.conftest import csrf_from

from .conftest import MEMBERS

RC = "rc@jof.example"


def _open_by_rc(api) -> int:
    rc = api(RC)
    r = rc.post("/api/v1/governance/decisions", json={"title": "Adopt the 2027 budget", "kind": "general"})
    assert r.status_code == 201, r.get_json()
    decision_id = r.get_json()["id"]
    closes = (utcnow() + timedelta(days=3)).isoformat()
    r = rc.post(f"/api/v1/governance/decisions/{decision_id}/open", json={"closes_at": closes})
    assert r.status_code == 200, r.get_json()
    return decision_id


def test_the_resident_coordinator_proposes_opens_and_closes_decisions(app, api, board):
    decision_id = _open_by_rc(api)
    with app.app_context():
        db.session.execute(update(Decision).where(Decision.id == decision_id)
                           .values(closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    r = api(RC).post(f"/api/v1/governance/decisions/{decision_id}/close")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "closed"


def test_the_resident_coordinator_cannot_vote_over_the_api(app, api, board):
    decision_id = _open_by_rc(api)
    r = api(RC).put(f"/api/v1/governance/decisions/{decision_id}/vote", json={"choice": "yes"})
    assert r.status_code == 403
    assert "do not vote" in r.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_the_resident_coordinator_cannot_vote_with_the_form(app, api, web):
    decision_id = _open_by_rc(api)
    browser = web(RC)
    page = browser.get(f"/governance/decisions/{decision_id}")
    assert page.status_code == 200 and b"Cast vote" not in page.data
    r = browser.post(f"/governance/decisions/{decision_id}/vote",
                     data={"csrf_token": csrf_from(page.get_data(as_text=True)), "choice": "yes"})
    assert r.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_the_resident_coordinator_is_told_when_a_vote_closes(app, board):
    decision = board.open()
    for code in MEMBERS:
        board.vote(decision, code, "yes")  # the last vote closes it early
    rc = board.user(RC)
    notes = db.session.scalars(select(Notification.message).where(Notification.user_id == rc.id)).all()
    assert any(m.startswith("Vote closed on") and "adopted" in m for m in notes)


def test_a_facility_has_one_resident_coordinator(app, demo, api):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            services.create_user(None, {"email": "rc2@jof.example", "name": "Second RC",
                                        "roles": ["resident_coordinator"], "password": "a-long-password-1"})
        assert "rc@jof.example" in refused.value.errors["roles"][0]
        db.session.rollback()
    r = api("admin@jof.example").post("/api/v1/users", json={
        "email": "rc2@jof.example", "name": "Second RC", "roles": ["resident_coordinator"],
        "password": "a-long-password-1"})
    assert r.status_code == 422 and "roles" in r.get_json()["errors"]


def test_the_resident_coordinator_role_can_move_to_a_successor(app, demo):
    with app.app_context():
        current = db.session.scalar(select(services.User).where(services.User.email == RC))
        admin = db.session.scalar(select(services.User).where(services.User.email == "admin@jof.example"))
        services.update_user(admin, current, {"roles": ["auditor"]})
        successor = services.create_user(None, {"email": "rc2@jof.example", "name": "New RC",
                                                "roles": ["resident_coordinator"], "password": "a-long-password-1"})
        assert successor.has_role("resident_coordinator")
        db.session.rollback()


def test_the_demo_lists_the_resident_coordinator_login(app, demo):
    from jof import demo as demo_module

    with app.app_context():
        result = demo_module.load("test-password-123")
        assert RC in demo_module.describe(result)
        db.session.rollback()


def _step_down(app) -> None:
    """The demo's Resident Coordinator becomes an auditor: nobody holds the role."""
    with app.app_context():
        admin = db.session.scalar(select(services.User).where(services.User.email == "admin@jof.example"))
        current = db.session.scalar(select(services.User).where(services.User.email == RC))
        services.update_user(admin, current, {"roles": ["auditor"]})
        db.session.commit()
        db.session.remove()


def test_the_database_refuses_a_second_resident_coordinator_whatever_the_service_checks(app, demo):
    from sqlalchemy.exc import IntegrityError

    from jof.core.people import UserRole

    with app.app_context():
        other = db.session.scalar(select(services.User).where(services.User.email == "auditor@jof.example"))
        db.session.add(UserRole(user_id=other.id, role="resident_coordinator"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_deactivated_resident_coordinator_keeps_the_role_until_an_admin_removes_it(app, demo, api):
    with app.app_context():
        admin = db.session.scalar(select(services.User).where(services.User.email == "admin@jof.example"))
        current = db.session.scalar(select(services.User).where(services.User.email == RC))
        services.update_user(admin, current, {"active": False})
        db.session.commit()
        db.session.remove()
    r = api("admin@jof.example").post("/api/v1/users", json={"email": "rc2@jof.example", "name": "Second RC",
                                          "roles": ["resident_coordinator"], "password": "a-long-password-1"})
    assert r.status_code == 422
    assert r.get_json()["errors"]["roles"] == [
        "The facility has one resident coordinator: rc@jof.example (deactivated). "
        "Remove the role from that account first."]


@pytest.mark.postgres_only
def test_two_admins_naming_two_resident_coordinators_at_once_leave_exactly_one(app, demo, api, monkeypatch):
    """Both requests pass the service's check before either writes (a barrier holds them
    there); the unique index lets one in and the other gets the check's own 422."""
    import threading

    from jof.core.people import UserRole
    from tests.conftest import race

    _step_down(app)
    admins = [api("admin@jof.example"), api("admin@jof.example")]
    checked = threading.Barrier(2)
    apply_roles = services._apply_roles

    def after_both_checked(user, roles, lines):
        checked.wait(timeout=30)
        return apply_roles(user, roles, lines)

    monkeypatch.setattr(services, "_apply_roles", after_both_checked)

    def name(i: int):
        r = admins[i].post("/api/v1/users", json={
            "email": f"rc-{i}@jof.example", "name": f"Resident Coordinator {i}",
            "roles": ["resident_coordinator"], "password": "a-long-password-1"})
        return r.status_code, r.get_json()

    results = race(2, name)
    statuses = sorted(r[0] for r in results)
    assert statuses == [201, 422], results
    winner = next(r[1]["email"] for r in results if r[0] == 201)
    loser = next(r[1] for r in results if r[0] == 422)
    assert loser["errors"]["roles"] == [f"The facility has one resident coordinator: {winner}. "
                                        "Remove the role from that account first."]
    with app.app_context():
        holders = db.session.scalars(select(services.User.email).join(UserRole, UserRole.user_id == services.User.id)
                                     .where(UserRole.role == "resident_coordinator")).all()
        assert holders == [winner]
