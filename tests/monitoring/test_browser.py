"""Through Chromium: the manager's, a requester's, the Resident Coordinator's and the HR
officer's dashboards at a laptop's 1366 px and a phone's 390 px, without horizontal
overflow (and, for the last two, axe-core clean); the requester sees no other agency's
figures; the charts are drawn, styled by the served stylesheet."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.checks import axe_violations, describe, overflow
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

MANAGER = "manager@jof.example"
REQUESTER = "requester@undp.jof.example"
NOV = "start=2026-11-01&end=2026-11-30"


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(email)


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [1366, 390])
def test_manager_dashboard_fits_the_screen_and_shows_every_agency(live_server, page, month, width):
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, MANAGER)
    page.goto(f"{live_server}/monitoring/?{NOV}")
    expect(page.locator("[data-chart=volumes] svg")).to_be_visible()
    agencies = page.locator("[data-table=agencies] tbody")
    expect(agencies).to_contain_text("UNFPA")
    expect(agencies).to_contain_text("UNDP")
    # The served stylesheet styles the chart (pygal's rules, scoped to .pygal-chart).
    fill = page.evaluate("getComputedStyle(document.querySelector('[data-chart=volumes] svg .background')).fill")
    assert fill in ("rgb(255, 255, 255)", "#ffffff", "white"), fill
    assert _overflow(page) <= 0, f"horizontal overflow at {width}px"


@pytest.mark.parametrize("width", [1366, 390])
def test_requester_dashboard_fits_and_shows_no_other_agency(live_server, page, month, width):
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, REQUESTER)
    page.goto(f"{live_server}/monitoring/?{NOV}")
    expect(page.locator("[data-chart=times] svg")).to_be_visible()
    body = page.locator("main, body").first.inner_text()
    for other in ("UNFPA", "UNOPS", "UNESCO", "UNWOMEN", "UNEP", "UNAIDS", month["unfpa"]):
        assert other not in body, other
    assert "UNDP" in body
    assert _overflow(page) <= 0, f"horizontal overflow at {width}px"


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("email", ["rc@jof.example", "hr@jof.example"])
def test_resident_coordinator_and_hr_officer_dashboards_fit_and_pass_axe(live_server, page, month, width, email):
    """The Resident Coordinator reads every agency, as the board's chair; the HR officer
    the facility's figures: both pages fit the screen and axe-core finds nothing serious."""
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, email)
    page.goto(f"{live_server}/monitoring/?{NOV}")
    expect(page.locator("[data-chart=volumes] svg")).to_be_visible()
    expect(page.locator("[data-table=agencies] tbody")).to_contain_text("UNDP")
    assert overflow(page) is None, f"{email} at {width}px: {overflow(page)}"
    problems = axe_violations(page, Axe())
    assert not problems, [describe(v) for v in problems]
