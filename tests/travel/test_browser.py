"""In Chromium: a requester files a two-leg trip and sees its DSA estimate before
submitting; the manager approves; the travel officer tickets it from the queue; the
requester sees the ticket on the request page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD
from tests.travel.conftest import MANAGER, REQUESTER, TRAVEL, at, day

pytestmark = pytest.mark.browser


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(email)


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#password")).to_be_visible()


def fill_leg(page, i: int, origin: tuple[str, str], destination: tuple[str, str], depart: str, arrive: str) -> None:
    page.fill(f'[name="legs.{i}.origin_city"]', origin[0])
    page.fill(f'[name="legs.{i}.origin_country"]', origin[1])
    page.fill(f'[name="legs.{i}.destination_city"]', destination[0])
    page.fill(f'[name="legs.{i}.destination_country"]', destination[1])
    page.fill(f'[name="legs.{i}.depart_at"]', depart[:16])
    page.fill(f'[name="legs.{i}.arrive_at"]', arrive[:16])


def test_file_approve_ticket_and_see_the_ticket(live_server, page, demo):
    d0, d1 = day(30), day(33)
    log_in(page, live_server, REQUESTER)
    page.goto(f"{live_server}/travel/")
    page.get_by_test_id("new-travel").click()
    page.wait_for_load_state()  # the estimate's script listens from "load" on: typing before it is lost
    page.fill("#title", "Workshop in São Paulo")
    estimate = page.get_by_test_id("dsa-estimate")
    expect(estimate).to_be_hidden()
    page.fill('[name="legs.0.origin_city"]', "Brasília")
    # a leg begun: the estimate waits for complete legs
    expect(estimate.get_by_test_id("estimate-status")).to_contain_text("Complete each leg")
    fill_leg(page, 0, ("Brasília", "BR"), ("São Paulo", "BR"), at(d0, "08:00"), at(d0, "09:40"))
    fill_leg(page, 1, ("São Paulo", "BR"), ("Brasília", "BR"), at(d1, "18:00"), at(d1, "19:40"))

    # the estimate appears as the legs are typed, without the "Calculate" button
    expect(estimate.get_by_test_id("estimate-total")).to_have_text("USD 1,001.00")  # 3 × 271.00 + 4 × 47.00
    expect(estimate).to_be_visible()
    expect(estimate).to_contain_text("São Paulo, BR")
    expect(estimate.get_by_test_id("estimate-advance")).to_contain_text("USD 800.80")
    # and follows a change of a leg: home a day later, 4 × 271.00 + 188.00
    d2 = day(34)
    page.fill('[name="legs.1.depart_at"]', at(d2, "18:00")[:16])
    page.fill('[name="legs.1.arrive_at"]', at(d2, "19:40")[:16])
    expect(estimate.get_by_test_id("estimate-total")).to_have_text("USD 1,272.00")
    expect(estimate.locator("tbody tr[data-kind=dsa] td").nth(1)).to_have_text("4")
    # a broken leg shows the server's message instead of a stale total
    page.fill('[name="legs.1.origin_city"]', "Rio de Janeiro")
    expect(estimate.get_by_test_id("estimate-status")).to_contain_text("Leg 2 must start where leg 1 ends")
    expect(estimate.get_by_test_id("estimate-total")).to_be_hidden()
    page.fill('[name="legs.1.origin_city"]', "São Paulo")
    expect(estimate.get_by_test_id("estimate-total")).to_have_text("USD 1,272.00")
    page.get_by_test_id("submit").click()

    expect(page).to_have_url(re.compile(r"/travel/requests/TRV-\d{4}-\d{5}$"))
    reference = page.get_by_test_id("reference").inner_text()
    expect(page.get_by_test_id("status")).to_contain_text("Submitted")
    log_out(page)

    log_in(page, live_server, MANAGER)
    page.goto(f"{live_server}/travel/requests/{reference}")
    page.get_by_test_id("action-approve").get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("status")).to_contain_text("Approved")
    log_out(page)

    log_in(page, live_server, TRAVEL)
    page.goto(f"{live_server}/travel/queue")
    page.get_by_role("link", name=reference).click()
    ticket = page.get_by_test_id("action-ticket")
    ticket.locator("#ticket-carrier").fill("LATAM")
    ticket.locator("#ticket-fare").fill("2700.00")
    ticket.locator("#ticket-currency").fill("BRL")
    ticket.locator("#ticket-booking_reference").fill("XK7P2Q")
    ticket.get_by_role("button", name="Issue ticket").click()
    expect(page.get_by_test_id("stage")).to_have_text("ticketed")
    log_out(page)

    log_in(page, live_server, REQUESTER)
    page.goto(f"{live_server}/travel/requests/{reference}")
    expect(page.get_by_test_id("ticket-carrier")).to_have_text("LATAM")
    expect(page.get_by_test_id("ticket-booking")).to_have_text("XK7P2Q")
    expect(page.get_by_test_id("ticket-fare")).to_contain_text("BRL 2,700.00")
