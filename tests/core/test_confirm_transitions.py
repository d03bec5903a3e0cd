"""Cancelling or rejecting a request ends it for good: the request page asks first, naming
the consequence, and only the confirmation acts."""

from __future__ import annotations

import re

from sqlalchemy import select

from jof.core.db import db
from jof.core.workflow import ServiceRequest

REQUESTER = "requester@undp.jof.example"
MANAGER = "manager@jof.example"


def _status(app, ref: str) -> str:
    with app.app_context():
        status = db.session.scalar(select(ServiceRequest.status).where(ServiceRequest.reference == ref))
        db.session.remove()
        return status


def _hidden(html: str) -> dict:
    form = re.search(r'<form method="post" action="[^"]*/transitions".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_the_request_page_sends_cancel_to_a_confirmation_not_to_the_move(app, web, make):
    ref = make.request(REQUESTER, status="submitted")
    html = web(REQUESTER).get(f"/requests/{ref}").get_data(as_text=True)
    cancel = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="action-cancel"', html)
    assert cancel.groups() == ("get", f"/requests/{ref}/confirm/cancel")


def test_cancelling_is_confirmed_with_its_consequence_and_then_done(app, web, make):
    ref = make.request(REQUESTER, status="submitted", title="Chairs for the meeting room")
    c = web(REQUESTER)
    page = c.get(f"/requests/{ref}/confirm/cancel?comment=No+longer+needed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert ref in consequence and "Chairs for the meeting room" in consequence
    assert "cannot be undone" in consequence
    assert "No longer needed</textarea>" in html  # the reason typed on the request page is kept
    assert _status(app, ref) == "submitted"  # asking changes nothing
    r = c.post(f"/requests/{ref}/transitions", data={**_hidden(html), "comment": "No longer needed"})
    assert r.status_code == 302
    assert _status(app, ref) == "cancelled"


def test_rejecting_is_confirmed_too(app, web, make):
    ref = make.request(REQUESTER, status="submitted")
    html = web(MANAGER).get(f"/requests/{ref}/confirm/reject").get_data(as_text=True)
    assert "ends as rejected" in html and _hidden(html)["action"] == "reject"


def test_a_confirmation_for_a_move_not_open_now_shows_the_request_and_why(app, web, make):
    ref = make.request(REQUESTER, status="completed")
    for url in (f"/requests/{ref}/confirm/cancel", f"/requests/{make.request(REQUESTER)}/confirm/submit"):
        r = web(REQUESTER).get(url)
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "That action is not open to you on this request now." in html
        assert 'data-testid="consequence"' not in html


def test_another_agencys_request_has_no_confirmation_page(app, web, make):
    ref = make.request(REQUESTER, status="submitted")
    assert web("requester@unfpa.jof.example").get(f"/requests/{ref}/confirm/cancel").status_code == 404
