"""ICT pages: requesters file and follow tickets, the desk works its queue, agencies
see their subscriptions; forms keep the input and show field messages on errors."""

from __future__ import annotations

import re

from tests.conftest import csrf_from

REQUESTER = "requester@undp.jof.example"
ICT = "ict@jof.example"


def _open_ticket(c, **fields):
    token = csrf_from(c.get("/ict/tickets/new").get_data(as_text=True))
    data = {"title": "Projector in room 3 does not turn on", "description": "", "kind": "incident",
            "category": "hardware", "service": "", "urgency": "medium", "impact": "low",
            "csrf_token": token, **fields}
    return c.post("/ict/tickets/new", data=data)


def test_requester_opens_a_ticket_from_the_form(web):
    c = web(REQUESTER)
    r = _open_ticket(c)
    assert r.status_code == 302
    ref = re.search(r"/ict/tickets/(ICT-\d{4}-\d{5})", r.headers["Location"]).group(1)
    page = c.get(f"/ict/tickets/{ref}").get_data(as_text=True)
    assert "Projector in room 3" in page and 'data-priority="P4"' in page
    assert ref in c.get("/ict/tickets").get_data(as_text=True)


def test_invalid_ticket_form_keeps_the_input_and_says_what_is_wrong(web):
    c = web(REQUESTER)
    r = _open_ticket(c, title="", description="Keep me", urgency="enormous")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Keep me" in page
    assert 'id="title"' in page and "is-invalid" in page


def test_the_queue_is_for_the_desk_and_shows_time_left(web):
    requester = web(REQUESTER)
    _open_ticket(requester)
    assert requester.get("/ict/queue").status_code == 403
    page = web(ICT).get("/ict/queue")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="time-left"' in text and "Projector in room 3" in text
    assert web("auditor@jof.example").get("/ict/queue").status_code == 200


def test_officer_takes_and_resolves_from_the_ticket_page(web):
    requester, ict = web(REQUESTER), web(ICT)
    ref = re.search(r"(ICT-\d{4}-\d{5})", _open_ticket(requester).headers["Location"]).group(1)
    page = ict.get(f"/ict/tickets/{ref}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = ict.post(f"/ict/tickets/{ref}/transitions", data={"action": "take", "comment": "", "version": version,
                                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = ict.get(f"/ict/tickets/{ref}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = ict.post(f"/ict/tickets/{ref}/transitions", data={"action": "resolve", "comment": "", "version": version,
                                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 422  # a resolution note is required
    r = ict.post(f"/ict/tickets/{ref}/transitions", data={"action": "resolve", "comment": "Replaced the lamp.",
                                                           "version": version, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = requester.get(f"/ict/tickets/{ref}").get_data(as_text=True)
    assert 'data-status="resolved"' in page and "Replaced the lamp." in page


def test_other_agency_gets_404_on_the_ticket_page(web):
    ref = re.search(r"(ICT-\d{4}-\d{5})", _open_ticket(web(REQUESTER)).headers["Location"]).group(1)
    assert web("requester@unfpa.jof.example").get(f"/ict/tickets/{ref}").status_code == 404


def test_subscription_order_page_and_overview(web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/ict/subscriptions/new").get_data(as_text=True))
    bad = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": "0",
                                                  "starts_on": "2026-04-01", "csrf_token": token})
    assert bad.status_code == 422 and 'name="seats"' in bad.get_data(as_text=True)
    r = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": "10",
                                                "starts_on": "2026-04-16", "csrf_token": token})
    assert r.status_code == 302
    ref = re.search(r"(ICS-\d{4}-\d{5})", r.headers["Location"]).group(1)
    overview = c.get("/ict/subscriptions").get_data(as_text=True)
    assert ref in overview and 'data-agency="UNDP"' in overview
    assert ref not in web("requester@unfpa.jof.example").get("/ict/subscriptions").get_data(as_text=True)
    manager = web("manager@jof.example")
    page = manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = manager.post(f"/ict/subscriptions/{ref}/transitions", data={
        "action": "approve", "comment": "", "version": version, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = c.get(f"/ict/subscriptions/{ref}").get_data(as_text=True)
    assert 'data-status="approved"' in page and 'data-testid="periods"' in page
    assert "USD 120.00" in c.get("/ict/subscriptions").get_data(as_text=True)  # 10 seats × 12.00 a month


def test_catalogue_page_lists_services_and_only_the_manager_adds(web):
    page = web(REQUESTER).get("/ict/services").get_data(as_text=True)
    assert "email_account" in page and "Laptop set-up" in page and "Add a service" not in page
    manager = web("manager@jof.example")
    token = csrf_from(manager.get("/ict/services").get_data(as_text=True))
    r = manager.post("/ict/services", data={"code": "video_conferencing", "name": "Video conferencing",
                                            "kind": "recurring", "unit_price_usd": "15.00", "csrf_token": token})
    assert r.status_code == 302
    assert "video_conferencing" in web(REQUESTER).get("/ict/services").get_data(as_text=True)


def test_ict_entry_in_the_navigation(web):
    page = web(REQUESTER).get("/").get_data(as_text=True)
    assert 'href="/ict/"' in page


def test_manager_reprices_and_withdraws_a_service_on_the_catalogue_page(web):
    manager = web("manager@jof.example")
    token = csrf_from(manager.get("/ict/services").get_data(as_text=True))
    bad = manager.post("/ict/services/connectivity", data={"unit_price_usd": "abc", "active": "on",
                                                           "csrf_token": token})
    assert bad.status_code == 422 and 'value="abc"' in bad.get_data(as_text=True)
    r = manager.post("/ict/services/connectivity", data={"unit_price_usd": "27.50", "csrf_token": token})
    assert r.status_code == 302
    page = web(REQUESTER).get("/ict/services").get_data(as_text=True)
    assert "Connectivity" not in page  # withdrawn: no longer offered to agencies
    order_form = web(REQUESTER).get("/ict/subscriptions/new").get_data(as_text=True)
    assert 'value="connectivity"' not in order_form
    requester = web(REQUESTER)
    own_token = csrf_from(requester.get("/ict/services").get_data(as_text=True))
    assert requester.post("/ict/services/email_account", data={
        "unit_price_usd": "1.00", "active": "on", "csrf_token": own_token}).status_code == 403


def test_order_form_refuses_fractional_seats_and_far_dates_with_messages(web):
    c = web(REQUESTER)
    token = csrf_from(c.get("/ict/subscriptions/new").get_data(as_text=True))
    r = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": "2.9",
                                                "starts_on": "2026-04-01", "csrf_token": token})
    assert r.status_code == 422 and "Not a whole number." in r.get_data(as_text=True)
    r = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": "3",
                                                "starts_on": "0001-01-01", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "from 2000-01-01" in html and 'value="0001-01-01"' in html


def test_the_queue_refuses_an_agency_user_in_their_language(app, web):
    from html import unescape

    from sqlalchemy import select

    from jof.core import services as core_services
    from jof.core.db import db
    from jof.core.people import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REQUESTER))
        core_services.set_locale(user, "pt_BR", app.config["JOF_LANGUAGES"])
        db.session.commit()
    r = web(REQUESTER).get("/ict/queue")
    assert r.status_code == 403
    assert "A fila é para os analistas de TIC, o gerente e o auditor." in unescape(r.get_data(as_text=True))
