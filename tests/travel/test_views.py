"""Travel pages: the form's server-side DSA estimate, re-rendering with messages, the
request page with the calculation and the ticket, the queue, the rate table."""

from __future__ import annotations

from sqlalchemy import func, select

from jof.core.db import db
from jof.travel.models import DsaRate, TravelRequest
from tests.conftest import csrf_from
from tests.travel.conftest import MANAGER, OTHER_REQUESTER, REQUESTER, TRAVEL, at, day


def form_for(legs: list[tuple[str, str, str, str, str, str]], **extra) -> dict:
    data = {"title": "Field visit", "purpose": "Monitoring", "travel_class": "economy",
            "needs_ticket": "on", "needs_dsa": "on", "advance_requested": "on", **extra}
    names = ("origin_city", "origin_country", "destination_city", "destination_country", "depart_at", "arrive_at")
    for i, row in enumerate(legs):
        for name, value in zip(names, row, strict=True):
            data[f"legs.{i}.{name}"] = value
    return data


def two_legs(start: int = 30, nights: int = 3):
    d0, d1 = day(start), day(start + nights)
    return [("Brasília", "BR", "São Paulo", "BR", at(d0, "08:00")[:16], at(d0, "09:40")[:16]),
            ("São Paulo", "BR", "Brasília", "BR", at(d1, "18:00")[:16], at(d1, "19:40")[:16])]


def travel_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TravelRequest))


