"""Every role's journey through the pages, in Chromium, on a laptop and on a phone (issue
13, Acceptance: "Browser tests (Chromium) for each journey … at 1366 and 390 px, with no
horizontal overflow and an axe-core check on every page with zero serious/critical
violations").

Each journey is what a person does: clicking links and buttons, filling forms, confirming.
What other roles did before (a requisition waiting, a month of charges, an open decision)
is set up through the API and the services. After every page load a :class:`Visit` checks
the page (tests/browser/checks.py): it fits the viewport's width, logs no script error,
and axe-core finds no serious or critical violation. axe-core, the slow part, runs once
per role, route and width; the overflow check runs on every load, and a journey fails if
a page was loaded and not checked.

Like the crawl, the journeys run in the SQLite pass only: they measure templates and CSS.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pypdf import PdfReader
from werkzeug.exceptions import HTTPException

from jof.core.db import db
from jof.governance import decisions
from tests.browser import seed
from tests.browser.checks import axe_violations, describe, only_in_the_sqlite_pass, overflow
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, only_in_the_sqlite_pass]

VIEWPORTS = {"laptop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
REQUESTER = "requester@undp.jof.example"
HEAD = "head@undp.jof.example"
PARTNER_HEAD = "head@unaids.jof.example"
MANAGER = "manager@jof.example"
AUDITOR = "auditor@jof.example"
ADMIN = "admin@jof.example"

#: (role, route, width) already analysed by axe-core, over all the journeys of the run.
_AXED: set[tuple[str, str, int]] = set()


class Visit:
    """One person's visit at one viewport size; every page load is checked."""

    def __init__(self, page, base: str, app, axe: Axe, role: str):
        self.page, self.base, self.axe, self.role = page, base, axe, role
        self.adapter = app.url_map.bind("localhost")
        self.width = page.viewport_size["width"]
        self.loads: list[str] = []
        self.checked: set[str] = set()
        self.problems: list[str] = []
        self.console: list[str] = []
        page.on("framenavigated", lambda frame: self.loads.append(frame.url)
                if frame == page.main_frame and frame.url.startswith(base) else None)
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.console.append(str(exc)))

    def _route(self, path: str) -> str:
        try:
            rule, _args = self.adapter.match(path, method="GET", return_rule=True)
        except HTTPException:
            return path
        return rule.rule

    def check(self) -> None:
        """The page now shown fits the width, logs no error and passes axe-core."""
        page = self.page
        page.wait_for_load_state()
        url = page.url
        path = urlsplit(url).path
        label = f"{self.role} {path} @{self.width}"
        wide = overflow(page)
        if wide:
            self.problems.append(f"{label}: {wide}")
        key = (self.role, self._route(path), self.width)
        if key not in _AXED:
            _AXED.add(key)
            self.problems.extend(f"{label}: {describe(v)}" for v in axe_violations(page, self.axe))
        self.problems.extend(f"{label}: console error {m[:200]}" for m in self.console)
        self.console.clear()
        self.checked.add(url)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.check()

    def follow(self, locator) -> None:
        """Click what leads to another page (a link, a form's button) and check that page."""
        with self.page.expect_navigation():
            locator.click()
        self.check()

    def nav(self, name: str) -> None:
        """A link of the top navigation, behind its toggler on a phone."""
        toggler = self.page.locator(".navbar-toggler")
        menu = self.page.locator("#jof-nav")
        if toggler.is_visible() and not menu.is_visible():
            toggler.click()
            expect(menu).to_have_class(re.compile(r"\bshow\b"))  # opened, not still sliding
        self.follow(menu.get_by_role("link", name=name, exact=True))

    def home(self) -> None:
        self.follow(self.page.get_by_role("link", name="JOF", exact=True))

    def log_in(self, email: str) -> None:
        self.go("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", TEST_PASSWORD)
        self.follow(self.page.locator("form:has(#password) button[type=submit]"))
        expect(self.page.get_by_test_id("current-user")).to_have_text(email)

    def pdf(self, link) -> PdfReader:
        """The document behind a link, fetched with this visit's session: a PDF."""
        response = self.page.request.get(link.evaluate("a => a.href"))
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF-")
        return PdfReader(io.BytesIO(response.body()))

    def done(self) -> None:
        unchecked = [u for u in self.loads if u not in self.checked]
        assert not unchecked, f"pages loaded but not checked: {unchecked}"
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def visit(request, app, demo, live_server, _browser, axe):
    """``visit(role)``: a fresh browser at the parametrized viewport size."""
    contexts = []

    def start(role: str) -> Visit:
        context = _browser.new_context(locale="en-US", viewport=VIEWPORTS[request.param])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return Visit(page, live_server, app, axe, role)

    yield start
    for context in contexts:
        context.close()


