"""Input at the edges: itinerary dates within a window and trips of at most 400 nights,
rate months, CSV values and headers that used to end in a 500 or be accepted silently,
and terminal expenses only where the traveller stops (not at same-day connections)."""

from __future__ import annotations

import pytest

from jof.core import calendar
from jof.core.calendar import MONTH_MESSAGE
from jof.core.errors import ValidationFailed
from tests.conftest import csrf_from
from tests.travel.conftest import MANAGER, REQUESTER, TRAVEL, at, body, counts, day, leg, round_trip

ESTIMATE = "/api/v1/travel/dsa-estimate"


# --- itinerary window and length ------------------------------------------------------------


@pytest.mark.parametrize("depart, arrive", [
    ("9999-12-31T08:00:00", "9999-12-31T09:40:00"),
    ("9999-12-31T23:00:00-14:00", "9999-12-31T23:30:00-14:00"),  # beyond datetime.max in UTC
    ("0001-01-01T00:30:00+14:00", "0001-01-01T01:30:00+14:00"),  # before datetime.min in UTC
    ("2200-01-10T08:00:00", "2200-01-10T09:40:00"),
])
def test_dates_far_away_are_refused_with_the_field_not_a_500(app, api, depart, arrive):
    before = counts(app)
    legs = [leg("Brasília, BR", "São Paulo, BR", depart, arrive)]
    for path, payload in (("/api/v1/travel/requests", body(legs)), (ESTIMATE, {"legs": legs})):
        r = api(REQUESTER).post(path, json=payload)
        assert r.status_code == 422, (path, r.get_json())
        errors = r.get_json()["errors"]
        assert set(errors) == {"legs.0.depart_at", "legs.0.arrive_at"}
        assert errors["legs.0.depart_at"][0].startswith("Must be between ")
    assert counts(app) == before


def test_a_return_years_ahead_is_refused_at_that_leg(api):
    legs = round_trip(start=30, nights=3)
    legs[1]["depart_at"], legs[1]["arrive_at"] = "2200-01-01T08:00:00", "2200-01-01T10:00:00"
    r = api(REQUESTER).post(ESTIMATE, json={"legs": legs})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"legs.1.depart_at", "legs.1.arrive_at"}


def test_provided_nights_far_away_are_refused(api):
    r = api(REQUESTER).post(ESTIMATE, json={"legs": round_trip(), "provisions": [
        {"from_night": day(31).isoformat(), "to_night": "9999-12-31", "accommodation": True}]})
    assert r.status_code == 422
    assert list(r.get_json()["errors"]) == ["provisions.0.to_night"]


def test_a_trip_lasts_at_most_400_nights(app, api):
    # 400 nights in São Paulo (271.00): 60 × 271 + 60 × 203.25 + 280 × 162.60 + 4 × 47
    r = api(REQUESTER).post(ESTIMATE, json={"legs": round_trip(start=30, nights=400)})
    assert r.status_code == 200, r.get_json()
    assert [ln["amount"] for ln in r.get_json()["lines"]] == ["16260.00", "12195.00", "45528.00", "188.00"]
    assert r.get_json()["total"] == "74171.00"
    before = counts(app)
    for path, payload in ((ESTIMATE, {"legs": round_trip(start=30, nights=401)}),
                          ("/api/v1/travel/requests", body(round_trip(start=30, nights=401)))):
        r = api(REQUESTER).post(path, json=payload)
        assert r.status_code == 422
        assert r.get_json()["errors"] == {"legs.1.arrive_at": [
            "A trip lasts at most 400 nights from the first departure to the last arrival."]}
    assert counts(app) == before


def test_a_claim_with_dates_far_away_is_refused(api, file_trip, transition, today):
    ref = file_trip(submit=True, needs_ticket=False)["reference"]
    transition(MANAGER, ref, "approve")
    transition(TRAVEL, ref, "start")
    today(40)  # after the return on day(33)
    transition(TRAVEL, ref, "mark_travelled")
    legs = round_trip()
    legs[1]["arrive_at"] = "9999-12-31T23:59:00-12:00"
    version = api(REQUESTER).get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = api(REQUESTER).post(f"/api/v1/travel/requests/{ref}/claim", json={"legs": legs, "version": version})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["legs.1.arrive_at"]
    assert api(REQUESTER).get(f"/api/v1/travel/requests/{ref}").get_json()["stage"] == "travelled"


