"""Tickets on the service desk (DESIGN §5): filed by a requester for their agency,
taken, worked, paused while waiting on the requester, resolved, reopened within 5
working days, closed; priority from urgency × impact; SLA due on the spine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jof.core import waiting, workflow
from jof.core.db import db
from jof.ict import sla, states
from jof.ict.models import IctTicket

REQUESTER = "requester@undp.jof.example"
OTHER_AGENCY = "requester@unfpa.jof.example"
ICT = "ict@jof.example"
MANAGER = "manager@jof.example"


def file(api_client, **overrides):
    body = {"title": "Cannot send e-mail", "description": "Outbox stuck since 9:00.", "kind": "incident",
            "category": "email", "service": "email_account", "urgency": "high", "impact": "high"}
    body.update(overrides)
    r = api_client.post("/api/v1/ict/tickets", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def move(api_client, reference, action, comment="", expect=200):
    version = api_client.get(f"/api/v1/requests/{reference}").get_json()["version"]
    r = api_client.post(f"/api/v1/requests/{reference}/transitions",
                        json={"action": action, "comment": comment, "version": version})
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def ticket_row(app, reference) -> IctTicket:
    from jof.core.workflow import ServiceRequest

    return db.session.scalar(select(IctTicket).join(ServiceRequest, ServiceRequest.id == IctTicket.request_id)
                             .where(ServiceRequest.reference == reference))


def test_requester_files_a_ticket_for_their_agency_with_priority_and_due_times(api):
    t = file(api(REQUESTER))

    assert t["reference"].startswith("ICT-")
    assert (t["status"], t["agency"], t["requester"], t["priority"]) == ("new", "UNDP", REQUESTER, "P1")
    assert t["resolve_due_at"] and t["own_due_at"] and t["assignee"] is None
    spine = api(REQUESTER).get(f"/api/v1/requests/{t['reference']}").get_json()
    assert spine["request_type"] == "ict_ticket"
    assert spine["sla_due_at"] == t["resolve_due_at"]
    assert [e["action"] for e in spine["timeline"]] == ["create", "submit"]


def test_due_times_follow_the_working_calendar(app, api):
    t = file(api(REQUESTER), urgency="medium", impact="medium")  # P3: 4 h / 24 h
    with app.app_context():
        row = ticket_row(app, t["reference"])
        cal = sla.Clock().cal
        assert row.priority == "P3"
        assert row.own_due_at == cal.add(row.opened_at, timedelta(hours=4))
        assert row.resolve_due_at == cal.add(row.opened_at, timedelta(hours=24))


def test_bad_levels_are_field_errors(api):
    r = api(REQUESTER).post("/api/v1/ict/tickets", json={"title": "x", "urgency": "extreme", "impact": "high"})
    assert r.status_code == 422
    assert "urgency" in r.get_json()["errors"]


def test_another_agency_gets_404_and_the_auditor_403(api):
    ref = file(api(REQUESTER))["reference"]
    assert api(OTHER_AGENCY).get(f"/api/v1/ict/tickets/{ref}").status_code == 404
    assert api(OTHER_AGENCY).post(f"/api/v1/ict/tickets/{ref}/comments", json={"body": "hi"}).status_code == 404
    assert api("auditor@jof.example").get(f"/api/v1/ict/tickets/{ref}").status_code == 200
    assert api("auditor@jof.example").post("/api/v1/ict/tickets", json={
        "title": "x", "urgency": "low", "impact": "low"}).status_code == 403
    listing = api(OTHER_AGENCY).get("/api/v1/ict/tickets").get_json()
    assert listing["total"] == 0


def test_full_lifecycle_take_work_wait_reply_resolve_close(app, api):
    requester, ict = api(REQUESTER), api(ICT)
    ref = file(requester)["reference"]

    assert move(ict, ref, "take")["status"] == "assigned"
    assert ict.get(f"/api/v1/ict/tickets/{ref}").get_json()["assignee"] == ICT
    assert move(ict, ref, "start")["status"] == "in_progress"
    move(ict, ref, "wait", expect=422)  # the question to the requester is required
    waiting = move(ict, ref, "wait", comment="Which mail client do you use?")
    assert waiting["status"] == "waiting_on_requester" and waiting["sla_due_at"] is None
    assert ict.get(f"/api/v1/ict/tickets/{ref}").get_json()["paused"] is True

    # The requester's reply restarts the clock.
    r = requester.post(f"/api/v1/ict/tickets/{ref}/comments", json={"body": "Outlook on Windows."})
    assert r.status_code == 201
    now = ict.get(f"/api/v1/ict/tickets/{ref}").get_json()
    assert (now["status"], now["paused"]) == ("in_progress", False)
    assert [c["body"] for c in requester.get(f"/api/v1/ict/tickets/{ref}/comments").get_json()] == [
        "Outlook on Windows."]

    resolved = move(ict, ref, "resolve", comment="Rebuilt the mail profile.")
    assert resolved["status"] == "resolved" and resolved["completed_at"]
    assert move(requester, ref, "close")["status"] == "closed"
    # Closed is final: not in the open queue any more.
    open_refs = [x["reference"] for x in api(MANAGER).get("/api/v1/requests?open_only=true").get_json()["items"]]
    assert ref not in open_refs


def test_only_ict_officers_take_tickets(api):
    ref = file(api(REQUESTER))["reference"]
    move(api("procurement@jof.example"), ref, "take", expect=403)
    move(api(REQUESTER), ref, "take", expect=403)


def second_officer(app) -> str:
    """A second ICT officer (same password as the demo's), by e-mail."""
    from jof.core.people import Role, User, UserRole

    with app.app_context():
        other = User(email="ict2@jof.example", name="Second ICT Officer", password_hash=db.session.scalar(
            select(User.password_hash).where(User.email == ICT)), locale="en", active=True, session_version=1)
        other.role_rows.append(UserRole(role=Role.OFFICER, service_line="ict"))
        db.session.add(other)
        db.session.commit()
    return "ict2@jof.example"


def test_someone_elses_ticket_cannot_be_resolved_by_another_officer(app, api, demo):
    second_officer(app)
    ref = file(api(REQUESTER))["reference"]
    move(api(ICT), ref, "take")
    move(api("ict2@jof.example"), ref, "resolve", comment="done", expect=409)
    # The manager may reassign it, and then the second officer may resolve it.
    r = api(MANAGER).post(f"/api/v1/ict/tickets/{ref}/assign", json={"assignee": "ict2@jof.example"})
    assert r.status_code == 200 and r.get_json()["assignee"] == "ict2@jof.example"
    assert move(api("ict2@jof.example"), ref, "resolve", comment="done")["status"] == "resolved"


def test_assign_needs_an_ict_officer(api):
    ref = file(api(REQUESTER))["reference"]
    r = api(MANAGER).post(f"/api/v1/ict/tickets/{ref}/assign", json={"assignee": "travel@jof.example"})
    assert r.status_code == 422 and "assignee" in r.get_json()["errors"]
    # The bare transition without an assignee is refused as well, and nothing moved.
    move(api(MANAGER), ref, "assign", expect=422)
    assert api(MANAGER).get(f"/api/v1/ict/tickets/{ref}").get_json()["status"] == "new"


def test_reopen_within_five_working_days_and_not_after(app, api):
    requester, ict = api(REQUESTER), api(ICT)
    ref = file(requester)["reference"]
    move(ict, ref, "take")
    move(ict, ref, "resolve", comment="Fixed.")
    reopened = move(requester, ref, "reopen", comment="Still broken.")
    assert reopened["status"] == "in_progress" and reopened["completed_at"] is None
    move(ict, ref, "resolve", comment="Fixed for real.")
    with app.app_context():
        row = ticket_row(app, ref)
        row.resolved_at = row.resolved_at - timedelta(days=10)  # two calendar weeks: > 5 working days
        db.session.commit()
    r = requester.post(f"/api/v1/requests/{ref}/transitions", json={
        "action": "reopen", "comment": "Again", "version": requester.get(f"/api/v1/requests/{ref}").get_json()["version"]})
    assert r.status_code == 409
    assert "5 working days" in r.get_json()["detail"]


def test_time_resolved_before_a_reopening_does_not_count(app, api):
    requester, ict = api(REQUESTER), api(ICT)
    ref = file(requester)["reference"]
    move(ict, ref, "take")
    move(ict, ref, "resolve", comment="Fixed.")
    with app.app_context():
        row = ticket_row(app, ref)
        cal = sla.Clock().cal
        # Pretend it was resolved one working day ago.
        row.resolved_at = row.paused_since = cal.add(row.opened_at, timedelta(0)) - timedelta(days=1)
        db.session.commit()
        resolved_at = row.resolved_at
    move(requester, ref, "reopen", comment="Broken again.")
    with app.app_context():
        row = ticket_row(app, ref)
        from jof.core.timeutil import utcnow

        assert row.paused_since is None
        assert row.paused_seconds == pytest.approx(sla.Clock().cal.between(resolved_at, utcnow()).total_seconds(), abs=5)
        assert row.resolve_due_at == sla.Clock().cal.add(row.opened_at, timedelta(hours=4, seconds=row.paused_seconds))


def test_priority_change_recomputes_the_due_times(app, api):
    ref = file(api(REQUESTER), urgency="low", impact="low")["reference"]  # P4
    assert api(REQUESTER).patch(f"/api/v1/ict/tickets/{ref}", json={"urgency": "high", "impact": "high"}).status_code == 403
    version = api(ICT).get(f"/api/v1/ict/tickets/{ref}").get_json()["version"]
    r = api(ICT).patch(f"/api/v1/ict/tickets/{ref}", json={"urgency": "high", "impact": "medium",
                                                           "version": version})
    assert r.status_code == 200
    body = r.get_json()
    assert body["priority"] == "P2"
    with app.app_context():
        row = ticket_row(app, ref)
        cal = sla.Clock().cal
        assert row.resolve_due_at == cal.add(row.opened_at, timedelta(hours=8))
        assert row.request.sla_due_at == row.resolve_due_at
    spine = api(ICT).get(f"/api/v1/requests/{ref}").get_json()
    assert spine["timeline"][-1]["action"] == "reprioritise"


def test_officer_list_is_ordered_by_time_left(api):
    requester = api(REQUESTER)
    p4 = file(requester, title="Printer toner", urgency="low", impact="low")["reference"]
    p1 = file(requester, title="Network down", urgency="high", impact="high")["reference"]
    p2 = file(requester, title="VPN slow", urgency="high", impact="medium")["reference"]
    waiting = file(requester, title="New laptop", urgency="high", impact="high")["reference"]
    ict = api(ICT)
    move(ict, waiting, "take")
    move(ict, waiting, "wait", comment="Which model?")

    items = ict.get("/api/v1/ict/tickets?open=true").get_json()["items"]

    assert [x["reference"] for x in items] == [p1, p2, p4, waiting]
    lefts = [x["resolve_seconds_left"] for x in items[:3]]
    assert lefts == sorted(lefts)
    mine = ict.get("/api/v1/ict/tickets?assigned_to_me=true").get_json()["items"]
    assert [x["reference"] for x in mine] == [waiting]


def test_breached_ticket_is_flagged_and_found_by_the_managers_queue_filter(app, api):
    late = file(api(REQUESTER), title="Late one")["reference"]
    fresh = file(api(REQUESTER), title="Fresh one")["reference"]
    with app.app_context():
        row = ticket_row(app, late)
        row.opened_at = row.opened_at - timedelta(days=14)
        sla.Clock().recompute(row)
        db.session.commit()

    breached = api(MANAGER).get("/api/v1/requests?sla_breached=true&line=ict").get_json()["items"]
    assert [x["reference"] for x in breached] == [late]
    body = api(ICT).get(f"/api/v1/ict/tickets/{late}").get_json()
    assert body["resolve_breached"] is True and body["own_breached"] is True
    assert body["resolve_seconds_left"] < 0
    assert [x["reference"] for x in api(ICT).get("/api/v1/ict/tickets?breached=true").get_json()["items"]] == [late]
    assert fresh in [x["reference"] for x in api(ICT).get("/api/v1/ict/tickets?breached=false").get_json()["items"]]

    # Taking it late sets the stored flag for good.
    move(api(ICT), late, "take")
    with app.app_context():
        assert ticket_row(app, late).own_breached is True


def test_requester_may_withdraw_a_new_ticket(api):
    ref = file(api(REQUESTER))["reference"]
    assert move(api(REQUESTER), ref, "cancel")["status"] == "cancelled"
    r = api(REQUESTER).post(f"/api/v1/ict/tickets/{ref}/comments", json={"body": "hello?"})
    assert r.status_code == 409


def assign(api_client, reference, assignee):
    return api_client.post(f"/api/v1/ict/tickets/{reference}/assign", json={"assignee": assignee})


def test_only_the_assignee_or_the_manager_hands_a_taken_ticket_on(app, api, demo):
    ict2 = second_officer(app)
    # Unassigned, any ICT officer dispatches it.
    dispatched = file(api(REQUESTER), title="Dispatched")["reference"]
    assert assign(api(ict2), dispatched, ICT).get_json()["assignee"] == ICT

    ref = file(api(REQUESTER))["reference"]
    move(api(ICT), ref, "take")
    # Another officer can neither take it (taking is for unassigned tickets) nor re-assign it.
    move(api(ict2), ref, "take", expect=409)
    r = assign(api(ict2), ref, ict2)
    assert r.status_code == 409 and "only they (or the manager)" in r.get_json()["detail"]
    assert "assign" not in api(ict2).get(f"/api/v1/requests/{ref}").get_json()["allowed_actions"]
    assert api(ICT).get(f"/api/v1/ict/tickets/{ref}").get_json()["assignee"] == ICT
    # The assignee hands it on; then they are the other officer, and only the manager moves it back.
    r = assign(api(ICT), ref, ict2)
    assert r.status_code == 200 and r.get_json()["assignee"] == ict2
    assert assign(api(ICT), ref, ICT).status_code == 409
    r = assign(api(MANAGER), ref, ICT)
    assert r.status_code == 200 and r.get_json()["assignee"] == ICT


def test_ticket_late_when_it_starts_waiting_stays_breached(app, api):
    requester, ict, manager = api(REQUESTER), api(ICT), api(MANAGER)
    late = file(requester, title="Late one")["reference"]
    on_time = file(requester, title="On time")["reference"]
    for ref in (late, on_time):
        move(ict, ref, "take")
    with app.app_context():
        row = ticket_row(app, late)
        row.opened_at = row.opened_at - timedelta(days=14)
        sla.Clock().recompute(row)
        db.session.commit()
    for ref in (late, on_time):
        move(ict, ref, "wait", comment="Which model is it?")

    body = ict.get(f"/api/v1/ict/tickets/{late}").get_json()
    assert (body["paused"], body["resolve_breached"]) == (True, True)
    # The stopped clock of a late ticket still reports the breach: the stored flag, the
    # spine's due time, the ICT list's breach filter and the manager's queue filter.
    assert ict.get(f"/api/v1/requests/{late}").get_json()["sla_due_at"] == body["resolve_due_at"]
    assert ict.get(f"/api/v1/requests/{on_time}").get_json()["sla_due_at"] is None

    def breached_everywhere():
        lists = [
            [x["reference"] for x in ict.get("/api/v1/ict/tickets?breached=true").get_json()["items"]],
            [x["reference"] for x in manager.get("/api/v1/requests?sla_breached=true&line=ict").get_json()["items"]],
        ]
        with app.app_context():
            from jof.core.people import User
            from jof.ict import tickets

            mgr = db.session.scalar(select(User).where(User.email == MANAGER))
            lists.append([sr.reference for sr in db.session.scalars(
                waiting.queue_query(mgr, waiting.QueueFilter(line="ict", sla_breached=True)))])
            lists.append([t.request.reference for t in db.session.scalars(
                tickets.tickets_query(mgr, breached=True))])
        return lists

    assert breached_everywhere() == [[late]] * 4
    with app.app_context():
        assert (ticket_row(app, late).resolve_breached, ticket_row(app, on_time).resolve_breached) == (True, False)
    on_time_open = [x["reference"] for x in ict.get("/api/v1/ict/tickets?breached=false").get_json()["items"]]
    assert on_time in on_time_open and late not in on_time_open
    # The requester's reply restarts the clock: still late, still reported.
    assert requester.post(f"/api/v1/ict/tickets/{late}/comments", json={"body": "A T14."}).status_code == 201
    assert ict.get(f"/api/v1/ict/tickets/{late}").get_json()["paused"] is False
    assert breached_everywhere() == [[late]] * 4


SP = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize("today, allowed", [
    (date(2026, 3, 13), True),  # the next Friday: the fifth working day
    (date(2026, 3, 14), False),  # Saturday
    (date(2026, 3, 16), False),  # Monday
])
def test_reopen_window_ends_on_the_fifth_working_day_after_a_late_friday_resolution(
        app, api, monkeypatch, today, allowed):
    requester, ict = api(REQUESTER), api(ICT)
    ref = file(requester)["reference"]
    move(ict, ref, "take")
    move(ict, ref, "resolve", comment="Fixed.")
    with app.app_context():
        row = ticket_row(app, ref)
        # Friday 6 March 2026, 22:30 in Brasília: already Saturday 01:30 in UTC.
        row.resolved_at = datetime(2026, 3, 6, 22, 30, tzinfo=SP)
        db.session.commit()
    monkeypatch.setattr(states, "local_today", lambda: today)

    body = move(requester, ref, "reopen", comment="Broken again.", expect=200 if allowed else 409)

    if allowed:
        assert body["status"] == "in_progress"
    else:
        assert "until 2026-03-13" in body["detail"]


def test_closed_is_final_for_tickets_without_changing_the_spines_final_states(app):
    assert "closed" not in workflow.FINAL_STATES
    assert workflow.get_type(states.TICKET).final_states == {"closed"}
