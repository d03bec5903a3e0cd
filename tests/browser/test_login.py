"""Log in and out through a real Chromium against the live server (DESIGN §9, §10).

Selectors stay on the login form (``#email``, ``#password``, its submit button), the
``current-user`` marker of the navigation bar and the "Log out" button, so the rest
of the UI can change without breaking these tests.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

MANAGER = "manager@jof.example"


def _log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form:has(#password) button[type=submit]")


def test_manager_logs_in_sees_dashboard_and_logs_out(live_server, page, demo):
    _log_in(page, live_server, MANAGER, TEST_PASSWORD)

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_test_id("current-user")).to_have_text(MANAGER)

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/login"))
    expect(page.locator("#password")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    # The session really ended: the dashboard sends us back to the login page.
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/login"))


def test_wrong_password_shows_error_and_keeps_email(live_server, page, demo):
    _log_in(page, live_server, MANAGER, "not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    expect(page.locator("#email")).to_have_value(MANAGER)
    expect(page.locator("#password")).to_have_value("")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
