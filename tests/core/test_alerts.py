"""Alerts by e-mail against a real SMTP server started here (aiosmtpd on a free loopback
port), in-app, and once-only timed alerts (issue 12, DESIGN §8)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from jof.core import alerts, mail
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.notifications import Notification
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.governance import decisions
from jof.ict.models import IctTicket
from tests.conftest import csrf_from
from tests.smtp import body, smtp_server

MEMBERS = ["UNDP", "UNEP", "UNESCO", "UNFPA", "UNOPS", "UNWOMEN"]
MANAGER = "manager@jof.example"
RC = "rc@jof.example"


def head(code: str) -> str:
    return f"head@{code.lower()}.jof.example"


@pytest.fixture
def inbox(app, demo, monkeypatch):
    with smtp_server(app, monkeypatch) as handler:
        yield handler


@pytest.fixture
def ctx(app, demo):
    with app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


def user(email_address: str) -> User:
    return db.session.scalar(select(User).where(User.email == email_address))


def open_decision(by: str = MANAGER, closes_in: timedelta = timedelta(days=7)):
    decision = decisions.propose(user(by), {"title": "Extend the opening hours", "text": "Asked."})
    db.session.commit()
    decisions.open_decision(user(by), decision, utcnow() + closes_in)
    db.session.commit()
    return decision


def run_monitoring(app) -> str:
    result = app.test_cli_runner().invoke(args=["monitoring", "run"])
    assert result.exit_code == 0, result.output
    return result.output


# --- e-mail of events ---------------------------------------------------------------------


def test_a_vote_opening_reaches_every_voting_head_once_and_the_chairs(inbox, ctx):
    open_decision()
    expected = sorted([head(c) for c in MEMBERS] + [RC])  # the manager opened it
    inbox.wait_for(len(expected))
    assert inbox.recipients() == expected
    message = inbox.to(head("UNDP"))[0]
    assert "Extend the opening hours" in body(message)
    assert message["Subject"] == "JOF: A vote opened"
    assert not inbox.to(head("UNAIDS"))  # a partner does not vote


def test_a_vote_opened_by_the_resident_coordinator_also_reaches_the_manager(inbox, ctx):
    open_decision(by=RC)
    inbox.wait_for(7)
    assert inbox.recipients() == sorted([head(c) for c in MEMBERS] + [MANAGER])


def test_portuguese_users_get_portuguese(inbox, ctx):
    user(head("UNDP")).locale = "pt_BR"
    db.session.commit()
    open_decision()
    inbox.wait_for(7)
    (message,) = inbox.to(head("UNDP"))
    assert message["Subject"] == "JOF: Uma votação foi aberta"
    assert "Decisão aberta para o seu voto" in body(message)
    assert "Extend the opening hours" in body(message)
    note = db.session.scalar(select(Notification).where(Notification.user_id == user(head("UNDP")).id))
    assert note.message.startswith("Decisão aberta para o seu voto")
    (english,) = inbox.to(head("UNEP"))
    assert "Decision open for your vote" in body(english)


def test_times_are_shown_in_the_facility_time_zone(inbox, ctx):
    from zoneinfo import ZoneInfo

    decision = open_decision()
    local = decision.closes_at.astimezone(ZoneInfo("America/Sao_Paulo"))
    inbox.wait_for(7)
    text = body(inbox.to(head("UNDP"))[0])
    assert local.strftime("%-I:%M") in text or local.strftime("%H:%M") in text


def test_nothing_is_sent_for_a_change_that_was_rolled_back(inbox, ctx):
    decision = decisions.propose(user(MANAGER), {"title": "Never opened", "text": ""})
    db.session.commit()
    decisions.open_decision(user(MANAGER), decision, utcnow() + timedelta(days=3))
    assert len(mail.pending(db.session)) == 7
    db.session.rollback()
    assert mail.pending(db.session) == []
    open_decision()  # a later commit sends only its own messages
    inbox.wait_for(7)
    time.sleep(0.3)
    assert len(inbox.messages) == 7
    assert all("Never opened" not in body(m) for _r, m in inbox.messages)


def test_a_rolled_back_savepoint_drops_only_its_own_messages(inbox, ctx):
    first = decisions.propose(user(MANAGER), {"title": "Kept", "text": ""})
    second = decisions.propose(user(MANAGER), {"title": "Undone", "text": ""})
    db.session.commit()
    decisions.open_decision(user(MANAGER), first, utcnow() + timedelta(days=3))
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            decisions.open_decision(user(MANAGER), second, utcnow() + timedelta(days=3))
            raise RuntimeError("the effect refused")
    db.session.commit()
    inbox.wait_for(7)
    time.sleep(0.3)
    assert len(inbox.messages) == 7 and all("Kept" in body(m) for _r, m in inbox.messages)


def test_nothing_is_sent_over_http_when_the_request_fails(inbox, app, web):
    browser = web(MANAGER)
    csrf = csrf_from(browser.get("/").get_data(as_text=True))
    with app.app_context():
        decision = decisions.propose(user(MANAGER), {"title": "Bad close time", "text": ""})
        db.session.commit()
        decision_id = decision.id
    r = browser.post(f"/governance/decisions/{decision_id}/open", data={"csrf_token": csrf, "closes_at": "yesterday"})
    assert r.status_code == 422
    time.sleep(0.3)
    assert inbox.messages == []


def test_no_mail_server_means_nothing_is_queued(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    decision = decisions.propose(user(MANAGER), {"title": "Quiet", "text": ""})
    decisions.open_decision(user(MANAGER), decision, utcnow() + timedelta(days=3))
    assert mail.pending(db.session) == []
    db.session.rollback()


# --- preferences ------------------------------------------------------------------------------


def test_off_means_nothing_and_in_app_only_means_no_e_mail(inbox, ctx):
    alerts.set_preferences(user(head("UNDP")), user(head("UNDP")), {alerts.VOTE_OPENED: alerts.OFF}, False)
    alerts.set_preferences(user(head("UNEP")), user(head("UNEP")), {alerts.VOTE_OPENED: alerts.IN_APP}, False)
    db.session.commit()
    decision = open_decision()
    inbox.wait_for(5)
    time.sleep(0.3)
    assert not inbox.to(head("UNDP")) and not inbox.to(head("UNEP"))
    assert len(inbox.to(head("UNESCO"))) == 1
    link = f"/governance/decisions/{decision.id}"
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.link == link)))
    assert user(head("UNEP")).id in told and user(head("UNDP")).id not in told


def test_preferences_are_saved_from_the_profile_page_and_audited(app, web):
    browser = web(head("UNDP"))
    page = browser.get("/profile")
    assert page.status_code == 200 and b"A vote opened" in page.data
    csrf = csrf_from(page.get_data(as_text=True))
    form = {f"channel_{k}": "email" for k in alerts.KINDS} | {"csrf_token": csrf, "daily_digest": "on",
                                                              "channel_vote_closed": "in_app"}
    assert browser.post("/profile", data=form).status_code == 302
    with app.app_context():
        u = user(head("UNDP"))
        prefs = alerts.preferences(u)
        assert prefs["channels"]["vote_closed"] == "in_app" and prefs["daily_digest"] is True
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "alerts.preferences"))
        assert event.actor_id == u.id and event.after["channels"]["vote_closed"] == "in_app"


def test_a_wrong_channel_re_renders_the_form_with_the_choices_kept(app, web):
    browser = web(head("UNDP"))
    csrf = csrf_from(browser.get("/profile").get_data(as_text=True))
    form = {f"channel_{k}": "in_app" for k in alerts.KINDS} | {"csrf_token": csrf, "channel_vote_opened": "pigeon"}
    r = browser.post("/profile", data=form)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Choose e-mail, in-app only or off." in html
    assert 'id="channel_vote_closed_in_app" value="in_app" aria-label' in html and "checked" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(alerts.AlertPreference.id))) == 0


def test_the_auditor_may_set_their_own_preferences(app, web):
    browser = web("auditor@jof.example")
    csrf = csrf_from(browser.get("/profile").get_data(as_text=True))
    form = {f"channel_{k}": "off" for k in alerts.KINDS} | {"csrf_token": csrf}
    assert browser.post("/profile", data=form).status_code == 302


# --- requests waiting ---------------------------------------------------------------------------


def test_the_manager_is_told_of_every_new_submission(app, make, inbox):
    ref = make.request(status="submitted", amount_usd="25000.00")  # above the limit: head certifies
    with app.app_context():
        told = {n.user_id: n for n in db.session.scalars(select(Notification).where(
            Notification.kind == alerts.REQUEST_WAITING))}
        assert user(MANAGER).id in told and "New submission" in told[user(MANAGER).id].message
        assert user(head("UNDP")).id in told  # must certify it
        assert ref in told[user(head("UNDP")).id].message
    inbox.wait_for(2)
    assert inbox.recipients() == sorted([MANAGER, head("UNDP")])


def test_an_approved_request_waits_for_the_line_s_officer(app, make):
    make.request(status="approved")
    with app.app_context():
        officer = user("procurement@jof.example")
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == officer.id, Notification.kind == alerts.REQUEST_WAITING)) == 1
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == user("ict@jof.example").id)) == 0


# --- timed alerts: once each -------------------------------------------------------------------


def _breached_ticket(app, api) -> str:
    r = api("requester@undp.jof.example").post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident",
        "category": "email", "service": "email_account", "urgency": "high", "impact": "high"})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        from jof.core.workflow import ServiceRequest

        ticket_id = db.session.scalar(select(IctTicket.id).join(
            ServiceRequest, ServiceRequest.id == IctTicket.request_id).where(
            ServiceRequest.reference == r.get_json()["reference"]))
        db.session.execute(update(IctTicket).where(IctTicket.id == ticket_id).values(
            resolve_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    return r.get_json()["reference"]


def test_an_sla_breach_reaches_the_manager_once_even_if_monitoring_runs_twice(app, api, inbox):
    ref = _breached_ticket(app, api)
    inbox.wait_for(1)  # the new ticket waits for the ICT officer
    before = len(inbox.to(MANAGER))
    assert "sla_breached 1" in run_monitoring(app)
    assert "sla_breached" not in run_monitoring(app)
    inbox.wait_for(before + 1)
    time.sleep(0.3)
    breaches = [m for m in inbox.to(MANAGER) if "SLA breached" in body(m)]
    assert len(breaches) == 1 and ref in body(breaches[0])


def test_a_vote_closing_within_24_hours_is_announced_once(app, inbox):
    with app.app_context():
        open_decision(closes_in=timedelta(hours=30))
        inbox.wait_for(7)
        first = len(inbox.messages)
        assert "vote_closing" not in run_monitoring(app)  # 30 h away: not yet
        db.session.execute(update(decisions.Decision).values(closes_at=utcnow() + timedelta(hours=20)))
        db.session.commit()
        db.session.remove()
    run_monitoring(app)
    run_monitoring(app)
    inbox.wait_for(first + 7)
    time.sleep(0.3)
    closing = [r for r, m in inbox.messages if "closes at" in body(m)]
    assert sorted(closing) == sorted([head(c) for c in MEMBERS] + [MANAGER, RC])


def test_two_overlapping_runs_send_each_timed_alert_once(app, api, inbox):
    from tests.conftest import race

    _breached_ticket(app, api)

    def run(_i):
        with app.app_context():
            alerts.run_timed()
            db.session.commit()

    assert [r for r in race(4, run) if isinstance(r, BaseException)] == []
    with app.app_context():
        rows = db.session.execute(select(alerts.SentAlert.recipient_id, func.count()).where(
            alerts.SentAlert.kind == alerts.SLA_BREACHED).group_by(alerts.SentAlert.recipient_id)).all()
        assert rows and all(n == 1 for _r, n in rows)
    time.sleep(0.5)
    assert len([m for m in inbox.to(MANAGER) if "SLA breached" in body(m)]) == 1


def test_the_daily_digest_gathers_the_day_s_e_mails_into_one(app, inbox):
    with app.app_context():
        u = user(head("UNDP"))
        alerts.set_preferences(u, u, {}, True)
        db.session.commit()
        open_decision()
        open_decision()
    inbox.wait_for(12)
    time.sleep(0.3)
    assert inbox.to(head("UNDP")) == []
    run_monitoring(app)
    run_monitoring(app)
    inbox.wait_for(13)
    time.sleep(0.3)
    (digest,) = inbox.to(head("UNDP"))
    assert "daily digest" in digest["Subject"] and body(digest).count("Decision open for your vote") == 2


def test_timed_sources_are_registered_by_core_and_the_lines(app):
    assert {kind for kind, _name in alerts.timed_sources()} >= {
        alerts.VOTE_CLOSING, alerts.SLA_AT_RISK, alerts.SLA_BREACHED, alerts.DAILY_DIGEST}


# --- the RQ path --------------------------------------------------------------------------------


def test_with_redis_the_e_mails_wait_on_the_queue_until_a_worker_sends_them(app, demo, inbox, monkeypatch):
    import os

    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker

    url = os.environ.get("JOF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    conn = Redis.from_url(url, socket_connect_timeout=2)
    try:
        conn.ping()
    except RedisError as exc:
        pytest.skip(f"Redis not reachable at {url} ({exc}); .ci/run starts it")
    name = f"jof-test-mail-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "JOF_JOB_QUEUE", name)
    queue = Queue(name, connection=conn)
    try:
        with app.app_context():
            open_decision()
            time.sleep(0.3)
            assert inbox.messages == [] and queue.count == 7
            SimpleWorker([queue], connection=conn).work(burst=True)
        inbox.wait_for(7)
        assert inbox.recipients() == sorted([head(c) for c in MEMBERS] + [RC])
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)
        conn.close()


def test_an_sla_at_80_percent_is_at_risk_once_and_then_breached_once(app, api, inbox):
    """A P1 ticket (4 working hours to resolve) with 30 working minutes left is at risk;
    once past its due time it is breached; each is raised once."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    ref = _breached_ticket(app, api)
    now = datetime(2030, 3, 6, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))  # a Wednesday
    with app.app_context():
        from jof.core.workflow import ServiceRequest

        ticket = db.session.scalar(select(IctTicket).join(
            ServiceRequest, ServiceRequest.id == IctTicket.request_id).where(ServiceRequest.reference == ref))
        assert ticket.priority == "P1"
        ticket.resolve_due_at = now + timedelta(minutes=30)
        db.session.commit()
        assert alerts.run_timed(now - timedelta(hours=2)).get(alerts.SLA_AT_RISK, 0) == 0  # 2.5 h left
        told = alerts.run_timed(now)
        assert told.get(alerts.SLA_AT_RISK) == 1 and not told.get(alerts.SLA_BREACHED)
        assert not alerts.run_timed(now + timedelta(minutes=10)).get(alerts.SLA_AT_RISK)
        assert alerts.run_timed(now + timedelta(hours=1)).get(alerts.SLA_BREACHED) == 1
        db.session.commit()
        kinds = list(db.session.scalars(select(Notification.kind).where(
            Notification.user_id == user(MANAGER).id, Notification.link == f"/requests/{ref}")))
        assert kinds.count(alerts.SLA_AT_RISK) == 1 and kinds.count(alerts.SLA_BREACHED) == 1
