"""A trip is marked travelled, and its claim filed, only once its return date (the last
leg's arrival, in the facility's calendar) has passed: before that it is a 409 that says
why, and nothing changes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from jof.core.db import db
from jof.travel.models import TravelRequest
from tests.travel.conftest import MANAGER, REQUESTER, TRAVEL, at, day, leg, round_trip


def _ticketed(api, file_trip, transition, legs=None) -> str:
    ref = file_trip(legs or round_trip(start=8, nights=3), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = api(TRAVEL).post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": version})
    assert r.status_code == 201, r.get_json()
    return ref


def _act(api, email: str, ref: str, action: str):
    client = api(email)
    version = client.get(f"/api/v1/requests/{ref}").get_json()["version"]
    return client.post(f"/api/v1/requests/{ref}/transitions", json={"action": action, "version": version})


def _claim(api, ref: str, legs: list[dict]):
    client = api(REQUESTER)
    version = client.get(f"/api/v1/requests/{ref}").get_json()["version"]
    return client.post(f"/api/v1/travel/requests/{ref}/claim", json={"legs": legs, "version": version})


def test_a_trip_departing_next_week_cannot_be_marked_travelled(api, file_trip, transition):
    # on 6 December a trip departing on 14 December was marked travelled, claimed and settled
    ref = _ticketed(api, file_trip, transition)
    r = _act(api, TRAVEL, ref, "mark_travelled")
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["detail"] == (
        f"The trip returns on {day(11).isoformat()}: it can be marked travelled from the day after.")
    tr = api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()
    assert tr["stage"] == "ticketed" and "mark_travelled" not in tr["allowed_actions"]


def test_the_day_of_return_is_not_yet_travelled_the_day_after_is(api, file_trip, transition, today):
    ref = _ticketed(api, file_trip, transition)  # returns on day(11) at 19:40
    today(11)
    assert _act(api, TRAVEL, ref, "mark_travelled").status_code == 409
    today(12)
    r = _act(api, TRAVEL, ref, "mark_travelled")
    assert r.status_code == 200, r.get_json()
    assert api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()["stage"] == "travelled"


def test_a_trip_marked_travelled_too_early_cannot_be_claimed_before_its_return(app, api, file_trip, transition):
    # a trip marked travelled before the rule existed, still ahead: the claim waits
    ref = _ticketed(api, file_trip, transition)
    with app.app_context():
        tr = db.session.scalar(select(TravelRequest).where(TravelRequest.request.has(reference=ref)))
        tr.stage = "travelled"
        db.session.commit()
    r = _claim(api, ref, round_trip(start=8, nights=3))
    assert r.status_code == 409, r.get_json()
    assert "returns on" in r.get_json()["detail"]
    assert api(REQUESTER).get(f"/api/v1/travel/requests/{ref}/dsa").get_json()["claim_total"] is None


def test_a_claim_whose_itinerary_ends_in_the_future_is_refused(api, file_trip, transition, today):
    ref = _ticketed(api, file_trip, transition)
    today(12)
    assert _act(api, TRAVEL, ref, "mark_travelled").status_code == 200
    extended = round_trip(start=8, nights=10)  # says the traveller comes back on day(18)
    r = _claim(api, ref, extended)
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["detail"] == (
        f"The itinerary as travelled returns on {day(18).isoformat()}: file the claim after that day.")
    tr = api(REQUESTER).get(f"/api/v1/travel/requests/{ref}").get_json()
    assert tr["stage"] == "travelled" and tr["claim_total"] is None and tr["actual_legs"] == []
    r = _claim(api, ref, round_trip(start=8, nights=3))
    assert r.status_code == 201, r.get_json()
    assert Decimal(r.get_json()["claim_total"]) == Decimal("1001.00")


def test_the_return_date_is_the_facilitys_date_of_the_last_arrival(api, file_trip, transition, today):
    # home at 23:30 facility time on day(11) after an evening flight: still day(11) at the
    # facility, so day(11) is the return date whatever UTC says
    d0, d1 = day(8), day(11)
    legs = [leg("Brasília, BR", "São Paulo, BR", at(d0, "08:00"), at(d0, "09:40")),
            leg("São Paulo, BR", "Brasília, BR", at(d1, "21:50"), at(d1, "23:30"))]
    ref = _ticketed(api, file_trip, transition, legs)
    today(11)
    assert _act(api, TRAVEL, ref, "mark_travelled").status_code == 409
    today(12)
    assert _act(api, TRAVEL, ref, "mark_travelled").status_code == 200
