"""Through Chromium: a double click on the submit button of a slow form files one ticket,
with JavaScript (the button disables itself) and without it (the one-time token)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from jof.core.db import db
from jof.core.workflow import ServiceRequest
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

REQUESTER = "requester@undp.jof.example"
SLOW_SECONDS = 1.5


class SlowPosts:
    """Answers every POST of the ticket form 1.5 s late, like the slow server of the report."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.posts = 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/ict/tickets/new":
            self.posts += 1
            time.sleep(SLOW_SECONDS)
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def slow_app(app):
    original = app.wsgi_app
    app.wsgi_app = SlowPosts(original)
    yield app
    app.wsgi_app = original


def _tickets(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(ServiceRequest.id)).where(ServiceRequest.reference.like("ICT-%")))
        db.session.remove()
        return n


def _double_click_the_ticket_form(page, base: str, pause: float = 0.0) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", REQUESTER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(REQUESTER)
    page.goto(f"{base}/ict/tickets/new")
    page.fill("#title", "Double-clicked projector ticket")
    page.select_option("#category", "hardware")
    button = page.get_by_role("button", name="Open ticket")
    if pause:  # two separate clicks, the second while the first post is still pending
        box = button.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        time.sleep(pause)
        page.mouse.click(x, y)
    else:
        button.dblclick()
    expect(page.get_by_test_id("reference")).to_be_visible(timeout=20000)


def test_double_click_on_a_slow_form_sends_it_once_and_files_one_ticket(slow_app, demo, live_server, page):
    before = _tickets(slow_app)
    _double_click_the_ticket_form(page, live_server)
    time.sleep(SLOW_SECONDS + 0.5)  # a second post, if any, has been answered by now
    assert slow_app.wsgi_app.posts == 1  # the second click was dropped in the browser
    assert _tickets(slow_app) == before + 1


def test_the_button_is_disabled_while_the_form_is_sent(slow_app, demo, live_server, page):
    page.goto(f"{live_server}/login")
    page.fill("#email", REQUESTER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.goto(f"{live_server}/ict/tickets/new")
    page.fill("#title", "Watched projector ticket")
    # The page cannot be inspected while its POST is pending, so the page itself notes
    # the button's state 0.3 s after the submit, for the next page to read.
    page.evaluate("""document.addEventListener("submit", (e) => setTimeout(() => {
        const b = e.target.querySelector("button[type=submit]");
        sessionStorage.setItem("seen", JSON.stringify([b.disabled, e.target.getAttribute("aria-busy")]));
    }, 300))""")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_test_id("reference")).to_be_visible(timeout=20000)
    assert page.evaluate("JSON.parse(sessionStorage.getItem('seen'))") == [True, "true"]


def test_double_click_without_javascript_still_files_one_ticket(slow_app, demo, live_server, _browser):
    context = _browser.new_context(locale="en-US", java_script_enabled=False)
    try:
        page = context.new_page()
        before = _tickets(slow_app)
        _double_click_the_ticket_form(page, live_server, pause=0.5)
        time.sleep(SLOW_SECONDS + 0.5)
        assert slow_app.wsgi_app.posts == 2  # both clicks reached the server...
        assert _tickets(slow_app) == before + 1  # ...and the token made the second a replay
    finally:
        context.close()
