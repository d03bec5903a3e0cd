"""Cancelling a ticket or a subscription and setting a subscription's last day go through
a page that names the consequence; only its form acts (no JavaScript needed)."""

from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.ict.test_views import _open_ticket

REQUESTER = "requester@undp.jof.example"
MANAGER = "manager@jof.example"


def _consequence(html: str) -> str:
    return re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)


def _hidden(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _status(c, path: str) -> str:
    return re.search(r'data-status="([a-z_]+)"', c.get(path).get_data(as_text=True)).group(1)


def test_cancelling_a_ticket_is_confirmed_with_its_consequence_and_then_done(web):
    c = web(REQUESTER)
    ref = re.search(r"(ICT-\d{4}-\d{5})", _open_ticket(c).headers["Location"]).group(1)
    page = c.get(f"/ict/tickets/{ref}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="action-cancel"', page)
    assert form.groups() == ("get", f"/ict/tickets/{ref}/confirm/cancel")
    html = c.get(f"/ict/tickets/{ref}/confirm/cancel?comment=Fixed+itself").get_data(as_text=True)
    consequence = _consequence(html)
    assert ref in consequence and "Projector in room 3" in consequence and "cannot be undone" in consequence
    assert "Fixed itself</textarea>" in html
    assert _status(c, f"/ict/tickets/{ref}") == "new"  # asking changes nothing
    r = c.post(f"/ict/tickets/{ref}/transitions", data={**_hidden(html), "comment": "Fixed itself"})
    assert r.status_code == 302
    assert _status(c, f"/ict/tickets/{ref}") == "cancelled"


def test_a_ticket_cancel_confirmation_when_cancel_is_not_open_shows_the_ticket_and_why(web):
    c = web(REQUESTER)
    ref = re.search(r"(ICT-\d{4}-\d{5})", _open_ticket(c).headers["Location"]).group(1)
    html = web("ict@jof.example").get(f"/ict/tickets/{ref}/confirm/cancel").get_data(as_text=True)
    assert "That action is not open to you on this request now." in html
    assert 'data-testid="consequence"' not in html


def _approved_subscription(web) -> str:
    c = web(REQUESTER)
    token = csrf_from(c.get("/ict/subscriptions/new").get_data(as_text=True))
    r = c.post("/ict/subscriptions/new", data={"service": "email_account", "seats": "10",
                                                "starts_on": "2026-04-16", "csrf_token": token})
    ref = re.search(r"(ICS-\d{4}-\d{5})", r.headers["Location"]).group(1)
    manager = web(MANAGER)
    page = manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert manager.post(f"/ict/subscriptions/{ref}/transitions", data={
        "action": "approve", "comment": "", "version": version, "csrf_token": csrf_from(page)}).status_code == 302
    return ref


def test_cancelling_a_subscription_is_confirmed_and_then_done(web):
    ref = _approved_subscription(web)
    manager = web(MANAGER)
    page = manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="action-cancel"', page)
    assert form.groups() == ("get", f"/ict/subscriptions/{ref}/confirm/cancel")
    html = manager.get(f"/ict/subscriptions/{ref}/confirm/cancel").get_data(as_text=True)
    consequence = _consequence(html)
    assert ref in consequence and "10 seats" in consequence and "cannot be undone" in consequence
    assert _status(manager, f"/ict/subscriptions/{ref}") == "approved"
    r = manager.post(f"/ict/subscriptions/{ref}/transitions", data={**_hidden(html), "comment": "Not needed"})
    assert r.status_code == 302
    assert _status(manager, f"/ict/subscriptions/{ref}") == "cancelled"


def test_setting_the_end_date_names_the_last_day_and_only_the_confirmation_sets_it(web):
    ref = _approved_subscription(web)
    manager = web(MANAGER)
    page = manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="end-form"', page)
    assert form.groups() == ("get", f"/ict/subscriptions/{ref}/confirm/end")
    html = manager.get(f"/ict/subscriptions/{ref}/confirm/end?ends_on=2026-12-31").get_data(as_text=True)
    consequence = _consequence(html)
    assert ref in consequence and "December 31, 2026" in consequence and "no seat is provided or charged" in consequence
    assert "Dec 31, 2026" not in manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True).split('data-testid="periods"')[1].split("</table>")[0]
    r = manager.post(f"/ict/subscriptions/{ref}/end", data=_hidden(html))
    assert r.status_code == 302
    periods = manager.get(f"/ict/subscriptions/{ref}").get_data(as_text=True).split('data-testid="periods"')[1]
    assert "Dec 31, 2026" in periods.split("</table>")[0]


def test_an_end_date_that_is_not_a_date_is_refused_before_any_confirmation(web):
    ref = _approved_subscription(web)
    r = web(MANAGER).get(f"/ict/subscriptions/{ref}/confirm/end?ends_on=someday")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-testid="consequence"' not in html
    assert 'value="someday"' in html