def _pdf_text(reader: PdfReader) -> str:
    return "\n".join(p.extract_text() for p in reader.pages)


def test_requester_files_each_kind_of_request_and_follows_one(visit):
    """Procurement, travel, an ICT ticket and subscription, and a recruitment: each from
    "New request" on the home page."""
    v = visit("requester")
    page = v.page
    v.log_in(REQUESTER)
    new = page.get_by_test_id("new-request")

    v.follow(new.get_by_role("link", name="Procurement requisition"))
    page.fill("#title", "Laptops for the programme team")
    page.fill("#justification", "Replacement of end-of-life laptops.")
    page.fill("#needed_by", seed.future(60, "00:00")[:10])
    page.fill("#budget_code", "BRA-OPS-01")
    page.fill("#lines-0-description", "Laptop 14in, 16 GB RAM")
    page.fill("#lines-0-unspsc", "43211503")
    page.fill("#lines-0-quantity", "4")
    page.fill("#lines-0-unit", "each")
    page.fill("#lines-0-unit_price", "1250.00")
    expect(page.get_by_test_id("live-total")).to_contain_text("5,000.00")
    v.follow(page.get_by_role("button", name="Submit for approval"))
    expect(page.get_by_test_id("status")).to_have_text("Submitted")
    requisition = page.get_by_test_id("reference").inner_text()

    v.home()
    v.follow(new.get_by_role("link", name="Travel request"))
    page.fill("#title", "Workshop in São Paulo")
    legs = [(("Brasília", "BR"), ("São Paulo", "BR"), seed.future(30, "08:00"), seed.future(30, "09:40")),
            (("São Paulo", "BR"), ("Brasília", "BR"), seed.future(33, "18:00"), seed.future(33, "19:40"))]
    for i, (origin, destination, depart, arrive) in enumerate(legs):
        page.fill(f'[name="legs.{i}.origin_city"]', origin[0])
        page.fill(f'[name="legs.{i}.origin_country"]', origin[1])
        page.fill(f'[name="legs.{i}.destination_city"]', destination[0])
        page.fill(f'[name="legs.{i}.destination_country"]', destination[1])
        page.fill(f'[name="legs.{i}.depart_at"]', depart[:16])
        page.fill(f'[name="legs.{i}.arrive_at"]', arrive[:16])
    expect(page.get_by_test_id("estimate-total")).to_contain_text("USD")
    v.follow(page.get_by_test_id("submit"))
    expect(page).to_have_url(re.compile(r"/travel/requests/TRV-\d{4}-\d{5}$"))
    expect(page.get_by_test_id("status")).to_contain_text("Submitted")
    trip = page.get_by_test_id("reference").inner_text()

    v.home()
    v.follow(new.get_by_role("link", name="ICT ticket"))
    page.fill("#title", "Cannot send e-mail")
    page.fill("#description", "The outbox is stuck since 9:00.")
    page.select_option("#category", "email")
    page.select_option("#urgency", "high")
    page.select_option("#impact", "high")
    v.follow(page.get_by_role("button", name="Open ticket"))
    expect(page.get_by_test_id("status")).to_have_text("New")
    assert re.fullmatch(r"ICT-\d{4}-\d{5}", page.get_by_test_id("reference").inner_text())

    v.home()
    v.follow(new.get_by_role("link", name="ICT subscription"))
    page.select_option("#service", "email_account")
    page.fill("#seats", "5")
    page.fill("#starts_on", seed.future(7, "00:00")[:10])
    v.follow(page.get_by_role("button", name="Submit order"))
    expect(page.get_by_test_id("status")).to_contain_text("Submitted")
    assert re.fullmatch(r"ICS-\d{4}-\d{5}", page.get_by_test_id("reference").inner_text())

    v.home()
    v.follow(new.get_by_role("link", name="Recruitment"))
    page.fill("#post_title", "Finance Associate")
    page.fill("#job_family", "Finance")
    page.select_option("#level", "G-6")
    page.select_option("#contract_type", "fixed_term")
    page.fill("#duty_station", "Brasília")
    page.fill("#closing_date", seed.future(30, "00:00")[:10])
    page.fill("#estimated_cost_usd", "9000.00")
    page.select_option("#min_education", "bachelor")
    page.fill("#min_years_experience", "5")
    page.fill("#required_languages", "Portuguese, English")
    v.follow(page.get_by_role("button", name="File the request"))
    expect(page).to_have_url(re.compile(r"/hr/recruitments/[A-Z]+-\d{4}-\d{5}$"))
    expect(page.get_by_test_id("status")).to_contain_text("Draft")
    expect(page.get_by_test_id("reference")).to_have_text(re.compile(r"^[A-Z]+-\d{4}-\d{5}$"))

    # Follows the requisition from the home page: its timeline shows the submission.
    v.home()
    v.follow(page.get_by_role("link", name=requisition, exact=True))
    expect(page.get_by_test_id("status")).to_contain_text("Submitted")
    expect(page.get_by_test_id("timeline").locator("li[data-action=submit]")).to_have_count(1)
    # And withdraws the trip, through the confirmation that names the consequence.
    v.home()
    v.follow(page.get_by_role("link", name=trip, exact=True))
    v.follow(page.get_by_test_id("action-cancel").get_by_role("button"))
    expect(page.get_by_test_id("consequence")).to_contain_text("cannot be undone")
    page.fill("#comment", "The workshop moved online.")
    v.follow(page.get_by_test_id("confirm"))
    expect(page.get_by_test_id("status")).to_contain_text("Cancelled")
    v.done()


