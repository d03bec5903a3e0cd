"""The pooling scenario in Chromium: a requester files, the officer tenders, evaluates, awards, receives."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.workflow import ServiceRequest
from tests.conftest import TEST_PASSWORD
from tests.procurement.conftest import LAPTOP, requisition_body

pytestmark = pytest.mark.browser


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text(email)


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#password")).to_be_visible()


def test_three_agencies_laptops_pooled_evaluated_awarded_and_received_in_the_browser(live_server, page, flow, app):
    base = live_server
    # UNDP's requester files and submits through the pages.
    _log_in(page, base, "requester@undp.jof.example")
    page.get_by_role("link", name="Procurement", exact=True).click()
    page.get_by_role("link", name="New requisition").click()
    page.fill("#title", "Laptops for the programme team")
    page.fill("#budget_code", "BRA-OPS-01")
    page.fill("#lines-0-description", "Laptop 14in, 16 GB RAM")
    page.fill("#lines-0-unspsc", LAPTOP)
    page.fill("#lines-0-quantity", "10")
    page.fill("#lines-0-unit", "each")
    page.fill("#lines-0-unit_price", "1250.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("estimate")).to_contain_text("USD 12,500.00")
    undp_ref = page.get_by_test_id("reference").inner_text()
    page.get_by_test_id("request-page").click()
    page.get_by_test_id("action-submit").get_by_role("button").click()
    page.goto(f"{base}/procurement/requisitions/{undp_ref}")
    expect(page.get_by_test_id("method")).to_have_text("RFQ")  # the method code shown as its label
    expect(page.get_by_test_id("method-rule")).to_contain_text("request for quotation")
    _log_out(page)

    # The head certifies (above the limit) and the manager approves; the others file through the API.
    flow.transition(flow.api("head@undp.jof.example"), undp_ref, "certify")
    flow.transition(flow.manager, undp_ref, "approve")
    unfpa_ref = flow.approved("unfpa", requisition_body("4", "1300.00"))
    unw_ref = flow.approved("unwomen", requisition_body("3", "6500.00", "BRL"))
    flow.supplier("Alfa Computadores", "10.000.000/0001-01")
    flow.supplier("Beta Sistemas", "20.000.000/0001-02")
    flow.supplier("Gama Eletrônicos", "30.000.000/0001-03", status="suspended")

    _log_in(page, base, "procurement@jof.example")
    page.goto(f"{base}/procurement/tenders/new")
    page.fill("#title", "Joint laptop tender")
    page.select_option("#evaluation_method", "cumulative")
    for ref in (undp_ref, unfpa_ref, unw_ref):
        page.check(f"#req-{ref}")
    page.get_by_role("button", name="Create tender").click()
    expect(page.get_by_test_id("lot-1")).to_be_visible()
    expect(page.get_by_test_id("lot-2")).to_have_count(0)
    tender_id = int(re.search(r"/tenders/(\d+)", page.url).group(1))
    page.fill("#closing_at", "2031-01-15T12:00")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("tender-status")).to_have_text("published")

    def bid(name, price, score):
        form = page.get_by_test_id("bid-form-1")
        form.locator("select[name=supplier_id]").select_option(label=name)
        form.locator("input[name=technical_score]").fill(score)
        for field in form.locator("input[name^=price-]").all():
            field.fill(price)
        form.get_by_role("button", name="Record bid").click()

    bid("Alfa Computadores", "1099.99", "72")
    expect(page.get_by_text("Bid recorded for lot 1.")).to_be_visible()
    bid("Beta Sistemas", "1180.3333", "95")
    expect(page.get_by_text("Bid recorded for lot 1.")).to_be_visible()
    bid("Gama Eletrônicos (Suspended)", "999.00", "90")
    expect(page.get_by_test_id("form-errors")).to_contain_text("Gama Eletrônicos is suspended")
    expect(page.get_by_text("2 bids received")).to_be_visible()

    flow.close(tender_id)  # the closing time passes
    page.goto(f"{base}/procurement/tenders/{tender_id}")
    expect(page.get_by_test_id("comparison-1")).to_contain_text("Beta Sistemas")
    winner = page.get_by_test_id("winner")
    expect(winner).to_contain_text("Beta Sistemas")
    expect(winner).to_contain_text("66.5000")  # technical points: 95/100 × 70
    expect(page.get_by_test_id("evaluation-1")).to_contain_text("80.4000")  # Alfa: 50.4 + 30
    page.fill("#justification-1", "Highest combined technical and financial score.")
    page.get_by_role("button", name="Award lot").click()
    orders = page.get_by_test_id("orders-1")
    expect(orders.locator("tbody tr")).to_have_count(3)
    expect(orders).to_contain_text("USD 11,803.33")
    expect(orders).to_contain_text("USD 4,721.33")
    expect(orders).to_contain_text("USD 3,541.00")
    expect(page.get_by_test_id("award-1")).to_contain_text("USD 20,065.66")
    expect(page.get_by_test_id("savings")).to_be_visible()

    numbers = [a.inner_text() for a in orders.locator("tbody a").all()]
    for number in numbers:
        page.goto(f"{base}/procurement/purchase-orders/{number}")
        page.select_option("#rating", "4")
        page.get_by_role("button", name="Record receipt").click()
        expect(page.get_by_test_id("po-status")).to_have_text("received")

    with app.app_context():
        statuses = db.session.scalars(select(ServiceRequest.status).where(
            ServiceRequest.reference.in_([undp_ref, unfpa_ref, unw_ref]))).all()
        assert statuses == ["completed"] * 3
        fees = db.session.scalars(select(ChargeableEvent).where(ChargeableEvent.kind == "fee")).all()
        assert sorted(e.agency.code for e in fees) == ["UNDP", "UNFPA", "UNWOMEN"]
        goods = db.session.scalars(select(ChargeableEvent.value_usd).where(ChargeableEvent.kind == "pass_through")).all()
        assert sum(goods) == Decimal("20065.66")
        db.session.remove()
