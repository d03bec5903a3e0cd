"""Travel API: filing with the DSA estimate, refusals that write nothing, the facility's
steps with their charges, the claim, cancellation, the rate table and its import."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.core.calendar import MONTH_MESSAGE
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.money import ExchangeRate
from tests.travel.conftest import (
    AUDITOR,
    MANAGER,
    OTHER_REQUESTER,
    REQUESTER,
    TRAVEL,
    at,
    body,
    counts,
    day,
    leg,
    round_trip,
)


def test_filing_a_round_trip_computes_the_dsa_from_the_rate_table(file_trip):
    # São Paulo 271.00 a night (demo table): 3 nights = 813.00; 4 terminals × 47 = 188.00
    tr = file_trip(round_trip(nights=3))
    assert tr["reference"].startswith("TRV-") and tr["status"] == "draft"
    assert tr["estimate_total"] == "1001.00"
    assert tr["traveller_name"] == "UNDP Requester" and tr["traveller_email"] == "requester@undp.jof.example"
    assert [(lg["origin_city"], lg["destination_city"]) for lg in tr["legs"]] == [
        ("Brasília", "São Paulo"), ("São Paulo", "Brasília")]


def test_the_dsa_resource_explains_each_line(api, file_trip):
    ref = file_trip(round_trip(nights=3))["reference"]
    r = api(REQUESTER).get(f"/api/v1/travel/requests/{ref}/dsa")
    assert r.status_code == 200
    lines = r.get_json()["estimate_lines"]
    assert [(ln["kind"], ln["location"], ln["nights"], ln["rate"], ln["percentage"], ln["amount"]) for ln in lines] == [
        ("dsa", "São Paulo, BR", 3, "271.00", "100.0000", "813.00"),
        ("terminal", "Terminal expenses", 4, "47.00", "100.0000", "188.00"),
    ]
    assert lines[0]["first_night"] == day(30).isoformat()


def test_two_locations_and_accommodation_provided(file_trip):
    # BSB → GRU (2 nights, 271.00) → GIG (3 nights, 280.00, room 56% provided on 1 night) → BSB
    d = day(40)
    legs = [leg("Brasília, BR", "São Paulo, BR", at(d, "07:00"), at(d, "08:40")),
            leg("São Paulo, BR", "Rio de Janeiro, BR", at(day(42), "10:00"), at(day(42), "11:00")),
            leg("Rio de Janeiro, BR", "Brasília, BR", at(day(45), "17:00"), at(day(45), "18:45"))]
    tr = file_trip(legs, provisions=[{"from_night": day(43).isoformat(), "accommodation": True}])
    # 542.00 + 280.00 + 123.20 (44% of 280) + 280.00 + 6 × 47 = 282.00 → 1507.20
    assert tr["estimate_total"] == "1507.20"
    assert tr["provisions"] == [{"night": day(43).isoformat(), "accommodation": True, "breakfast": False,
                                 "lunch": False, "dinner": False}]


def test_a_city_without_a_rate_takes_the_countrys_elsewhere_rate(api):
    r = api(REQUESTER).post("/api/v1/travel/dsa-estimate",
                            json={"legs": round_trip(nights=2, there="Curitiba, BR")})
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["lines"][0]["location"] == "Curitiba (Elsewhere), BR"
    assert data["lines"][0]["amount"] == "342.00"  # 2 × 171.00
    assert data["total"] == "530.00" and data["advance"] == "424.00"


def test_the_estimate_writes_nothing(app, api):
    before = counts(app)
    r = api(REQUESTER).post("/api/v1/travel/dsa-estimate", json={"legs": round_trip()})
    assert r.status_code == 200 and r.get_json()["total"] == "1001.00"
    assert counts(app) == before


# --- refusals that write nothing ----------------------------------------------------------


def test_an_unknown_location_without_an_elsewhere_rate_is_refused(app, api):
    before = counts(app)
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(round_trip(there="Lima, PE")))
    assert r.status_code == 422
    msg = r.get_json()["errors"]["legs.0.destination_city"][0]
    assert "No DSA rate for Lima, PE" in msg and "no 'Elsewhere' rate for PE" in msg
    assert counts(app) == before


def test_a_leg_arriving_before_it_departs_is_refused(app, api):
    before = counts(app)
    legs = round_trip()
    legs[0]["arrive_at"] = at(day(30), "07:00")
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(legs))
    assert r.status_code == 422
    assert "Leg 1 arrives" in r.get_json()["errors"]["legs.0.arrive_at"][0]
    assert counts(app) == before


def test_legs_that_do_not_chain_in_place_or_time_are_refused(app, api):
    before = counts(app)
    legs = round_trip()
    legs[1]["origin_city"] = "Rio de Janeiro"
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(legs))
    assert r.status_code == 422
    assert r.get_json()["errors"]["legs.1.origin_city"] == [
        "Leg 2 must start where leg 1 ends (São Paulo, BR)."]
    legs = round_trip()
    legs[1]["depart_at"] = at(day(30), "09:00")  # before leg 1 lands at 09:40
    legs[1]["arrive_at"] = at(day(30), "10:40")
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(legs))
    assert r.status_code == 422
    assert "departs" in r.get_json()["errors"]["legs.1.depart_at"][0]
    assert counts(app) == before


def test_a_trip_in_the_past_is_refused(app, api):
    before = counts(app)
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(round_trip(start=-10)))
    assert r.status_code == 422 and "legs.0.depart_at" in r.get_json()["errors"]
    assert counts(app) == before


def test_an_overlapping_trip_of_the_same_traveller_is_refused(app, api, file_trip, transition):
    first = file_trip(round_trip(start=30, nights=5), submit=True)["reference"]
    transition(MANAGER, first, "approve")
    before = counts(app)
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(round_trip(start=33, nights=4)))
    assert r.status_code == 422
    assert first in r.get_json()["errors"]["legs"][0]
    assert counts(app) == before
    # another traveller may travel at the same time, and so may this one the week after
    file_trip(round_trip(start=33, nights=4), traveller_name="Ana Souza")
    file_trip(round_trip(start=40, nights=2))


def test_overlap_is_checked_again_when_a_second_draft_is_approved(api, file_trip, transition):
    a = file_trip(round_trip(start=30, nights=5), submit=True)["reference"]
    b = file_trip(round_trip(start=32, nights=5), submit=True)["reference"]
    transition(MANAGER, a, "approve")
    client = api(MANAGER)
    version = client.get(f"/api/v1/requests/{b}").get_json()["version"]
    r = client.post(f"/api/v1/requests/{b}/transitions", json={"action": "approve", "version": version})
    assert r.status_code == 409
    assert a in r.get_json()["detail"]
    assert client.get(f"/api/v1/requests/{b}").get_json()["status"] == "submitted"


# --- the facility's steps ------------------------------------------------------------------


def _rate_this_month(app) -> Decimal:
    from jof.core import calendar

    with app.app_context():
        month = calendar.local_today().replace(day=1)
        return db.session.scalar(select(ExchangeRate.units_per_usd).where(
            ExchangeRate.currency == "BRL", ExchangeRate.month == month))


def test_ticket_claim_settle_complete(app, api, file_trip, transition, today):
    ref = file_trip(round_trip(nights=3), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    officer = api(TRAVEL)
    tr = officer.get(f"/api/v1/travel/requests/{ref}").get_json()
    assert tr["advance_usd"] == "800.80"  # 80% of 1,001.00
    assert "ticket" in tr["allowed_actions"] and "quote" in tr["allowed_actions"]
    r = officer.post(f"/api/v1/travel/requests/{ref}/quotes",
                     json={"carrier": "LATAM", "fare": "2450.00", "currency": "BRL", "version": tr["version"]})
    assert r.status_code == 201, r.get_json()
    tr = officer.get(f"/api/v1/travel/requests/{ref}").get_json()
    assert tr["status"] == "in_progress" and tr["stage"] == "quoted"
    r = officer.post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "LATAM", "fare": "2700.00", "currency": "BRL", "booking_reference": "xk7p2q",
        "version": tr["version"]})
    assert r.status_code == 201, r.get_json()
    fare_usd = (Decimal("2700.00") / _rate_this_month(app)).quantize(Decimal("0.01"))
    assert r.get_json()["booking_reference"] == "XK7P2Q" and r.get_json()["fare_usd"] == str(fare_usd)
    def charges_now():
        with app.app_context():
            return {e.source_ref: (e.service_item, e.kind, e.value_usd)
                    for e in db.session.scalars(select(ChargeableEvent))}

    events = charges_now()
    assert events == {f"{ref}/ticket": ("ticket_issuance", "fee", fare_usd),
                      f"{ref}/fare": ("ticket_fare", "pass_through", fare_usd)}
    # the requester sees the ticket
    assert api(REQUESTER).get(f"/api/v1/travel/requests/{ref}/ticket").get_json()["carrier"] == "LATAM"
    # a second ticket is refused and writes no second charge
    version = officer.get(f"/api/v1/travel/requests/{ref}").get_json()["version"]
    r = officer.post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": "1.00", "currency": "USD", "booking_reference": "AAAAAA", "version": version})
    assert r.status_code == 409
    assert charges_now() == events
    assert api(REQUESTER).get(f"/api/v1/travel/requests/{ref}/ticket").get_json()["booking_reference"] == "XK7P2Q"
    today(34)  # the day after the return
    transition(TRAVEL, ref, "mark_travelled")
    # the traveller came back a day early: 2 nights (542.00) + 188.00 = 730.00
    actual = round_trip(nights=2)
    requester = api(REQUESTER)
    version = requester.get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = requester.post(f"/api/v1/travel/requests/{ref}/claim", json={"legs": actual, "version": version})
    assert r.status_code == 201, r.get_json()
    claim = r.get_json()
    assert claim["claim_total"] == "730.00" and claim["estimate_total"] == "1001.00"
    assert claim["claim_difference"] == "-271.00"
    assert claim["claim_balance"] == "-70.80"  # the advance of 800.80 exceeds it: 70.80 to recover
    assert Decimal(claim["advance_usd"]) + Decimal(claim["claim_balance"]) == Decimal(claim["claim_total"])
    transition(TRAVEL, ref, "settle")
    done = transition(TRAVEL, ref, "complete")
    assert done["status"] == "completed"


def test_an_unchanged_claim_pays_the_rest_of_the_estimate(api, file_trip, transition, today):
    ref = file_trip(round_trip(nights=3), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    tr = api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()
    api(TRAVEL).post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": tr["version"]})
    today(34)
    transition(TRAVEL, ref, "mark_travelled")
    version = api(REQUESTER).get(f"/api/v1/requests/{ref}").get_json()["version"]
    claim = api(REQUESTER).post(f"/api/v1/travel/requests/{ref}/claim",
                                json={"legs": round_trip(nights=3), "version": version}).get_json()
    assert (claim["advance_usd"], claim["claim_balance"], claim["claim_difference"]) == ("800.80", "200.20", "0.00")


def test_completing_before_the_claim_is_settled_is_refused(api, file_trip, transition):
    ref = file_trip(round_trip(), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    transition(TRAVEL, ref, "start")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = api(TRAVEL).post(f"/api/v1/requests/{ref}/transitions", json={"action": "complete", "version": version})
    assert r.status_code == 409 and "claim is settled" in r.get_json()["detail"]


def test_the_generic_transition_cannot_ticket_without_the_ticket(api, file_trip, transition):
    ref = file_trip(round_trip(), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = api(TRAVEL).post(f"/api/v1/requests/{ref}/transitions", json={"action": "ticket", "version": version})
    assert r.status_code == 422 and "/ticket" in r.get_json()["errors"]["_schema"][0]
    assert api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()["status"] == "approved"


def test_cancelling_after_ticketing_records_the_cancellation_fee(app, api, file_trip, transition):
    ref = file_trip(round_trip(), submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    tr = api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()
    api(TRAVEL).post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": tr["version"]})
    manager = api(MANAGER)
    version = manager.get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = manager.post(f"/api/v1/travel/requests/{ref}/cancellation",
                     json={"comment": "Mission postponed", "version": version})
    assert r.status_code == 422 and "cancellation_fee" in r.get_json()["errors"]
    r = manager.post(f"/api/v1/travel/requests/{ref}/cancellation",
                     json={"comment": "Mission postponed", "version": version, "cancellation_fee": "150.00"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "cancelled" and r.get_json()["cancellation_fee"] == "150.00"
    with app.app_context():
        event = db.session.scalar(select(ChargeableEvent).where(ChargeableEvent.source_ref == f"{ref}/cancellation"))
        assert (event.service_item, event.kind, event.value_usd) == (
            "ticket_cancellation", "pass_through", Decimal("150.00"))


# --- who may do what -----------------------------------------------------------------------


def test_another_agencys_travel_request_is_not_found(api, file_trip):
    ref = file_trip()["reference"]
    for path in ("", "/dsa", "/ticket", "/claim"):
        assert api(OTHER_REQUESTER).get(f"/api/v1/travel/requests/{ref}{path}").status_code == 404
    assert ref not in [t["reference"] for t in api(OTHER_REQUESTER).get("/api/v1/travel/requests").get_json()["items"]]


def test_another_agency_cannot_act_on_a_travel_request(app, api, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    before = counts(app)
    other = api(OTHER_REQUESTER)
    version = api(REQUESTER).get(f"/api/v1/requests/{ref}").get_json()["version"]
    ticket = {"carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": version}
    assert other.post(f"/api/v1/travel/requests/{ref}/ticket", json=ticket).status_code == 404
    assert other.post(f"/api/v1/travel/requests/{ref}/claim",
                      json={"legs": round_trip(), "version": version}).status_code == 404
    assert other.post(f"/api/v1/travel/requests/{ref}/cancellation",
                      json={"comment": "not ours", "version": version}).status_code == 404
    assert other.post(f"/api/v1/travel/requests/{ref}/quotes", json={
        "carrier": "GOL", "fare": "400.00", "currency": "USD", "version": version}).status_code == 404
    assert counts(app) == before
    assert api(REQUESTER).get(f"/api/v1/travel/requests/{ref}").get_json()["status"] == "approved"


def test_the_auditor_files_quotes_claims_cancels_and_sets_rates_never(app, api, file_trip, transition):
    auditor = api(AUDITOR)
    before = counts(app)
    assert auditor.post("/api/v1/travel/requests", json=body(round_trip())).status_code == 403
    assert counts(app) == before
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(REQUESTER).get(f"/api/v1/requests/{ref}").get_json()["version"]
    before = counts(app)
    base = f"/api/v1/travel/requests/{ref}"
    assert auditor.post(f"{base}/quotes", json={
        "carrier": "GOL", "fare": "400.00", "currency": "USD", "version": version}).status_code == 403
    assert auditor.post(f"{base}/claim", json={"legs": round_trip(), "version": version}).status_code == 403
    assert auditor.post(f"{base}/cancellation", json={"comment": "audit", "version": version}).status_code == 403
    assert auditor.post("/api/v1/travel/dsa-rates", json={
        "city": "Lima", "country": "PE", "month": "2026-01", "usd_per_night": "228.00",
        "room_pct": "50"}).status_code == 403
    assert auditor.post("/api/v1/travel/dsa-rates/import", json={"csv": CSV_OK}).status_code == 403
    assert counts(app) == before
    tr = api(REQUESTER).get(base).get_json()
    assert (tr["status"], tr["version"], tr["quotes"]) == ("approved", version, [])


def test_only_the_travel_officer_tickets_and_the_auditor_changes_nothing(api, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    ticket = {"carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": version}
    assert api(REQUESTER).post(f"/api/v1/travel/requests/{ref}/ticket", json=ticket).status_code == 403
    assert api("ict@jof.example").post(f"/api/v1/travel/requests/{ref}/ticket", json=ticket).status_code == 403
    assert api(AUDITOR).post(f"/api/v1/travel/requests/{ref}/ticket", json=ticket).status_code == 403
    assert api(AUDITOR).get(f"/api/v1/travel/requests/{ref}").status_code == 200


def test_fares_are_strings_not_floats(api, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = api(TRAVEL).post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": 410.1, "currency": "USD", "booking_reference": "G0L123", "version": version})
    assert r.status_code == 422 and "fare" in r.get_json()["errors"]


# --- the rate table ------------------------------------------------------------------------


def test_rates_are_listed_per_location_and_month(api):
    r = api(REQUESTER).get("/api/v1/travel/dsa-rates?country=BR&city=sao paulo")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [(i["city"], i["usd_per_night"], i["room_pct"]) for i in items] == [("São Paulo", "271.00", "55.00")]


def test_the_travel_officer_sets_a_rate_and_a_requester_may_not(api):
    rate = {"city": "Lima", "country": "PE", "month": "2026-01", "usd_per_night": "228.00", "room_pct": "50"}
    assert api(REQUESTER).post("/api/v1/travel/dsa-rates", json=rate).status_code == 403
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates", json=rate)
    assert r.status_code == 201 and r.get_json()["usd_per_night"] == "228.00"


CSV_OK = """city,country,month,usd_per_night,room_pct
Lima,PE,2026-01,228.00,50
Elsewhere,PE,2026-01,140.00,45
Asunción,py,2026-02,180.50,48.5
"""

CSV_BAD = """city,country,month,usd_per_night,room_pct
Lima,PE,2026-01,228.00,50
Quito,Ecuador,2026-01,190.00,50
Bogotá,CO,2026-13,210.00,50
La Paz,BO,2026-01,-5,50
Montevideo,UY,2026-01,238.00,140
Lima,PE,2026-01,229.00,50
Cusco,PE,2026-01
"""


def test_a_csv_import_writes_every_row(app, api):
    before = counts(app)["dsa_rate"]
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import", json={"csv": CSV_OK})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"imported": 3, "rejected": []}
    assert counts(app)["dsa_rate"] == before + 3


def test_malformed_csv_rows_are_reported_and_nothing_is_imported(app, api):
    before = counts(app)
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import", json={"csv": CSV_BAD})
    assert r.status_code == 422
    data = r.get_json()
    assert data["detail"] == "6 line(s) rejected; nothing was imported."
    assert sorted(data["errors"]) == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert data["errors"]["line 3"] == ["country: ISO 3166 alpha-2 code, e.g. BR."]
    assert data["errors"]["line 4"] == [f"month: {MONTH_MESSAGE}"]
    assert "usd_per_night" in data["errors"]["line 5"][0]
    assert "room_pct" in data["errors"]["line 6"][0]
    assert data["errors"]["line 7"] == ["city: Same location and month as line 2."]
    assert data["errors"]["line 8"][0].startswith("_row: Expected 5 columns")
    assert [r["line"] for r in data["rejected"]] == [3, 4, 5, 6, 7, 8]
    assert counts(app) == before


def test_a_csv_without_the_columns_is_refused(api):
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates/import", json={"csv": "town,rate\nLima,1\n"})
    assert r.status_code == 422 and "csv" in r.get_json()["errors"]


@pytest.mark.parametrize("email", [REQUESTER, AUDITOR])
def test_only_rate_managers_import(api, email):
    assert api(email).post("/api/v1/travel/dsa-rates/import", json={"csv": CSV_OK}).status_code == 403


def test_a_night_spent_on_an_overnight_flight_pays_no_dsa(api):
    # leaves Brasília at 23:00, lands in Buenos Aires at 03:30 the next day, 2 nights there,
    # home on a day flight: the night of departure is spent in the air
    d0, d1, d3 = day(30), day(31), day(33)
    legs = [leg("Brasília, BR", "Buenos Aires, AR", at(d0, "23:00"), at(d1, "03:30")),
            leg("Buenos Aires, AR", "Brasília, BR", at(d3, "12:00"), at(d3, "17:00"))]
    data = api(REQUESTER).post("/api/v1/travel/dsa-estimate", json={"legs": legs}).get_json()
    assert [(ln["location"], ln["nights"], ln["first_night"], ln["amount"]) for ln in data["lines"]] == [
        ("Buenos Aires, AR", 2, d1.isoformat(), "620.00"), ("Terminal expenses", 4, None, "188.00")]
    assert data["total"] == "808.00"


def test_a_trip_without_dsa_completes_once_travelled(api, file_trip, transition, today):
    tr = file_trip(needs_dsa=False, needs_ticket=False, submit=True)
    assert tr["estimate_total"] == "0.00"
    ref = tr["reference"]
    transition(MANAGER, ref, "approve")
    assert api(TRAVEL).get(f"/api/v1/travel/requests/{ref}").get_json()["advance_usd"] is None
    transition(TRAVEL, ref, "start")
    today(34)
    transition(TRAVEL, ref, "mark_travelled")
    assert transition(TRAVEL, ref, "complete")["status"] == "completed"


def test_submitting_recomputes_the_estimate_with_the_rates_in_force(app, api, file_trip, transition):
    tr = file_trip(round_trip(nights=3))
    assert tr["estimate_total"] == "1001.00"
    month = day(30).strftime("%Y-%m")
    r = api(TRAVEL).post("/api/v1/travel/dsa-rates", json={
        "city": "Sao Paulo", "country": "BR", "month": month, "usd_per_night": "300.00", "room_pct": "55"})
    assert r.status_code == 201
    transition(REQUESTER, tr["reference"], "submit")
    after = api(REQUESTER).get(f"/api/v1/travel/requests/{tr['reference']}").get_json()
    assert after["estimate_total"] == "1088.00"  # 3 × 300.00 + 188.00
    assert api(REQUESTER).get(f"/api/v1/requests/{tr['reference']}").get_json()["amount_usd"] == "1088.00"


def test_meal_deductions_and_the_advance_follow_the_configuration(app, api, monkeypatch):
    # lunch provided on the first night with lunch set to 20%: 80% of 271.00 = 216.80;
    # + 2 × 271.00 + 188.00 = 946.80; a 50% advance is 473.40
    monkeypatch.setitem(app.config, "JOF_TRAVEL_MEAL_PCT", {"lunch": "20"})
    monkeypatch.setitem(app.config, "JOF_TRAVEL_ADVANCE_PCT", "50")
    r = api(REQUESTER).post("/api/v1/travel/dsa-estimate", json={
        "legs": round_trip(nights=3), "provisions": [{"from_night": day(30).isoformat(), "lunch": True}]})
    data = r.get_json()
    assert [(ln["nights"], ln["percentage"], ln["amount"]) for ln in data["lines"]][:2] == [
        (1, "80.0000", "216.80"), (2, "100.0000", "542.00")]
    assert (data["total"], data["advance"]) == ("946.80", "473.40")
