"""The travel list sorts, filters and exports every filtered row; the trip page names the
agency (not the requester) as the agency; cancelling a trip asks first, naming what it
does, and only the confirmation cancels."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from tests.conftest import csrf_from
from tests.querycount import statements
from tests.travel.conftest import MANAGER, REQUESTER, TRAVEL, round_trip


def _status(api, ref: str) -> str:
    return api(MANAGER).get(f"/api/v1/requests/{ref}").get_json()["status"]


def test_the_trip_page_shows_the_agency_name_as_the_agency_and_the_requester_apart(web, file_trip):
    ref = file_trip()["reference"]
    html = web(REQUESTER).get(f"/travel/requests/{ref}").get_data(as_text=True)
    agency = re.search(r'data-testid="agency">(.*?)</dd>', html).group(1)
    assert agency.startswith("UNDP — ") and "Requester" not in agency
    assert re.search(r'data-testid="requester">[^<]+</dd>', html)


def test_the_cancel_button_leads_to_a_confirmation_not_to_the_move(api, web, file_trip):
    ref = file_trip(submit=True)["reference"]
    html = web(REQUESTER).get(f"/travel/requests/{ref}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="action-cancel"', html)
    assert form.groups() == ("get", f"/travel/requests/{ref}/confirm/cancel")


def test_cancelling_a_trip_is_confirmed_with_its_consequence_and_then_done(api, web, file_trip):
    ref = file_trip(submit=True)["reference"]
    c = web(REQUESTER)
    page = c.get(f"/travel/requests/{ref}/confirm/cancel?comment=Meeting+moved")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert ref in consequence and "cannot be undone" in consequence and "no ticket is bought" in consequence
    assert "Meeting moved</textarea>" in html
    assert _status(api, ref) == "submitted"  # asking changes nothing
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    r = c.post(f"/travel/requests/{ref}/cancel", data={"csrf_token": csrf_from(html), "version": version,
                                                       "comment": "Meeting moved"})
    assert r.status_code == 302
    assert _status(api, ref) == "cancelled"


def test_cancelling_a_ticketed_trip_names_the_fee_and_who_pays_it(api, web, file_trip, transition):
    ref = file_trip(submit=True)["reference"]
    transition(MANAGER, ref, "approve")
    officer = web(TRAVEL)
    page = officer.get(f"/travel/requests/{ref}").get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    assert officer.post(f"/travel/requests/{ref}/ticket", data={
        "carrier": "Azul", "fare": "980.00", "currency": "USD", "booking_reference": "AZ9K2L",
        "version": version, "csrf_token": csrf_from(page)}).status_code == 302
    html = web(MANAGER).get(f"/travel/requests/{ref}/confirm/cancel").get_data(as_text=True)
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert "AZ9K2L" in consequence and "cancellation fee" in consequence
    assert 'name="cancellation_fee"' in html


def test_a_trip_confirmation_for_a_cancel_not_open_shows_the_trip_and_why(api, web, file_trip):
    ref = file_trip()["reference"]
    html = web(TRAVEL).get(f"/travel/requests/{ref}/confirm/cancel").get_data(as_text=True)
    assert "That action is not open to you on this request now." in html
    assert 'data-testid="consequence"' not in html


def _trips(file_trip, n: int, **extra) -> list[str]:
    return [file_trip(round_trip(start=30 + i), purpose=f"Trip {i}", **extra)["reference"] for i in range(n)]


def test_the_travel_list_sorts_by_departure_both_ways_and_keeps_the_status_filter(web, file_trip):
    refs = _trips(file_trip, 3)
    file_trip(submit=True)
    c = web(MANAGER)
    up = c.get("/travel/?status=draft&sort=departure&dir=asc").get_data(as_text=True)
    shown = re.findall(r'href="/travel/requests/(TRV-[\d-]+)"', up)
    assert shown == refs
    down = c.get("/travel/?status=draft&sort=departure&dir=desc").get_data(as_text=True)
    assert re.findall(r'href="/travel/requests/(TRV-[\d-]+)"', down) == refs[::-1]
    assert 'href="/travel/?status=draft&amp;sort=departure&amp;dir=desc"' in up
    assert c.get("/travel/?sort=traveller_key").status_code == 422


def test_the_travel_export_holds_every_filtered_row_with_the_page_numbers(app, web, file_trip):
    refs = _trips(file_trip, 3)
    file_trip(submit=True)
    c = web(MANAGER)
    page = c.get("/travel/?status=draft").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(c.get("/travel/?status=draft&format=csv").get_data(as_text=True))))
    assert sorted(r["reference"] for r in rows) == sorted(refs)
    for row in rows:  # the same estimate as the page shows
        amount = f"{float(row['dsa_estimate_usd']):,.2f}"
        assert amount in page
    ws = load_workbook(io.BytesIO(c.get("/travel/?status=draft&format=xlsx").data)).active
    assert ws.max_row - 3 == 3 and ws.cell(3, 3).value == "Traveller"


def test_the_travel_export_costs_the_same_statements_for_2_and_12_trips(app, web, file_trip):
    c = web(MANAGER)
    c.get("/travel/")
    _trips(file_trip, 2)
    with statements(app) as small:
        assert c.get("/travel/?format=csv").status_code == 200
    _trips(file_trip, 10)
    with statements(app) as large:
        assert c.get("/travel/?format=csv").status_code == 200
    assert large.count == small.count, large.statements[-5:]


def test_an_empty_travel_list_says_how_to_file_one(web):
    assert "file one with New travel request" in web(REQUESTER).get("/travel/").get_data(as_text=True)
