"""A head votes through a real Chromium; after closing, the register shows the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from jof.core.db import db
from jof.governance import decisions
from tests.conftest import TEST_PASSWORD
from tests.governance.conftest import head_email

pytestmark = pytest.mark.browser


def test_a_head_votes_and_after_closing_the_register_shows_the_outcome(live_server, page, board):
    decision = board.open(title="Open the facility on Saturdays")
    decision_id, closes_at = decision.id, decision.closes_at
    db.session.commit()
    db.session.close()  # hold no snapshot while the server writes

    page.goto(f"{live_server}/login")
    page.fill("#email", head_email("UNOPS"))
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(head_email("UNOPS"))

    page.goto(f"{live_server}/governance/decisions/{decision_id}")
    expect(page.get_by_test_id("my-vote")).to_have_text("not cast yet")
    page.check("#choice-yes")
    page.get_by_role("button", name="Cast vote").click()
    expect(page.get_by_test_id("my-vote")).to_have_text("Yes")

    closed = decisions.close(decision_id, None, now=closes_at + timedelta(seconds=1))
    number = closed.resolution_number
    assert closed.tally["votes"]["UNOPS"] == "yes"
    db.session.commit()
    db.session.close()

    page.goto(f"{live_server}/governance/resolutions")
    row = page.get_by_test_id("resolutions").locator("tr", has_text=number)
    expect(row).to_contain_text("Open the facility on Saturdays")
    expect(row).to_contain_text("No quorum")  # one vote of six
    expect(row).to_contain_text("UNOPS: Yes")
