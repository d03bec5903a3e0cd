"""SLA alerts for every line (issue 12): monitoring's timed source raises "SLA at risk"
(80 % of the target used) and "breached" for the running clocks of procurement, travel
and the other lines, to the manager and the line's officers, by e-mail through a real
SMTP server, once each however often ``jof monitoring run`` runs; ICT tickets stay with
the service desk's own alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jof.core import alerts
from jof.core.db import db
from jof.core.notifications import Notification
from jof.core.people import User
from jof.monitoring import sla_alerts
from tests.monitoring.conftest import add_request, at
from tests.smtp import body, smtp_server

MANAGER = "manager@jof.example"
PROCUREMENT = "procurement@jof.example"
TRAVEL = "travel@jof.example"
#: Monday 30 November 2026, 17:00 in São Paulo.
NOW = at(11, 30, 17)


@pytest.fixture
def inbox(app, demo, monkeypatch):
    with smtp_server(app, monkeypatch) as handler:
        yield handler


def notes(email: str, reference: str) -> list[str]:
    user = db.session.scalar(select(User).where(User.email == email))
    return [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
            if reference in n.message]


def test_a_procurement_request_at_80_percent_and_one_breached_alert_the_manager_and_officer_once(
        app, month, inbox):
    with app.app_context():
        # Submitted Tuesday 24th 08:00: by Monday 30th 17:00, 49 of its 50 working hours.
        risky = add_request("UNDP", [("submit", "submitted", at(11, 24, 8))]).reference
        db.session.commit()
        # On the 16th 09:00: 98 working hours (the 20th is a holiday), past its 50.
        late, fresh = month["open_mid"], month["open_new"]

        told = alerts.run_timed(NOW)
        db.session.commit()
        assert told.get(alerts.SLA_AT_RISK, 0) >= 2 and told.get(alerts.SLA_BREACHED, 0) >= 2
        for email in (MANAGER, PROCUREMENT):
            assert [m.startswith("SLA at risk") for m in notes(email, risky)] == [True]
            assert [m.startswith("SLA breached") for m in notes(email, late)] == [True]
            assert notes(email, fresh) == []  # 8 of 50 hours used: nothing yet
        assert notes(TRAVEL, late) == []  # another line's officer is not told

        inbox.wait_for(1)
        deadline_mails = [m for m in inbox.to(PROCUREMENT) if late in body(m)]
        assert len(deadline_mails) == 1
        assert "SLA breached" in body(deadline_mails[0]) and "procurement.micro_purchase" in body(deadline_mails[0])
        assert deadline_mails[0]["Subject"] == "JOF: A service level was breached"
        assert any(risky in body(m) for m in inbox.to(MANAGER))

        # A second run, later the same evening, sends nothing new.
        sent = len(inbox.messages)
        again = alerts.run_timed(at(11, 30, 17, 30))
        db.session.commit()
        assert again.get(alerts.SLA_AT_RISK, 0) == 0 and again.get(alerts.SLA_BREACHED, 0) == 0
        inbox.wait_for(sent + 1, seconds=1)
        assert len(inbox.messages) == sent
        assert len(notes(MANAGER, late)) == 1


def test_the_at_risk_request_is_told_again_once_it_is_breached(app, month, inbox):
    with app.app_context():
        risky = add_request("UNDP", [("submit", "submitted", at(11, 24, 8))]).reference
        db.session.commit()
        alerts.run_timed(NOW)
        db.session.commit()
        alerts.run_timed(at(12, 1, 10))  # 51 working hours: past the target
        db.session.commit()
        assert [m.split(":")[0] for m in notes(MANAGER, risky)] == ["SLA at risk", "SLA breached"]


def test_the_line_source_leaves_ict_tickets_to_the_service_desk(app, month):
    from jof.core.workflow import ServiceRequest

    with app.app_context():
        for alert in [*sla_alerts.at_risk(NOW), *sla_alerts.breached(NOW)]:
            sr = db.session.scalar(select(ServiceRequest).where(
                ServiceRequest.reference == alert.object_key.removeprefix("request:")))
            assert sr.request_type != "ict_ticket"
        assert ("sla_at_risk", "monitoring.sla_at_risk") in alerts.timed_sources()
        assert ("sla_breached", "monitoring.sla_breached") in alerts.timed_sources()


def test_jof_monitoring_run_raises_the_line_alerts_once(app, month, inbox, monkeypatch):
    with app.app_context():
        monkeypatch.setattr("jof.core.alerts.utcnow", lambda: NOW)
        runner = app.test_cli_runner()
        first = runner.invoke(args=["monitoring", "run"])
        assert first.exit_code == 0, first.output
        assert "sla_breached" in first.output
        second = runner.invoke(args=["monitoring", "run"])
        assert second.exit_code == 0 and "sla_breached" not in second.output