def test_manager_approves_from_home_closes_the_month_issues_invoices_and_downloads_a_pdf(visit, app, api, monkeypatch):
    requester = api(REQUESTER)
    r = requester.post("/api/v1/procurement/requisitions", json={
        "title": "Office chairs", "justification": "Ergonomic chairs for the new office.",
        "needed_by": f"{seed.YEAR + 1}-06-30", "budget_code": "BRA-OPS-01",
        "lines": [{"description": "Office chair", "unspsc": "56101504", "quantity": "10",
                   "unit": "each", "unit_price": "180.00", "currency": "USD"}]})
    assert r.status_code == 201, r.get_json()
    waiting = r.get_json()["reference"]
    seed.transition(requester, waiting, "submit")
    seed.month_of_charges(app)

    v = visit("manager")
    page = v.page
    v.log_in(MANAGER)
    v.follow(page.get_by_test_id("panel-waiting").get_by_role("link", name=waiting))
    v.follow(page.get_by_test_id("action-approve").get_by_role("button"))
    expect(page.get_by_test_id("status")).to_contain_text("Approved")

    # The close runs as a job whose page polls its progress until it ends.
    monkeypatch.setitem(app.config, "JOF_JOBS_IN_BACKGROUND", True)
    v.nav("Invoices")
    v.follow(page.get_by_role("link", name="Period close"))
    period = f"{seed.LAST_MONTH:%Y-%m}"
    expect(page.locator("#period")).to_have_value(period)
    v.follow(page.get_by_test_id("close-period"))
    expect(page.get_by_test_id("consequence")).to_contain_text("This cannot be undone")
    v.follow(page.get_by_test_id("confirm"))
    expect(page).to_have_url(re.compile(r"/billing/jobs/\d+$"))
    v.check()  # the job page as it polls
    expect(page).to_have_title(re.compile(r"^Job #\d+ · JOF$"))
    expect(page.locator("#job-poll")).to_have_count(0, timeout=30000)  # reloaded once the job ended
    v.check()
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "done")

    v.follow(page.get_by_role("link", name="Back to the period"))
    v.follow(page.get_by_test_id("issue-drafts"))
    consequence = page.get_by_test_id("consequence")
    expect(consequence).to_contain_text(re.compile(r"Issue \d+ invoice\(s\), numbers JOF-\d{4}-\d{5}…JOF-\d{4}-\d{5}"))
    v.follow(page.get_by_test_id("confirm"))
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).filter(
        has_text="invoice(s) issued")).to_be_visible()

    v.follow(page.locator("a", has_text=re.compile(r"^UNDP JOF-\d{4}-\d{5}$")))
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", "issued")
    number = page.locator("h1").inner_text()
    text = _pdf_text(v.pdf(page.get_by_role("link", name="PDF", exact=True)))
    assert re.search(r"JOF-\d{4}-\d{5}", number)
    assert re.search(r"JOF-\d{4}-\d{5}", number).group(0) in text
    assert "12,880.37" in text
    v.done()


