"""A ticket waits on the home page of whoever must move it next: any ICT officer while it
is new, its assignee once taken, the requester while it waits for their reply."""

from __future__ import annotations

import re

from tests.ict.test_tickets import ICT, REQUESTER, file, move, second_officer


def _waiting(web, email: str, reference: str) -> bool:
    html = web(email).get("/").get_data(as_text=True)
    section = html.split('id="needs-me"', 1)[1].split("Open queue", 1)[0].split("My agency", 1)[0]
    return bool(re.search(rf">{re.escape(reference)}<", section))


def test_a_ticket_waits_for_the_officers_then_its_assignee_then_the_requester(app, api, web):
    other = second_officer(app)
    ref = file(api(REQUESTER))["reference"]
    assert _waiting(web, ICT, ref) and _waiting(web, other, ref)
    assert not _waiting(web, REQUESTER, ref)
    move(api(ICT), ref, "take")
    assert _waiting(web, ICT, ref) and not _waiting(web, other, ref)
    move(api(ICT), ref, "wait", comment="Which laptop is it?")
    assert _waiting(web, REQUESTER, ref) and not _waiting(web, ICT, ref)
    move(api(REQUESTER), ref, "respond")
    assert _waiting(web, ICT, ref) and not _waiting(web, REQUESTER, ref)
