"""Travel test helpers: itineraries in the future, in the facility's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.workflow import ServiceRequest
from jof.travel.models import DsaRate, TravelLeg, TravelProvision, TravelRequest

REQUESTER = "requester@undp.jof.example"
OTHER_REQUESTER = "requester@unfpa.jof.example"
MANAGER = "manager@jof.example"
TRAVEL = "travel@jof.example"
AUDITOR = "auditor@jof.example"


def counts(app) -> dict:
    """Rows per table the travel line writes (to show a refusal wrote nothing)."""
    with app.app_context():
        return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                for m in (ServiceRequest, TravelRequest, TravelLeg, TravelProvision, DsaRate, ChargeableEvent)}


def day(offset: int) -> date:
    """A day ``offset`` days from today (trips must start in the future)."""
    return date.today() + timedelta(days=offset)


def at(d: date, hhmm: str) -> str:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(d.year, d.month, d.day, h, m).isoformat()


def leg(origin: str, destination: str, depart: str, arrive: str) -> dict:
    oc, ocountry = origin.rsplit(",", 1)
    dc, dcountry = destination.rsplit(",", 1)
    return {"origin_city": oc.strip(), "origin_country": ocountry.strip(), "destination_city": dc.strip(),
            "destination_country": dcountry.strip(), "depart_at": depart, "arrive_at": arrive}


def round_trip(start: int = 30, nights: int = 3, there: str = "São Paulo, BR", home: str = "Brasília, BR") -> list[dict]:
    d0, d1 = day(start), day(start + nights)
    return [leg(home, there, at(d0, "08:00"), at(d0, "09:40")),
            leg(there, home, at(d1, "18:00"), at(d1, "19:40"))]


def body(legs: list[dict], **extra) -> dict:
    return {"title": "Mission to the country office", "purpose": "Programme review", "legs": legs, **extra}


@pytest.fixture
def file_trip(api):
    """``file_trip(legs, submit=True)`` → the created request's JSON (asserts 201)."""

    def file(legs=None, email: str = REQUESTER, **extra):
        r = api(email).post("/api/v1/travel/requests", json=body(legs or round_trip(), **extra))
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return file


@pytest.fixture
def transition(api):
    def move(email: str, reference: str, action: str, comment: str = ""):
        client = api(email)
        version = client.get(f"/api/v1/requests/{reference}").get_json()["version"]
        r = client.post(f"/api/v1/requests/{reference}/transitions",
                        json={"action": action, "comment": comment, "version": version})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    return move


@pytest.fixture
def today(monkeypatch):
    """``today(offset)`` moves the facility's today to ``day(offset)``, so a trip filed
    for the future (as it must be) can then be marked travelled once it is over."""
    from jof.core import calendar

    def set_today(offset: int) -> date:
        monkeypatch.setattr(calendar, "local_today", lambda: day(offset))
        return day(offset)

    return set_today