def test_agency_head_votes_and_after_closing_reads_the_resolution(visit, app):
    decision_id, closes_at = seed.open_decision(app, "Open the facility on Saturdays")
    v = visit("agency head")
    page = v.page
    v.log_in(HEAD)
    v.follow(page.get_by_test_id("panel").get_by_role("link", name="Open the facility on Saturdays"))
    expect(page.get_by_test_id("my-vote")).to_have_text("not cast yet")
    page.check("#choice-yes")
    v.follow(page.get_by_role("button", name="Cast vote"))
    expect(page.get_by_test_id("my-vote")).to_have_text("Yes")  # the label, not the code

    with app.app_context():  # the closing time passes
        number = decisions.close(decision_id, None, now=closes_at + timedelta(seconds=1)).resolution_number
        db.session.commit()
        db.session.remove()

    v.nav("Board")
    v.follow(page.get_by_role("link", name="Resolutions register"))
    row = page.get_by_test_id("resolutions").locator("tr", has_text=number)
    expect(row).to_contain_text("UNDP: Yes")
    v.follow(row.get_by_role("link", name=number))
    expect(page.get_by_test_id("resolution-number")).to_have_text(number)
    expect(page.get_by_test_id("tally")).to_be_visible()
    assert number in _pdf_text(v.pdf(page.get_by_role("link", name="Resolution (PDF)")))
    v.done()


def test_partner_head_reads_the_partner_note_and_is_offered_no_vote(visit, app):
    seed.open_decision(app, "Open the facility on Saturdays")
    v = visit("partner head")
    page = v.page
    v.log_in(PARTNER_HEAD)
    expect(page.get_by_test_id("partner-note")).to_contain_text("partners do not vote")
    v.nav("Board")
    v.follow(page.get_by_role("link", name="Open the facility on Saturdays"))
    expect(page.get_by_test_id("decision-status")).to_be_visible()
    expect(page.get_by_role("button", name="Cast vote")).to_have_count(0)
    expect(page.locator("input[name=choice]")).to_have_count(0)
    v.done()


def test_auditor_reads_the_audit_trail_and_an_invoice(visit, app):
    seed.month_of_charges(app, issue=True)
    v = visit("auditor")
    page = v.page
    v.log_in(AUDITOR)
    v.nav("Audit trail")
    expect(page.get_by_test_id("audit-events").locator("tbody tr").first).to_be_visible()
    v.nav("Invoices")
    v.follow(page.get_by_role("link", name=re.compile(r"^JOF-\d{4}-\d{5}$")).first)
    expect(page.get_by_test_id("status")).to_have_attribute("data-status", "issued")
    # Reading only: the auditor is offered no payment or credit note.
    expect(page.locator("form[action*='/billing/invoices/']")).to_have_count(0)
    v.done()


def test_admin_opens_users_and_agencies(visit):
    v = visit("admin")
    page = v.page
    v.log_in(ADMIN)
    v.nav("Users")
    expect(page.get_by_test_id("users")).to_contain_text(MANAGER)
    v.nav("Agencies")
    agencies = page.get_by_test_id("agencies")
    expect(agencies).to_contain_text("UNAIDS")
    v.follow(agencies.get_by_role("link", name=re.compile("UNAIDS")).first)
    expect(page).to_have_url(re.compile(r"/admin/agencies/UNAIDS$"))
    v.done()
