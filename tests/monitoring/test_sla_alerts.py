"""SLA alerts for every line (issue 12): monitoring's timed source raises "SLA at risk"
(80 % of the target used) and "breached" for the running clocks of procurement, travel
and the other lines, to the manager and the line's officers, by e-mail through a real
SMTP server, once each however often ``jof monitoring run`` runs; ICT tickets stay with
the service desk's own alerts."""

from __future__ import annotations

import time

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


def mails_about(inbox, address: str, text: str, seconds: float = 10) -> list:
    """The messages to ``address`` mentioning ``text``, once the first has arrived (e-mails
    leave after the commit, from another thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [m for m in inbox.to(address) if text in body(m)]
        if found:
            time.sleep(0.2)  # a duplicate would arrive with it
            return [m for m in inbox.to(address) if text in body(m)]
        time.sleep(0.05)
    return []


def settled(inbox, quiet: float = 1.0) -> int:
    """How many messages arrived, once none has arrived for ``quiet`` seconds."""
    count, since = len(inbox.messages), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(inbox.messages) != count:
            count, since = len(inbox.messages), time.monotonic()
    return count


def notes(email: str, reference: str) -> list[str]:
    user = db.session.scalar(select(User).where(User.email == email))
    return [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                                  .order_by(Notification.id))
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

        deadline_mails = mails_about(inbox, PROCUREMENT, late)
        assert len(deadline_mails) == 1
        assert "SLA breached" in body(deadline_mails[0]) and "procurement.micro_purchase" in body(deadline_mails[0])
        assert deadline_mails[0]["Subject"] == "JOF: A service level was breached"
        assert mails_about(inbox, MANAGER, risky)

        # A second run, later the same evening, sends nothing new.
        sent = settled(inbox)
        again = alerts.run_timed(at(11, 30, 17, 30))
        db.session.commit()
        assert again.get(alerts.SLA_AT_RISK, 0) == 0 and again.get(alerts.SLA_BREACHED, 0) == 0
        assert settled(inbox) == sent
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


def _october_charge(code: str, ref: str) -> None:
    from datetime import date
    from decimal import Decimal

    from jof.billing.models import Charge
    from jof.core.charges import ChargeableEvent
    from jof.core.people import Agency

    agency = db.session.scalar(select(Agency.id).where(Agency.code == code))
    event = ChargeableEvent(source_ref=ref, service_line="procurement", agency_id=agency, service_item="po",
                            kind="fee", quantity=Decimal("1"), delivered_on=date(2026, 10, 10))
    db.session.add(event)
    db.session.flush()
    db.session.add(Charge(event_id=event.id, source_ref=ref, agency_id=agency, period=date(2026, 10, 1),
                          service_line="procurement", item_code="po", kind="fee", quantity=Decimal("1"),
                          amount=Decimal("25.00"), delivered_on=date(2026, 10, 10)))


def test_an_invoice_not_issued_in_time_is_at_risk_then_breached_once_each(app, demo, inbox):
    """October ends on a Saturday and 2 November is a holiday: the 5 working days of
    billing's target end on Monday 9 November."""
    from datetime import date
    from decimal import Decimal

    from jof.billing.models import Invoice
    from jof.core.people import Agency

    with app.app_context():
        _october_charge("UNDP", "T-OCT-1")
        _october_charge("UNFPA", "T-OCT-2")
        unfpa = db.session.scalar(select(Agency.id).where(Agency.code == "UNFPA"))
        db.session.add(Invoice(number="T-INV-OCT", agency_id=unfpa, period=date(2026, 10, 1), status="issued",
                               total_usd=Decimal("25.00"), issued_on=date(2026, 11, 4)))
        db.session.commit()

        def told(day: int) -> list[str]:
            alerts.run_timed(at(11, day, 12))
            db.session.commit()
            return [m.split(":")[0] for m in notes(MANAGER, "UNDP for 2026-10")]

        assert told(5) == []  # 3 of 5 working days
        assert told(6) == ["SLA at risk"]  # 4 of 5
        assert told(9) == ["SLA at risk"]  # 5 of 5: on target, nothing new
        assert told(10) == ["SLA at risk", "SLA breached"]  # 6 of 5
        assert told(11) == ["SLA at risk", "SLA breached"]  # once each
        assert notes(MANAGER, "UNFPA for 2026-10") == []  # its invoice is issued
        assert len(mails_about(inbox, MANAGER, "invoice of UNDP for 2026-10")) == 2


def test_a_clock_start_names_the_same_occasion_in_any_time_zone(app, month, monkeypatch):
    """The once-only key must not depend on how the start was read (the facility's zone
    from the session that wrote it, UTC from the database)."""
    from datetime import UTC, timedelta

    from jof.core.workflow import ServiceRequest
    from jof.monitoring.sla import OpenClock

    with app.app_context():
        sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == month["open_mid"]))
        start = at(11, 16, 9)
        occasions = []
        for moment in (start, start.astimezone(UTC)):
            clock = OpenClock(sr, "procurement.micro_purchase", moment, timedelta(hours=50), timedelta(hours=98))
            monkeypatch.setattr(sla_alerts.sla, "clocks", lambda _s, _now, c=clock: [c])
            occasions += [a.occasion for a in sla_alerts.breached(NOW) if a.object_key.startswith("request:")]
        assert occasions == ["procurement.micro_purchase@2026-11-16T12:00:00Z"] * 2