# --- rate months ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0000-01", "1999-12", "2100-01", "2026-13", "2026-1", "２０２６-01", ""])
def test_parse_month_refuses_with_a_field_message(text):
    with pytest.raises(ValidationFailed) as exc:
        calendar.parse_month(text)
    assert exc.value.errors == {"month": [MONTH_MESSAGE]}


def test_parse_month_reads_a_month():
    assert calendar.parse_month(" 2026-03 ").isoformat() == "2026-03-01"


@pytest.mark.parametrize("month", ["0000-01", "1999-12", "2026-00"])
def test_a_month_out_of_range_is_422_in_the_api_and_the_page(app, api, web, month):
    r = api(REQUESTER).get(f"/api/v1/travel/dsa-rates?month={month}")
    assert r.status_code == 422 and "month" in r.get_json()["errors"]
    before = counts(app)
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates", json={
        "city": "Lima", "country": "PE", "month": month, "usd_per_night": "228.00", "room_pct": "50"})
    assert r.status_code == 422 and "month" in r.get_json()["errors"]
    c = web(TRAVEL)
    token = csrf_from(c.get("/travel/dsa-rates").get_data(as_text=True))
    r = c.post("/travel/dsa-rates", data={"city": "Lima", "country": "PE", "month": month,
                                          "usd_per_night": "228.00", "room_pct": "50", "csrf_token": token})
    assert r.status_code == 422 and MONTH_MESSAGE in r.get_data(as_text=True)
    assert counts(app) == before


def test_a_month_in_range_is_listed(api):
    r = api(REQUESTER).get("/api/v1/travel/dsa-rates?month=2000-01")
    assert r.status_code == 200 and r.get_json()["items"] == []


# --- CSV values and headers -------------------------------------------------------------------

HEADER = "city,country,month,usd_per_night,room_pct\n"


def test_huge_and_odd_numbers_in_a_csv_are_rejected_lines_not_a_500(app, api):
    before = counts(app)
    csv = (HEADER + "Lima,PE,2026-01,1e400,50\n" + "Quito,EC,2026-01,190.00,1e400\n"
           + "Cusco,PE,2026-01,1e-400,50\n" + "La Paz,BO,2026-01,NaN,50\n" + "Salta,AR,0000-01,120.00,40\n")
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import", json={"csv": csv})
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert errors == {
        "line 2": ["usd_per_night: A positive amount in USD below 1,000,000,000 with at most 2 decimals."],
        "line 3": ["room_pct: A percentage from 0 to 100 with at most 2 decimals."],
        "line 4": ["usd_per_night: A positive amount in USD below 1,000,000,000 with at most 2 decimals."],
        "line 5": ["usd_per_night: Not a valid amount."],
        "line 6": [f"month: {MONTH_MESSAGE}"],
    }
    assert counts(app) == before


def test_a_csv_with_a_byte_order_mark_is_read(app, api):
    before = counts(app)["dsa_rate"]
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import",
                         json={"csv": "\ufeff" + HEADER + "Lima,PE,2026-01,228.00,50\n"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"imported": 1, "rejected": []}
    assert counts(app)["dsa_rate"] == before + 1
    rows = api(TRAVEL).get("/api/v1/travel/dsa-rates?country=PE").get_json()["items"]
    assert [(x["city"], x["usd_per_night"]) for x in rows] == [("Lima", "228.00")]


def test_a_csv_naming_a_column_twice_is_refused(app, api):
    before = counts(app)
    csv = "city,country,month,usd_per_night,room_pct,usd_per_night\nLima,PE,2026-01,228.00,50,999.00\n"
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import", json={"csv": csv})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"csv": ["The column usd_per_night appears more than once in the header."]}
    assert counts(app) == before


# --- terminal expenses --------------------------------------------------------------------------


