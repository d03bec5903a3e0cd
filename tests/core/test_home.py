"""The home page says what needs this person now, by role (DESIGN §9)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from jof.core.db import db
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from tests.querycount import statements

MANAGER = "manager@jof.example"
REQUESTER = "requester@undp.jof.example"
HEAD = "head@undp.jof.example"
OFFICER = "procurement@jof.example"


def _waiting(html: str) -> int:
    found = re.search(r'data-testid="waiting-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


def _home(web, email: str) -> str:
    r = web(email).get("/")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_agency_staff_get_a_new_request_menu_for_every_kind_they_can_file(web):
    html = _home(web, REQUESTER)
    assert 'data-testid="new-request"' in html
    for path in ("/procurement/requisitions/new", "/travel/requests/new", "/ict/tickets/new",
                 "/ict/subscriptions/new"):
        assert f'href="{path}"' in html, path
    assert "Nothing waits for you at the moment." in html


def test_facility_staff_and_the_auditor_get_no_new_request_menu(web):
    for email in (MANAGER, OFFICER, "auditor@jof.example"):
        assert 'data-testid="new-request"' not in _home(web, email), email


def test_a_draft_waits_for_its_requester_and_no_one_else_of_the_agency(web, make):
    ref = make.request(REQUESTER, title="Chairs for the meeting room", status="draft")
    html = _home(web, REQUESTER)
    assert _waiting(html) == 1 and ref in html
    assert _waiting(_home(web, HEAD)) == 0
    assert _waiting(_home(web, MANAGER)) == 0


def test_a_request_within_the_limit_waits_for_the_manager_above_it_for_the_head(web, make):
    small = make.request(REQUESTER, title="Toner", amount_usd="500.00", status="submitted")
    large = make.request(REQUESTER, title="Vehicle", amount_usd="50000.00", status="submitted")
    manager = _home(web, MANAGER)
    assert _waiting(manager) == 1 and small in manager and large not in manager.split("Open queue")[0]
    head = _home(web, HEAD)
    assert _waiting(head) == 1 and large in head.split("My agency")[0]
    assert _waiting(_home(web, "head@unfpa.jof.example")) == 0  # another agency's head


def test_a_certified_request_moves_from_the_head_to_the_manager(web, make):
    make.request(REQUESTER, title="Vehicle", amount_usd="50000.00", status="certified")
    assert _waiting(_home(web, HEAD)) == 0
    assert _waiting(_home(web, MANAGER)) == 1


def test_approved_work_waits_for_the_officers_of_its_line_not_the_manager(web, make):
    make.request(REQUESTER, title="Toner", amount_usd="500.00", status="approved")
    assert _waiting(_home(web, OFFICER)) == 1
    assert _waiting(_home(web, "travel@jof.example")) == 0
    assert _waiting(_home(web, MANAGER)) == 0


def test_the_auditor_reads_only_so_nothing_waits_for_them(web, make):
    make.request(REQUESTER, title="Toner", amount_usd="500.00", status="submitted")
    html = _home(web, "auditor@jof.example")
    assert _waiting(html) == 0 and 'data-testid="panel-waiting"' not in html


def test_a_partner_head_is_told_in_plain_words_that_partners_do_not_vote(web):
    html = _home(web, "head@unaids.jof.example")
    assert 'data-testid="partner-note"' in html and "partners do not vote" in html
    assert 'data-testid="partner-note"' not in _home(web, HEAD)


def test_the_home_page_costs_the_same_statements_for_10_and_100_waiting_requests(app, web):
    manager = web(MANAGER)

    def count_with(n: int) -> int:
        """Top the waiting requests up to ``n`` (bare rows, as in test_query_counts)."""
        with app.app_context():
            undp = db.session.scalar(select(Agency.id).where(Agency.code == "UNDP"))
            requester = db.session.scalar(select(User.id).where(User.email == REQUESTER))
            now = utcnow()
            have = db.session.scalar(select(func.count(ServiceRequest.id)))
            db.session.add_all(ServiceRequest(
                reference=f"TST-2026-{i + 1:05d}", request_type="test", agency_id=undp,
                requester_id=requester, title=f"Request {i}", status="submitted", created_at=now,
                status_changed_at=now) for i in range(have, n))
            db.session.commit()
            db.session.remove()
        with statements(app) as counted:
            r = manager.get("/")
        assert r.status_code == 200 and _waiting(r.get_data(as_text=True)) == n
        return counted.count

    assert count_with(10) == count_with(100)
