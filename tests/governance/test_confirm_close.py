"""Closing a board decision by hand ends the vote for good: the decision page asks first,
naming the consequence, and only the confirmation closes it."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from jof.core.db import db
from jof.governance.models import Decision
from tests.governance.conftest import MANAGER, MEMBERS


def test_closing_a_decision_by_hand_is_confirmed_first(app, web, pages):
    decision_id = pages(lambda b: b.open(title="Adopt the 2027 price list", closes_in=timedelta(seconds=2)).id)
    pages(lambda b: [b.vote(decision_id, code, "yes") for code in MEMBERS[:4]])
    time.sleep(2.5)  # past its closing time: the manager may close it
    c = web(MANAGER)
    page = c.get(f"/governance/decisions/{decision_id}")
    assert f'href="/governance/decisions/{decision_id}/close"' in page.get_data(as_text=True)
    confirm = c.get(f"/governance/decisions/{decision_id}/close")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert "Adopt the 2027 price list" in consequence and "4 vote(s)" in consequence
    assert "cannot be undone" in consequence
    with app.app_context():
        assert db.session.get(Decision, decision_id).status == "open"
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = c.post(f"/governance/decisions/{decision_id}/close", data={"csrf_token": token})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Decision, decision_id).status == "closed"


def test_only_the_manager_reaches_the_decision_close_confirmation(app, web, pages):
    decision_id = pages(lambda b: b.open().id)
    assert web("head@undp.jof.example").get(f"/governance/decisions/{decision_id}/close").status_code == 403
