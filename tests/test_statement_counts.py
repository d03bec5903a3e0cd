"""Every collection costs the same number of SQL statements for 10 rows as for 100.

The endpoints are read from the URL map, so a new line's lists are measured as soon as
they are routed: every ``GET`` API route without URL arguments that answers a page
(``items``/``total``) or a whole list, and every HTML page without URL arguments (lists
behind a URL argument have tests of their own: tests/test_child_list_statements.py,
tests/hr/test_application_statements.py). The rows behind them are
made by :mod:`tests.bulk`, one seeder per kind of row; a list whose rows no seeder makes
must be named in :data:`tests.bulk.NOT_SEEDED` with the reason, and that list can only
shrink (a new list without rows fails :func:`test_every_list_is_measured_with_rows_of_its_own`).
"""

from __future__ import annotations

import pytest

from jof.core import paging
from jof.core.db import db
from tests import bulk
from tests.conftest import TEST_PASSWORD, empty_tables
from tests.querycount import statements

MANAGER = "manager@jof.example"
ADMIN = "admin@jof.example"
#: Lists for the administrator only; every other list is measured as the facility manager.
ADMIN_ONLY = ("/admin/",)

#: Pages without URL arguments that are forms or single documents, not lists.
NOT_LISTS = {
    "core.login", "core.password", "core.health", "core.admin_agency_new", "core.admin_user_new",
    "governance.new_decision", "ict.subscription_new", "ict.ticket_new", "procurement.lta_new",
    "procurement.requisition_new", "procurement.supplier_new", "procurement.tender_new",
    "travel.new_request", "core_api.Me", "api-docs.openapi_json",
    # a computed preview of one allocation (its size is the agency table, not a page)
    "governance_api.allocation_preview",
    # one month's PDF documents: they need the month asked for
    "monitoring.report_pdf", "monitoring.board_pack_pdf",
    # forms, a stylesheet and a person's own settings (one row per alert kind)
    "hr.recruitment_new", "monitoring.sla_new", "settings.invoicing", "monitoring.charts_css", "profile.profile",
    # a key's preview: one share per member agency (like the allocation preview above)
    "governance.key_preview",
    # the dashboard aggregates in SQL: tests/monitoring/test_dashboard.py counts its
    # statements at 10 and 1,000 requests
    "monitoring.dashboard_page",
}


#: Collections that need a query argument, with the one they are measured with (the month
#: the bulk seeders fill).
REQUIRED_QUERY = {
    "/api/v1/governance/allocations": lambda: f"period={bulk.this_month():%Y-%m}",
    "/api/v1/governance/cost-pools": lambda: f"period={bulk.this_month():%Y-%m}",
}


def _endpoints(app) -> tuple[list[str], list[str]]:
    api, html = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in NOT_LISTS:
            continue
        if rule.endpoint == "static" or rule.endpoint.startswith("api-docs"):
            continue
        path = rule.rule + (f"?{REQUIRED_QUERY[rule.rule]()}" if rule.rule in REQUIRED_QUERY else "")
        (api if rule.rule.startswith("/api/") else html).append(path)
    return sorted(api), sorted(html)


@pytest.fixture
def seeded(app, demo):
    bulk.seed(app, 120)
    return app


def _count(app, client, path: str) -> tuple[int, int, list[str]]:
    with statements(app) as counted:
        r = client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json() if path.startswith("/api/") else None
    size = (len(body["items"]) if isinstance(body, dict) and "items" in body
            else len(body) if isinstance(body, list) else len(r.get_data()))
    return counted.count, size, counted.statements


def _same_for_10_and_100(app, client, path: str, small_size, large_size) -> tuple[int, int, int, int, list]:
    small_path, large_path = small_size(path), large_size(path)
    small, ssize, _ = _count(app, client, small_path)
    large, lsize, texts = _count(app, client, large_path)
    return small, large, ssize, lsize, texts


def _api_paths(path):
    sep = "&" if "?" in path else "?"
    return (lambda p: f"{p}{sep}per_page=10"), (lambda p: f"{p}{sep}per_page=100")


