"""Removing a cost pool is confirmed on a page that names the pool, its amount and month;
only that page's form removes it."""

from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.governance.conftest import MANAGER


def _add_pool(client) -> str:
    page = client.get("/governance/costs?period=2026-03").get_data(as_text=True)
    r = client.post("/governance/costs", data={"period": "2026-03", "action": "add", "category": "premises",
                                               "amount": "1250.00", "description": "Rent", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    html = client.get("/governance/costs?period=2026-03").get_data(as_text=True)
    return re.search(r'href="(/governance/costs/\d+/confirm-remove)"', html).group(1)


def test_removing_a_cost_pool_is_confirmed_with_what_it_changes_and_then_done(web):
    client = web(MANAGER)
    confirm_url = _add_pool(client)
    html = client.get(confirm_url).get_data(as_text=True)
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert "USD 1,250.00" in consequence and "2026-03" in consequence and "no longer shared" in consequence
    assert "No pools entered" not in client.get("/governance/costs?period=2026-03").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert data["action"] == "delete"
    assert client.post(form.group(1), data=data).status_code == 302
    assert "No pools entered for this month." in client.get("/governance/costs?period=2026-03").get_data(as_text=True)


def test_the_costs_page_has_no_button_that_removes_at_once(web):
    client = web(MANAGER)
    _add_pool(client)
    html = client.get("/governance/costs?period=2026-03").get_data(as_text=True)
    assert 'name="action" value="delete"' not in html


def test_only_the_manager_reaches_the_removal_confirmation(web):
    confirm_url = _add_pool(web(MANAGER))
    assert web("auditor@jof.example").get(confirm_url).status_code == 403
