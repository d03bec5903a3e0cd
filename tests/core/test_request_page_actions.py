"""The general request page offers only moves that can succeed from it: a move needing
details the page cannot ask for points to the line's own page, and a move the guard refuses
now is named with its reason, without a button."""

from __future__ import annotations

import re

from tests.ict.test_tickets import file, move, second_officer

REQUESTER = "requester@undp.jof.example"
ICT = "ict@jof.example"
MANAGER = "manager@jof.example"


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'data-testid="action-([a-z_]+)"', html))


def test_the_request_page_offers_no_assign_on_a_ticket_and_points_to_the_ticket_page(app, api, web):
    ref = file(api(REQUESTER))["reference"]
    html = web(MANAGER).get(f"/requests/{ref}").get_data(as_text=True)
    assert "assign" not in _buttons(html)
    elsewhere = re.search(r'data-testid="actions-elsewhere">(.*?)</div>', html, re.S).group(1)
    assert f'href="/ict/tickets/{ref}"' in elsewhere and 'data-action="assign"' in elsewhere


def test_every_button_on_the_request_page_succeeds_when_pressed(app, api, web):
    """Each offered move, posted as the page posts it (a comment, no details), is done;
    each on a ticket of its own, as the page showed it."""
    officer = web(ICT)
    first = file(api(REQUESTER))["reference"]
    offered = _buttons(officer.get(f"/requests/{first}").get_data(as_text=True)) - {"cancel", "reject"}
    assert offered
    for action in sorted(offered):
        ref = file(api(REQUESTER))["reference"]
        page = officer.get(f"/requests/{ref}").get_data(as_text=True)
        form = re.search(rf'<form method="post"[^>]*data-testid="action-{action}">(.*?)</form>', page, re.S).group(1)
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        r = officer.post(f"/requests/{ref}/transitions", data={**hidden, "comment": "Done by the page."})
        assert r.status_code == 302, (action, r.get_data(as_text=True)[:400])


def test_a_move_the_guard_refuses_is_named_with_its_reason_and_has_no_button(app, api, web):
    other = second_officer(app)
    ref = file(api(REQUESTER))["reference"]
    move(api(ICT), ref, "take")
    html = web(other).get(f"/requests/{ref}").get_data(as_text=True)
    assert "resolve" not in _buttons(html) and "start" not in _buttons(html)
    blocked = re.search(r'data-testid="actions-blocked">(.*?)</div>', html, re.S).group(1)
    assert "assigned to" in blocked
