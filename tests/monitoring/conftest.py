"""A small hand-made month of requests with known working times, on the demo facility's
calendar (São Paulo, 08:00–18:00, Monday to Friday) with its holidays (2 and 20 November
2026 among them). Requests are of the tests' ``test`` type, whose clock these tests declare as a
micro-purchase (target 5 working days = 50 working hours) from submission to completion."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jof.core.calendar import Holiday
from jof.core.db import db
from jof.core.people import Agency, User
from jof.core.workflow import ServiceRequest, TimelineEntry
from jof.monitoring import sla

SP = ZoneInfo("America/Sao_Paulo")
HOLIDAY = date(2026, 11, 20)
KIND = "procurement.micro_purchase"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SP)


@pytest.fixture
def test_clock():
    """The ``test`` type's clock: a micro-purchase from submission to completion."""
    rule = sla.Rule(lambda s, r: KIND, lambda s, r: r.submitted_at, stop_status="completed")
    sla.register("test", rule)
    yield rule
    sla.RULES["test"].remove(rule)
    if not sla.RULES["test"]:
        del sla.RULES["test"]


_counter = iter(range(1, 10**6))


def add_request(agency_code: str, steps: list[tuple[str, str, datetime]], *, status: str | None = None,
                title: str = "Hand-made request") -> ServiceRequest:
    """A request of the ``test`` type whose timeline is ``steps``: (action, to_status, at)."""
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    requester = db.session.scalar(select(User).where(User.agency_id == agency.id))
    n = next(_counter)
    created = steps[0][2]
    sr = ServiceRequest(reference=f"TST-2026-{90000 + n}", request_type="test", agency_id=agency.id,
                        requester_id=requester.id, title=title, status=status or steps[-1][1],
                        created_at=created, status_changed_at=steps[-1][2])
    stamps = {"submit": "submitted_at", "approve": "approved_at", "start": "started_at", "complete": "completed_at"}
    previous = "draft"
    for action, to_status, moment in steps:
        if action in stamps:
            setattr(sr, stamps[action], moment)
        sr.timeline.append(TimelineEntry(at=moment, action=action, from_status=previous, to_status=to_status,
                                         actor_id=requester.id))
        previous = to_status
    db.session.add(sr)
    db.session.flush()
    return sr


def done(agency: str, start: datetime, end: datetime, *, approve: datetime | None = None,
         begin: datetime | None = None) -> ServiceRequest:
    steps = [("submit", "submitted", start)]
    if approve:
        steps.append(("approve", "approved", approve))
    if begin:
        steps.append(("start", "in_progress", begin))
    steps.append(("complete", "completed", end))
    return add_request(agency, steps)


@pytest.fixture
def month(app, demo, test_clock):
    """November 2026: UNDP took 2 h, 12 h (over a week-end and the holiday) and 72 h (late
    at the "start" step); UNFPA took 10 h. Open: UNDP submitted on the 30th, the 16th and
    on 3 August."""
    with app.app_context():
        if db.session.scalar(select(Holiday).where(Holiday.day == HOLIDAY)) is None:
            db.session.add(Holiday(day=HOLIDAY, name="Dia da Consciência Negra"))
            db.session.flush()
        refs = {
            "two": done("UNDP", at(11, 18, 9), at(11, 18, 11)).reference,
            "weekend": done("UNDP", at(11, 19, 10), at(11, 23, 12)).reference,
            "late": done("UNDP", at(11, 3, 8), at(11, 12, 10), approve=at(11, 3, 12), begin=at(11, 11, 8)).reference,
            "unfpa": done("UNFPA", at(11, 17, 8), at(11, 17, 18)).reference,
            "open_new": add_request("UNDP", [("submit", "submitted", at(11, 30, 9))]).reference,
            "open_mid": add_request("UNDP", [("submit", "submitted", at(11, 16, 9))]).reference,
            "open_old": add_request("UNDP", [("submit", "submitted", at(8, 3, 9))]).reference,
        }
        db.session.commit()
        db.session.remove()
    return refs
