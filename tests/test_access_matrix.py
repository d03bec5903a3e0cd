"""The access matrix over every route the app serves (DESIGN §9; OWASP ASVS 8.2.1, 3.5.3).

Routes are discovered from ``app.url_map`` when the test runs, so a route added later is
checked without anyone editing this file: anonymous callers must be turned away (401
problem on the API, a redirect to the login page for HTML), and the auditor must get 403
on every state-changing route. The only exceptions are the short, explicit lists below.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from jof.core.apikit import PROBLEM_KEYS
from jof.core.db import db
from jof.core.notifications import Notification
from jof.web import READ_ONLY_MAY_POST
from tests.conftest import csrf_from

AUDITOR = "auditor@jof.example"
REQUESTER = "requester@undp.jof.example"

#: Routes outside the matrix: files, the API's own description, health, the login page.
SKIPPED = {"static", "bootstrap.static", "core.health", "core.login"}
SKIPPED_PREFIXES = ("api-docs.",)
#: Routes an anonymous caller may use (each must say why it is public).
ANONYMOUS_MAY = {
    ("core_api.create_token", "POST"),  # exchanging a password for a token
    # HR's public vacancies: anyone applies without an account (CSRF, once-only and rate
    # limited: tests/hr/test_public.py)
    ("hr_public.vacancies_page", "GET"), ("hr_public.apply_page", "GET"), ("hr_public.apply_page", "POST"),
    # an advertised vacancy's current terms of reference (404 unless advertised:
    # tests/hr/test_terms.py)
    ("hr_public.public_terms_download", "GET"),
}
#: The auditor may still manage their own session, token, language and password. Kept
#: identical to jof.web.READ_ONLY_MAY_POST, so widening it shows up in this file's review.
AUDITOR_MAY_CHANGE = {
    "core_api.create_token", "core_api.revoke_token", "core_api.Me",
    "core.login", "core.logout", "core.password", "core.language",
    "profile.profile",  # their own alert preferences
}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
ARG = re.compile(r"<(?:(?P<conv>[^:>]+):)?(?P<name>[^>]+)>")


def routes(app):
    """(endpoint, method, rule) for every route in the matrix."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint.startswith(SKIPPED_PREFIXES):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, rule))
    return out


@pytest.fixture
def placeholders(app, make):
    """Path values naming real rows, so every route resolves to something that exists."""
    reference = make.request(status="approved")  # the manager's approval notifies the requester
    requester = make.user(REQUESTER)
    with app.app_context():
        notification_id = db.session.scalar(
            select(Notification.id).where(Notification.user_id == requester.id))
    values = {"reference": reference, "code": "UNDP", "user_id": requester.id,
              "notification_id": notification_id, "filename": "x", "path": "x"}

    def value_for(name: str, converter: str | None):
        if name in values:
            return values[name]
        if name.endswith("_id"):
            # <decision_id> → the first row of table "decision", when there is one
            table = db.metadata.tables.get(name[:-3])
            if table is not None and "id" in table.c:
                with app.app_context():
                    found = db.session.execute(text(f'SELECT min(id) FROM "{table.name}"')).scalar()
                if found is not None:
                    return found
        return 1 if converter == "int" else "x"

    return value_for


def url_of(rule, value_for) -> str:
    return ARG.sub(lambda m: str(value_for(m["name"], m["conv"])), rule.rule)


def is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


def call(client, method: str, url: str, api: bool, csrf: str | None = None, headers=None):
    kw = {"headers": headers or {}}
    if method in CHANGES:
        if api:
            kw["json"] = {}
        else:
            kw["data"] = {"csrf_token": csrf} if csrf else {}
    return client.open(url, method=method, **kw)


def test_the_matrix_sees_the_core_routes(app):
    """Guard against a discovery that silently finds nothing."""
    found = {(endpoint, method) for endpoint, method, _ in routes(app)}
    assert {("core_api.transition", "POST"), ("core_api.Agencies", "POST"), ("core_api.Me", "GET"),
            ("core.dashboard", "GET"), ("core.logout", "POST")} <= found
    assert len(found) > 30


def test_allow_lists_are_small_and_name_real_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert AUDITOR_MAY_CHANGE == READ_ONLY_MAY_POST
    assert AUDITOR_MAY_CHANGE <= endpoints
    assert {e for e, _ in ANONYMOUS_MAY} <= endpoints


def test_anonymous_callers_are_turned_away_everywhere(app, placeholders):
    anonymous = app.test_client()
    csrf = csrf_from(anonymous.get("/login").get_data(as_text=True))  # so CSRF is not what stops them
    failures = []
    for endpoint, method, rule in routes(app):
        if (endpoint, method) in ANONYMOUS_MAY:
            continue
        url = url_of(rule, placeholders)
        r = call(anonymous, method, url, is_api(rule), csrf)
        if is_api(rule):
            body = r.get_json(silent=True) or {}
            if r.status_code != 401 or set(body) != PROBLEM_KEYS or body.get("status") != 401:
                failures.append(f"{method} {url} ({endpoint}): {r.status_code} {body or r.data[:80]!r}")
        else:
            location = urlsplit(r.headers.get("Location", ""))
            if r.status_code not in (302, 303) or location.path != "/login":
                failures.append(f"{method} {url} ({endpoint}): {r.status_code} → {location.path!r}")
    assert not failures, "open to anonymous callers:\n" + "\n".join(failures)


def test_the_auditor_changes_nothing_anywhere(app, api, web, placeholders):
    bearer = api(AUDITOR)
    browser = web(AUDITOR)
    csrf = csrf_from(browser.get("/").get_data(as_text=True))
    failures = []
    checked = 0
    for endpoint, method, rule in routes(app):
        if method not in CHANGES or endpoint in AUDITOR_MAY_CHANGE:
            continue
        url = url_of(rule, placeholders)
        if is_api(rule):
            r = call(bearer.client, method, url, True, headers=bearer.headers)
            body = r.get_json(silent=True) or {}
            ok = r.status_code == 403 and set(body) == PROBLEM_KEYS
        else:
            r = call(browser, method, url, False, csrf)
            ok = r.status_code == 403
        checked += 1
        if not ok:
            failures.append(f"{method} {url} ({endpoint}): {r.status_code} {r.data[:120]!r}")
    assert not failures, "the auditor could change something:\n" + "\n".join(failures)
    assert checked >= 10


def test_the_auditor_still_reads_everything_in_the_core_api(app, api, placeholders):
    """403 must come from the change, not from a blanket refusal of the auditor."""
    bearer = api(AUDITOR)
    failures = []
    for endpoint, method, rule in routes(app):
        if method != "GET" or not endpoint.startswith("core_api."):
            continue
        url = url_of(rule, placeholders)
        r = bearer.get(url)
        if r.status_code != 200:
            failures.append(f"GET {url}: {r.status_code}")
    assert not failures, "\n".join(failures)


def test_the_auditor_may_still_manage_their_own_session_and_settings(api, web):
    bearer = api(AUDITOR)
    assert bearer.patch("/api/v1/me", json={"locale": "en"}, headers={"If-Match": "*"}).status_code == 200
    assert bearer.delete("/api/v1/auth/token").status_code == 204
    browser = web(AUDITOR)
    token = csrf_from(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