def test_the_form_shows_the_dsa_estimate_before_anything_is_filed(app, web):
    c = web(REQUESTER)
    page = c.get("/travel/requests/new").get_data(as_text=True)
    r = c.post("/travel/requests/new", data={**form_for(two_legs()), "op": "estimate", "csrf_token": csrf_from(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'data-testid="dsa-estimate"' in html and "USD 1,001.00" in html and "813.00" in html
    assert 'value="Field visit"' in html  # the input is kept for submitting
    assert travel_count(app) == 0


def test_submitting_the_form_files_the_request_and_shows_the_calculation(app, web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/travel/requests/new").get_data(as_text=True))
    r = c.post("/travel/requests/new", data={**form_for(two_legs()), "op": "submit", "csrf_token": token})
    assert r.status_code == 302
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="submitted"' in page and 'data-testid="estimate-total">USD 1,001.00' in page
    assert travel_count(app) == 1


def test_a_broken_itinerary_is_shown_again_with_the_message_next_to_the_leg(app, web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/travel/requests/new").get_data(as_text=True))
    legs = two_legs()
    legs[1] = ("Rio de Janeiro",) + legs[1][1:]
    r = c.post("/travel/requests/new", data={**form_for(legs), "op": "submit", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Leg 2 must start where leg 1 ends (São Paulo, BR)." in html
    assert 'id="legs.1.origin_city" name="legs.1.origin_city" type="text" value="Rio de Janeiro" aria-invalid="true"' in html
    assert travel_count(app) == 0


def test_the_officer_tickets_from_the_queue_and_the_requester_sees_the_ticket(app, web, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    officer = web(TRAVEL)
    queue = officer.get("/travel/queue").get_data(as_text=True)
    assert f'data-reference="{ref}"' in queue and "to ticket" in queue
    page = officer.get(f"/travel/requests/{ref}").get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    r = officer.post(f"/travel/requests/{ref}/ticket", data={
        "carrier": "Azul", "fare": "980.00", "currency": "USD", "booking_reference": "AZ9K2L",
        "version": version, "csrf_token": csrf_from(page)})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    mine = web(REQUESTER).get(f"/travel/requests/{ref}").get_data(as_text=True)
    assert 'data-testid="ticket-carrier">Azul' in mine and 'data-testid="ticket-booking">AZ9K2L' in mine


def test_a_ticket_form_with_errors_keeps_the_input(web, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    officer = web(TRAVEL)
    page = officer.get(f"/travel/requests/{ref}").get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    r = officer.post(f"/travel/requests/{ref}/ticket", data={
        "action": "ticket", "carrier": "Azul", "fare": "abc", "currency": "USD", "booking_reference": "AZ9K2L",
        "version": version, "csrf_token": csrf_from(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="ticket-fare-error"' in html and 'id="ticket-carrier" name="carrier" type="text" value="Azul"' in html


def test_pages_of_another_agency_are_not_found_and_the_queue_is_for_the_desk(web, file_trip):
    ref = file_trip()["reference"]
    assert web(OTHER_REQUESTER).get(f"/travel/requests/{ref}").status_code == 404
    assert web(REQUESTER).get("/travel/queue").status_code == 403


def test_the_rate_import_page_reports_rejected_lines_and_writes_nothing(app, web):
    c = web(TRAVEL)
    page = c.get("/travel/dsa-rates").get_data(as_text=True)
    assert "São Paulo" in page and "271.00" in page
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(DsaRate))
    csv = "city,country,month,usd_per_night,room_pct\nLima,PE,2026-01,228.00,50\nQuito,EC,2026-1,190.00,50\n"
    r = c.post("/travel/dsa-rates/import", data={"csv": csv, "csrf_token": csrf_from(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-testid="import-report"' in html and "line 3" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DsaRate)) == before
    r = c.post("/travel/dsa-rates/import", data={"csv": csv.replace("2026-1,", "2026-01,"),
                                                  "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DsaRate)) == before + 2


def test_a_requester_cannot_change_rates(web):
    c = web(REQUESTER)
    page = c.get("/travel/dsa-rates").get_data(as_text=True)
    assert "Set a rate" not in page
    r = c.post("/travel/dsa-rates", data={"city": "Lima", "country": "PE", "month": "2026-01",
                                          "usd_per_night": "200.00", "room_pct": "50", "csrf_token": csrf_from(page)})
    assert r.status_code == 403


def test_the_traveller_files_the_claim_on_the_page_and_sees_the_difference(web, file_trip, transition, api, today):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    version = api(TRAVEL).get(f"/api/v1/requests/{ref}").get_json()["version"]
    api(TRAVEL).post(f"/api/v1/travel/requests/{ref}/ticket", json={
        "carrier": "GOL", "fare": "410.00", "currency": "USD", "booking_reference": "G0L123", "version": version})
    today(40)  # after the return on day(33), and on day(34) as claimed
    transition(TRAVEL, ref, "mark_travelled")
    c = web(REQUESTER)
    page = c.get(f"/travel/requests/{ref}").get_data(as_text=True)
    assert 'data-testid="action-claim"' in page and "100%" in page
    version = page.split('name="version" value="')[1].split('"')[0]
    legs = two_legs(nights=4)  # stayed a night longer: 4 × 271.00 + 188.00 = 1,272.00
    data = {"csrf_token": csrf_from(page), "version": version}
    for i, row in enumerate(legs):
        for name, value in zip(("origin_city", "origin_country", "destination_city", "destination_country",
                                "depart_at", "arrive_at"), row, strict=True):
            data[f"legs.{i}.{name}"] = value
    r = c.post(f"/travel/requests/{ref}/claim", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    page = c.get(f"/travel/requests/{ref}").get_data(as_text=True)
    assert 'data-testid="claim-total">USD 1,272.00' in page
    assert 'data-testid="claim-difference">USD 271.00' in page
    assert 'data-testid="claim-balance">USD 471.20' in page  # 1,272.00 − advance 800.80


# --- the estimate the form's script asks for ----------------------------------------------------


def _json_legs(start: int = 30, nights: int = 3) -> list[dict]:
    names = ("origin_city", "origin_country", "destination_city", "destination_country", "depart_at", "arrive_at")
    return [dict(zip(names, row, strict=True)) for row in two_legs(start, nights)]


def test_the_form_loads_its_estimate_script_from_a_file(web):
    page = web(REQUESTER).get("/travel/requests/new").get_data(as_text=True)
    assert '<script src="/static/travel-estimate.js" defer></script>' in page
    assert 'data-url="/travel/estimate.json"' in page
    assert "<script>" not in page  # the CSP (script-src 'self') runs no inline script


def test_the_estimate_endpoint_answers_with_the_session_and_the_csrf_header(app, web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/travel/requests/new").get_data(as_text=True))
    before = travel_count(app)
    r = c.post("/travel/estimate.json", json={"legs": _json_legs(nights=3)}, headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    data = r.get_json()
    assert (data["total"], data["advance"], data["total_label"]) == ("1001.00", "800.80", "USD 1,001.00")
    assert data["advance_label"] == "Advance payable before travel (if requested): USD 800.80"
    assert [(ln["location_label"], ln["nights_label"], ln["rate"], ln["percentage_label"], ln["amount"])
            for ln in data["lines"]] == [
        ("São Paulo, BR", "3", "271.00", "100%", "813.00"),
        ("Terminal expenses", "4 terminals", "47.00", "100%", "188.00")]
    assert data["lines"][0]["dates_label"] == f"{day(30)} – {day(32)}"
    assert travel_count(app) == before
    # the same numbers as the bearer API's estimate
    assert c.post("/travel/estimate.json", json={"legs": _json_legs(nights=4)},
                  headers={"X-CSRFToken": token}).get_json()["total"] == "1272.00"


def test_the_estimate_endpoint_refuses_without_the_csrf_token_or_a_session(app, web):
    c = web(REQUESTER)
    r = c.post("/travel/estimate.json", json={"legs": _json_legs()})
    assert r.status_code == 400 and "total" not in r.get_data(as_text=True)
    r = c.post("/travel/estimate.json", json={"legs": _json_legs()}, headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400
    anonymous = app.test_client()
    page = anonymous.get("/login").get_data(as_text=True)
    r = anonymous.post("/travel/estimate.json", json={"legs": _json_legs()},
                       headers={"X-CSRFToken": csrf_from(page)})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_estimate_endpoint_names_the_broken_leg(web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/travel/requests/new").get_data(as_text=True))
    legs = _json_legs()
    legs[1]["origin_city"] = "Rio de Janeiro"
    r = c.post("/travel/estimate.json", json={"legs": legs}, headers={"X-CSRFToken": token})
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"legs.1.origin_city": ["Leg 2 must start where leg 1 ends (São Paulo, BR)."]}
    r = c.post("/travel/estimate.json", data="legs", headers={"X-CSRFToken": token, "Content-Type": "text/plain"})
    assert r.status_code == 422 and "_schema" in r.get_json()["errors"]
    r = c.post("/travel/estimate.json", json={"legs": [{"origin_city": "Brasília"}]}, headers={"X-CSRFToken": token})
    assert r.status_code == 422 and "legs.0.destination_city" in r.get_json()["errors"]


def test_the_nights_the_host_provides_are_listed_in_the_readers_words_and_dates(app, api, web):
    from tests.travel.conftest import body, round_trip

    legs = round_trip()
    night = legs[0]["depart_at"][:10]
    r = api(REQUESTER).post("/api/v1/travel/requests", json=body(legs, provisions=[
        {"from_night": night, "accommodation": True, "breakfast": True, "dinner": True}]))
    assert r.status_code == 201, r.get_json()
    page = web(REQUESTER)
    page.post("/language", data={"locale": "pt_BR", "csrf_token": csrf_from(page.get("/").get_data(as_text=True))})
    html = page.get(f"/travel/requests/{r.get_json()['reference']}").get_data(as_text=True)
    provided = html.split('data-testid="provisions"')[1].split("</ul>")[0]
    assert "hospedagem" in provided and "café da manhã" in provided and "jantar" in provided
    assert "breakfast" not in provided and "dinner" not in provided and night not in provided
