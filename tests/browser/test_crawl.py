"""Every page a demo role can reach fits a phone and passes axe-core (issue 13, "Phones and
screen readers"; the layout rules are in docs/ui.md).

For each demo role the crawl logs in through the form, then follows the same-origin links of
the home page and of every page it reaches (GET only; no downloads, no logout), keeping at
most :data:`PER_ROUTE` URL per route (``/travel/requests/TRV-…`` counts once whatever the
reference) and :data:`MAX_PAGES` pages per role. Each page is measured at 1366 and 390 px:

* no horizontal scrolling: ``document.documentElement.scrollWidth <= innerWidth``;
* axe-core (shipped by ``axe-playwright-python``) reports no serious or critical violation,
  on every (route, width) as each role sees it: see :func:`_layout_key` for when a role's
  page counts as one axe-core has already analysed;
* the page answers 200 and logs no script error or Content-Security-Policy refusal.

A small month of activity is filed first, through the API and the services, so that detail
pages (requests of every line, a decision, invoices) exist to be reached.

The pages depend on templates and CSS, not on the database; the PostgreSQL pass skips the
whole crawl (it costs minutes of browser time and would measure the same HTML twice).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.exceptions import HTTPException

from tests.browser import seed
from tests.browser.checks import axe_violations, describe, log_in, only_in_the_sqlite_pass, overflow
from tests.hr.conftest import HR, Recruitments, candidate

pytestmark = pytest.mark.browser

#: One login per demo role (jof/demo.py).
ROLES = {
    "agency head": "head@undp.jof.example",
    "manager": "manager@jof.example",
    "requester": "requester@undp.jof.example",
    "partner head": "head@unaids.jof.example",
    "procurement officer": "procurement@jof.example",
    "travel officer": "travel@jof.example",
    "ict officer": "ict@jof.example",
    "auditor": "auditor@jof.example",
    "admin": "admin@jof.example",
}
WIDTHS = (1366, 390)
PER_ROUTE = 1
#: A safety net: no role reaches this many routes today (the report prints how many it did).
MAX_PAGES = 80
#: The markup axe-core judges, without what changes at every load and does not change the
#: page's structure: the values of hidden inputs (CSRF and once-only tokens).
LAYOUT_JS = """() => {
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('input[type=hidden]').forEach(e => e.removeAttribute('value'));
  return main.outerHTML;
}"""
#: Not opened: downloads (by their suffix), attachments, the POST-only logout and language
#: switch, and the load balancer's health check, which is no page.
SKIPPED_SUFFIXES = (".pdf", ".csv", ".xlsx", ".zip")
SKIPPED_ENDPOINTS = {"core.logout", "core.language", "governance.attachment", "core.health"}

def _seed(app, api) -> None:
    """A request of each line, a supplier, an open decision, a closed month's invoices and
    a monthly report prepared as a job (its page is reached from the monitoring page)."""
    requester = api(ROLES["requester"])
    trip = requester.post("/api/v1/travel/requests", json={
        "title": "Mission to the country office", "purpose": "Programme review", "legs": [
            {"origin_city": "Brasília", "origin_country": "BR", "destination_city": "São Paulo",
             "destination_country": "BR", "depart_at": seed.future(30, "08:00"), "arrive_at": seed.future(30, "09:40")},
            {"origin_city": "São Paulo", "origin_country": "BR", "destination_city": "Brasília",
             "destination_country": "BR", "depart_at": seed.future(33, "18:00"), "arrive_at": seed.future(33, "19:40")}]})
    assert trip.status_code == 201, trip.get_json()
    seed.transition(requester, trip.get_json()["reference"], "submit")
    ticket = requester.post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck since 9:00.", "kind": "incident",
        "category": "email", "service": "email_account", "urgency": "high", "impact": "high"})
    assert ticket.status_code == 201, ticket.get_json()
    requisition = requester.post("/api/v1/procurement/requisitions", json={
        "title": "Laptops", "justification": "Replacement of end-of-life laptops.",
        "needed_by": f"{seed.YEAR + 2}-01-31", "budget_code": "BRA-OPS-01",
        "lines": [{"description": "Laptop 14in, 16 GB RAM", "unspsc": "43211503", "quantity": "4",
                   "unit": "each", "unit_price": "1250.00", "currency": "USD"}]})
    assert requisition.status_code == 201, requisition.get_json()
    seed.transition(requester, requisition.get_json()["reference"], "submit")
    supplier = api(ROLES["procurement officer"]).post("/api/v1/procurement/suppliers", json={
        "name": "Papelaria Central Ltda", "tax_id": "12.345.678/0001-90", "country": "BR"})
    assert supplier.status_code in (200, 201), supplier.get_json()

    seed.open_decision(app)
    seed.month_of_charges(app, close=True)
    seed.report_job(app)
    # An advertised recruitment with an application and a panel member: its page, its
    # panel, its import page (and the public vacancy, crawled as nobody in test_public_hr).
    hr = Recruitments(api)
    ref = hr.advertised()
    hr.apply(ref, candidate("Ana Souza"))
    assert hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/panel", json={"email": ROLES["requester"]}).status_code == 201


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        if not href.startswith(base + "/"):
            continue
        out.append(href.split("#", 1)[0])
    return out


def _endpoint(adapter, path: str) -> str | None:
    try:
        endpoint, _args = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _layout_key(page, endpoint: str, width: int) -> tuple[str, int, str]:
    """What axe-core's verdict on this page depends on: the route, the width, and the
    markup of the main landmark (hidden inputs' values left out). The navigation bar
    around it is one template whose links differ by role, not in kind; it is analysed
    with every page that is.

    axe-core analyses each (route, role, width) whose key it has not seen yet. Analysing
    every role's every page measured 646 runs and 361 s of axe-core on this machine's shared
    cores (2026-12), 318 s more than one role per route (112 runs, 43 s); this rule made
    294 runs, 162 s, so about two minutes more: two roles that see the same page (the
    same rows, the same buttons) are analysed once, and a role that sees other rows
    or other actions is analysed on its own page."""
    digest = hashlib.sha256(page.evaluate(LAYOUT_JS).encode()).hexdigest()
    return endpoint, width, digest


def _check(page, axe, label: str, problems: list[str], *, run_axe: bool) -> None:
    wide = overflow(page)
    if wide:
        problems.append(f"{label}: {wide}")
        print(problems[-1], flush=True)
    if not run_axe:
        return
    for v in axe_violations(page, axe):
        problems.append(f"{label}: {describe(v)}")
        print(problems[-1], flush=True)


def _crawl(page, axe, base: str, adapter, role: str, axed: set,
           start: str = "/") -> tuple[list[str], list[str]]:
    """(pages visited, problems found) for one role (logged in, or nobody from a public
    ``start`` page); ``axed`` holds the :func:`_layout_key` of every page axe-core
    analysed, over all roles."""
    seen_urls: set[str] = set()
    per_route: Counter = Counter()
    queue = deque([f"{base}{start}"])
    visited: list[str] = []
    problems: list[str] = []
    # A script error or a Content-Security-Policy refusal (an inline script or style) shows in
    # the console; the page it happens on is reported like any other problem.
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console.append(str(exc)))
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        path = parts.path
        key = path + ("?" + parts.query if parts.query else "")
        if key in seen_urls or path.endswith(SKIPPED_SUFFIXES) or path.startswith(("/api/", "/static/", "/bootstrap/")):
            continue
        endpoint = _endpoint(adapter, path)
        if endpoint is None or endpoint in SKIPPED_ENDPOINTS or per_route[endpoint] >= PER_ROUTE:
            continue
        seen_urls.add(key)
        per_route[endpoint] += 1
        response = page.goto(url)
        # Sent to the login page from anywhere else: a page this role should reach is walled.
        walled = page.url.startswith(f"{base}/login") and path != "/login"
        if response is None or response.status >= 400 or walled:
            problems.append(f"{role} {key}: answered {response.status if response else 'nothing'}")
            print(problems[-1], flush=True)
            continue
        visited.append(key)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            key_of_layout = _layout_key(page, endpoint, width)
            run_axe = key_of_layout not in axed
            axed.add(key_of_layout)
            _check(page, axe, f"{role} {key} @{width}", problems, run_axe=run_axe)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        for message in console:
            problems.append(f"{role} {key}: console error {message[:200]}")
            print(problems[-1], flush=True)
        console.clear()
        queue.extend(_links(page, base))
    return visited, problems


@only_in_the_sqlite_pass
def test_every_reachable_page_fits_a_phone_and_passes_axe_for_every_role(app, demo, api, live_server, _browser):
    _seed(app, api)
    adapter = app.url_map.bind("localhost")
    axe = Axe()
    axed: set = set()
    report: list[str] = []
    problems: list[str] = []
    for role, email in ROLES.items():
        context = _browser.new_context(locale="en-US", viewport={"width": WIDTHS[0], "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            started = time.monotonic()
            log_in(page, live_server, email)
            visited, found = _crawl(page, axe, live_server, adapter, role, axed)
        finally:
            context.close()
        report.append(f"{role}: {len(visited)} pages in {time.monotonic() - started:.0f} s")
        print(report[-1], flush=True)
        problems.extend(found)
        # A crawl that reached almost nothing would prove nothing; one cut short, too little.
        assert len(visited) >= 3, f"{role} reached only {visited}"
        assert len(visited) < MAX_PAGES, f"{role} reached {MAX_PAGES} pages: raise MAX_PAGES"
    print("\n".join(report))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_navigation_collapses_behind_a_toggler_on_a_phone(app, demo, live_server, page):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, ROLES["manager"])
    toggler = page.get_by_role("button", name=re.compile("navigation", re.I))
    menu = page.locator("#jof-nav")
    assert menu.is_hidden()
    header = page.locator("nav.navbar").bounding_box()
    assert header["height"] < 80, header
    toggler.click()
    menu.get_by_role("link", name="Notifications").wait_for(state="visible")
    assert toggler.get_attribute("aria-expanded") == "true"
    # Wide screens show the menu without the toggler.
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{live_server}/")
    assert page.locator("#jof-nav").is_visible()
    assert toggler.is_hidden()