def _total(api, legs) -> dict:
    r = api(REQUESTER).post(ESTIMATE, json={"legs": legs})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_same_day_connections_are_transit_and_pay_no_terminals(api):
    # BSB → GRU → EZE (3 nights) → GRU → BSB with same-day connections at GRU: two journeys
    # (BSB → EZE, EZE → BSB), 4 terminals = 188.00, not 8; 3 × 310.00 in Buenos Aires
    d0, d3 = day(30), day(33)
    legs = [leg("Brasília, BR", "São Paulo, BR", at(d0, "07:00"), at(d0, "08:40")),
            leg("São Paulo, BR", "Buenos Aires, AR", at(d0, "11:00"), at(d0, "14:00")),
            leg("Buenos Aires, AR", "São Paulo, BR", at(d3, "09:00"), at(d3, "12:00")),
            leg("São Paulo, BR", "Brasília, BR", at(d3, "14:30"), at(d3, "16:10"))]
    data = _total(api, legs)
    assert [(ln["kind"], ln["location"], ln["nights"], ln["amount"]) for ln in data["lines"]] == [
        ("dsa", "Buenos Aires, AR", 3, "930.00"), ("terminal", "Terminal expenses", 4, "188.00")]
    assert data["total"] == "1118.00"


def test_a_night_at_the_connection_makes_it_a_stop(api):
    # the same trip with one night in São Paulo on the way out: three journeys, 6 terminals
    d0, d1, d3 = day(30), day(31), day(33)
    legs = [leg("Brasília, BR", "São Paulo, BR", at(d0, "07:00"), at(d0, "08:40")),
            leg("São Paulo, BR", "Buenos Aires, AR", at(d1, "11:00"), at(d1, "14:00")),
            leg("Buenos Aires, AR", "São Paulo, BR", at(d3, "09:00"), at(d3, "12:00")),
            leg("São Paulo, BR", "Brasília, BR", at(d3, "14:30"), at(d3, "16:10"))]
    data = _total(api, legs)
    assert [(ln["location"], ln["nights"], ln["amount"]) for ln in data["lines"]] == [
        ("São Paulo, BR", 1, "271.00"), ("Buenos Aires, AR", 2, "620.00"), ("Terminal expenses", 6, "282.00")]


def test_a_one_way_trip_pays_two_terminals_and_a_day_trip_four(api):
    d0 = day(30)
    one_way = [leg("Brasília, BR", "São Paulo, BR", at(d0, "07:00"), at(d0, "08:40"))]
    assert [(ln["nights"], ln["amount"]) for ln in _total(api, one_way)["lines"]] == [(2, "94.00")]
    day_trip = [leg("Brasília, BR", "São Paulo, BR", at(d0, "07:00"), at(d0, "08:40")),
                leg("São Paulo, BR", "Brasília, BR", at(d0, "18:00"), at(d0, "19:40"))]
    assert [(ln["nights"], ln["amount"]) for ln in _total(api, day_trip)["lines"]] == [(4, "188.00")]


def test_nights_back_home_in_mid_trip_pay_no_dsa(api):
    # BSB → São Paulo (1 night) → BSB (2 nights at home) → Rio (1 night) → BSB: only the
    # nights away pay; the stop at home still ends a journey (4 journeys, 8 terminals)
    d0, d1, d3, d4 = day(30), day(31), day(33), day(34)
    legs = [leg("Brasília, BR", "São Paulo, BR", at(d0, "07:00"), at(d0, "08:40")),
            leg("São Paulo, BR", "Brasília, BR", at(d1, "18:00"), at(d1, "19:40")),
            leg("Brasília, BR", "Rio de Janeiro, BR", at(d3, "07:00"), at(d3, "08:50")),
            leg("Rio de Janeiro, BR", "Brasília, BR", at(d4, "18:00"), at(d4, "19:50"))]
    data = _total(api, legs)
    locations = [ln["location"] for ln in data["lines"] if ln["kind"] == "dsa"]
    assert "Brasília, BR" not in locations
    assert locations == ["São Paulo, BR", "Rio de Janeiro, BR"]
    terminals = [ln for ln in data["lines"] if ln["kind"] == "terminal"]
    assert terminals[0]["nights"] == 8
