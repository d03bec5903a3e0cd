"""A page costs the same number of SQL statements whether it shows 10 rows or 100."""

from __future__ import annotations

from sqlalchemy import select

from jof.core.db import db
from jof.core.people import Agency, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from tests.querycount import statements

MANAGER = "manager@jof.example"


def _many_requests(app, n: int) -> None:
    """``n`` requests, each by a requester of its own (bare rows: the page reads the
    spine only), so a statement per requester or per row would show. Written in an app
    context of its own, so the pages measured start with an empty session."""
    with app.app_context():
        _write_requests(n)
        db.session.remove()


def _write_requests(n: int) -> None:
    agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
    requesters = []
    for i in range(n):
        who = User(email=f"requester{i}@bulk.jof.example", name=f"Requester {i}",
                   agency_id=agencies[i % len(agencies)].id, password_hash="!")
        who.role_rows.append(UserRole(role=Role.REQUESTER))
        requesters.append(who)
    db.session.add_all(requesters)
    db.session.flush()
    now = utcnow()
    for i in range(n):
        who = requesters[i]
        db.session.add(ServiceRequest(
            reference=f"TST-2026-{i + 1:05d}", request_type="test", agency_id=who.agency_id,
            requester_id=who.id, title=f"Request {i}", status="submitted", created_at=now,
            status_changed_at=now))
    db.session.commit()


def _count(app, client, path: str) -> int:
    with statements(app) as counted:
        r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return counted.count


def test_the_request_list_costs_the_same_statements_for_10_and_100_rows(app, demo, api):
    _many_requests(app, 120)
    manager = api(MANAGER)
    manager.get("/api/v1/me")  # warm the token's own lookups out of the comparison
    small = _count(app, manager, "/api/v1/requests?per_page=10")
    large = _count(app, manager, "/api/v1/requests?per_page=100")
    assert large == small, (small, large)


def test_the_queue_page_costs_the_same_statements_for_10_and_100_rows(app, demo, web):
    _many_requests(app, 120)
    manager = web(MANAGER)
    app.config["PER_PAGE_DEFAULT"], default = 10, app.config["PER_PAGE_DEFAULT"]
    try:
        small = _count(app, manager, "/queue")
        app.config["PER_PAGE_DEFAULT"] = 100
        large = _count(app, manager, "/queue")
    finally:
        app.config["PER_PAGE_DEFAULT"] = default
    assert large == small, (small, large)