def _repeated(texts: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for t in texts:
        seen[t] = seen.get(t, 0) + 1
    return [f"{n}× {t[:160]}" for t, n in seen.items() if n > 2]


def test_every_api_collection_costs_the_same_statements_for_10_and_100_rows(seeded, api):
    app = seeded
    manager = api(MANAGER)
    manager.get("/api/v1/me")
    paths, _ = _endpoints(app)
    failures, measured = [], []
    for path in paths:
        small_of, large_of = _api_paths(path)
        with statements(app):
            probe = manager.get(path)
        if probe.status_code != 200:
            failures.append(f"{path}: {probe.status_code} for the manager, so it was not measured")
            continue
        body = probe.get_json()
        if not (isinstance(body, dict) and "items" in body and "total" in body):
            continue  # not a page: a whole list is measured by the unpaged test below
        small, large, ssize, lsize, texts = _same_for_10_and_100(app, manager, path, small_of, large_of)
        measured.append((path, small, large, ssize, lsize))
        if path in bulk.NOT_SEEDED:
            continue
        if lsize <= ssize:
            failures.append(f"{path}: the seeded rows did not reach the page ({ssize} vs {lsize} items)")
        elif large != small:
            failures.append(f"{path}: {small} statements for {ssize} rows, {large} for {lsize}; "
                            f"repeated: {_repeated(texts)}")
    assert measured, "no API collection found in the URL map"
    assert not failures, "\n".join(failures)


def test_every_html_list_costs_the_same_statements_for_10_and_100_rows(seeded, web, monkeypatch):
    """Each page is asked for 10 and then 100 rows a page, whatever size its view chose
    (every HTML list pages through :func:`jof.core.paging.html_page`)."""
    app = seeded
    manager, admin = web(MANAGER), web(ADMIN)
    _, paths = _endpoints(app)
    size = {"rows": 10}
    original = paging.page_of
    monkeypatch.setattr(paging, "page_of", lambda stmt, page, per_page: original(stmt, page, size["rows"]))
    failures = []
    for path in paths:
        who = admin if path.startswith(ADMIN_ONLY) else manager
        if who.get(path).status_code in (301, 302, 303):
            continue  # a redirect to a list measured on its own
        size["rows"] = 10
        small, ssize, _ = _count(app, who, path)
        size["rows"] = 100
        large, lsize, texts = _count(app, who, path)
        if large != small:
            failures.append(f"{path}: {small} statements at 10 rows a page, {large} at 100; "
                            f"repeated: {_repeated(texts)}")
        elif lsize <= ssize and path not in bulk.NOT_SEEDED_PAGES and path not in bulk.UNPAGED_PAGES:
            failures.append(f"{path}: the seeded rows did not reach the page (same length at 10 and 100 rows)")
        elif lsize > ssize and path in bulk.NOT_SEEDED_PAGES | bulk.UNPAGED_PAGES:
            failures.append(f"{path} is paged and seeded now: remove it from tests.bulk.NOT_SEEDED_PAGES "
                            "or UNPAGED_PAGES")
    assert not failures, "\n".join(failures)


def _whole_lists(app, client) -> list[str]:
    """API collections without URL arguments that answer every row at once (a JSON list),
    and the documents named in :data:`tests.bulk.WHOLE_DOCUMENTS`."""
    paths, _ = _endpoints(app)
    return [p for p in paths if isinstance(client.get(p).get_json(), list) or p in bulk.WHOLE_DOCUMENTS]


def test_every_unpaged_list_costs_the_same_statements_seeded_with_10_and_100_rows(app, demo, web, api):
    """A list that shows every row on one page, and an API collection that answers every
    row at once, is measured with the tables seeded twice: with 10 rows of every kind,
    then emptied and seeded with 100."""
    measured: dict[str, list[tuple[int, int, list[str]]]] = {path: [] for path in bulk.UNPAGED_PAGES}
    for n in (10, 100):
        if n != 10:
            empty_tables(app)
            with app.app_context():
                demo.load(TEST_PASSWORD)
                db.session.commit()
                db.session.remove()
        bulk.seed(app, n)
        manager, client = web(MANAGER), api(MANAGER)
        for path in bulk.UNPAGED_PAGES:
            measured[path].append(_count(app, manager, path))
        for path in _whole_lists(app, client):
            measured.setdefault(path, []).append(_count(app, client, path))
    assert any(path.startswith("/api/") for path in measured), "no API collection answering a whole list found"
    failures = []
    for path, runs in measured.items():
        if len(runs) != 2:
            failures.append(f"{path}: answered a whole list with {'10' if len(runs) == 1 else '100'} rows only")
            continue
        (small, ssize, _), (large, lsize, texts) = runs
        if large != small:
            failures.append(f"{path}: {small} statements with 10 rows seeded, {large} with 100; "
                            f"repeated: {_repeated(texts)}")
        elif lsize <= ssize and path not in bulk.FIXED_LISTS:
            failures.append(f"{path}: the seeded rows did not reach the page (same length with 10 and 100 rows)")
        elif lsize > ssize and path in bulk.FIXED_LISTS:
            failures.append(f"{path} grows with the seeded rows now: remove it from tests.bulk.FIXED_LISTS")
    assert not failures, "\n".join(failures)


def test_every_list_is_measured_with_rows_of_its_own(seeded, api):
    """A collection the seeders do not fill would pass the comparison above trivially."""
    app = seeded
    manager = api(MANAGER)
    paths, _ = _endpoints(app)
    empty = []
    for path in paths:
        body = manager.get(path + ("&" if "?" in path else "?") + "per_page=100").get_json()
        if not (isinstance(body, dict) and "items" in body and "total" in body):
            continue
        if body["total"] <= 10 and path not in bulk.NOT_SEEDED:
            empty.append(f"{path}: {body['total']} rows")
        if body["total"] > 10 and path in bulk.NOT_SEEDED:
            empty.append(f"{path} is seeded now: remove it from tests.bulk.NOT_SEEDED")
    assert not empty, "\n".join(empty)
