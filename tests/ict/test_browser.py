"""Through Chromium: a requester opens a ticket, the ICT officer takes and resolves it,
and the requester sees it resolved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

REQUESTER = "requester@undp.jof.example"
ICT = "ict@jof.example"


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(email)


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#password")).to_be_visible()


def test_requester_opens_ticket_officer_takes_and_resolves_requester_sees_it_resolved(live_server, page, demo):
    _log_in(page, live_server, REQUESTER)
    page.get_by_role("link", name="ICT", exact=True).click()
    page.get_by_test_id("new-ticket").click()
    page.fill("#title", "Laptop does not connect to the office Wi-Fi")
    page.fill("#description", "Since this morning, other laptops work.")
    page.select_option("#category", "network")
    page.select_option("#urgency", "high")
    page.select_option("#impact", "low")
    page.get_by_role("button", name="Open ticket").click()

    expect(page.get_by_test_id("status")).to_have_text("New")
    expect(page.get_by_test_id("priority")).to_have_text("P3")
    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"ICT-\d{4}-\d{5}", reference)
    _log_out(page)

    _log_in(page, live_server, ICT)
    page.get_by_role("link", name="ICT", exact=True).click()
    expect(page).to_have_url(re.compile(r"/ict/queue$"))
    row = page.locator(f"tr[data-reference='{reference}']")
    expect(row.get_by_test_id("time-left")).to_contain_text("h")
    row.get_by_role("link", name=reference).click()
    page.get_by_test_id("action-take").get_by_role("button").click()
    expect(page.get_by_test_id("status")).to_have_text("Assigned")
    expect(page.get_by_test_id("assignee")).to_have_text("ICT Officer")
    resolve = page.get_by_test_id("action-resolve")
    resolve.locator("textarea").fill("Renewed the Wi-Fi certificate on the laptop.")
    resolve.get_by_role("button").click()
    expect(page.get_by_test_id("status")).to_have_text("Resolved")
    _log_out(page)

    _log_in(page, live_server, REQUESTER)
    page.goto(f"{live_server}/ict/tickets")
    page.locator(f"tr[data-reference='{reference}']").get_by_role("link", name=reference).click()
    expect(page.get_by_test_id("status")).to_have_text("Resolved")
    expect(page.get_by_test_id("timeline")).to_contain_text("Renewed the Wi-Fi certificate")
    expect(page.get_by_test_id("action-reopen")).to_be_visible()
    expect(page.get_by_test_id("action-close")).to_be_visible()
