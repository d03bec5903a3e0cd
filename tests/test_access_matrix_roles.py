"""Every role × every route, each object belonging to another agency (issue 11; DESIGN §9).

Routes are discovered from ``app.url_map``. Every path parameter names a real row of
UNFPA (a request, a travel request, an ICT ticket and subscription, a requisition, an
issued invoice and its credit note, a purchase order placed as a call-off under a
long-term agreement only UNFPA takes part in, a notification of UNFPA's requester), or
is declared shared by the whole facility (:data:`FACILITY_WIDE`); a route with a path
parameter that is neither fails the matrix. The callers are UNDP's requester, head and
alternate, every facility role, and nobody. What each caller should get is written below
as a small table (role kind × route family), not read from the code under test:

- an agency user gets **404** for another agency's object, on every method, and no
  listing of theirs names it; a route the role may not use at all may answer 403 first;
- facility staff see every agency: they read the object (200); the auditor changes nothing
  (403, checked in test_access_matrix.py);
- a change to another agency's object answers exactly what the same change to an object
  that does not exist answers, so nothing tells the two apart;
- a notification is its user's only: 404 for everyone else, staff included;
- a long-term agreement is the facility's catalogue, read by all; an agency that does not
  take part in it cannot call off under it (403, or 422 for the body first);
- nobody signed in gets 401 (checked in test_access_matrix.py);
- and no cell, whoever asks, answers 5xx.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.core import auth
from jof.core.db import db
from jof.core.notifications import Notification
from jof.core.people import Agency, Role, User, UserRole
from jof.core.timeutil import utcnow
from tests.billing.conftest import MONTH, YEAR, record
from tests.billing.conftest import close as close_month
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.test_access_matrix import ARG, CHANGES, call, is_api, routes

FOREIGN_REQUESTER = "requester@unfpa.jof.example"
ALTERNATE = "alternate@undp.jof.example"
ROLES = {
    "anonymous": None,
    "requester": "requester@undp.jof.example",
    "agency head": "head@undp.jof.example",
    "alternate head": ALTERNATE,
    "procurement officer": "procurement@jof.example",
    "travel officer": "travel@jof.example",
    "ict officer": "ict@jof.example",
    "manager": "manager@jof.example",
    "auditor": "auditor@jof.example",
    "admin": "admin@jof.example",
    "resident coordinator": "rc@jof.example",
}
AGENCY_ROLES = {"requester", "agency head", "alternate head"}
FACILITY_ROLES = set(ROLES) - AGENCY_ROLES - {"anonymous"}

#: Route families whose object belongs to one agency, by the rule's path prefix.
AGENCY_SCOPED = {
    "/api/v1/requests/<reference>": "request",
    "/api/v1/travel/requests/<reference>": "travel",
    "/api/v1/ict/tickets/<reference>": "ticket",
    "/api/v1/ict/subscriptions/<int:subscription_id>": "subscription",
    "/api/v1/procurement/requisitions/<reference>": "requisition",
    "/requests/<reference>": "request",
    "/travel/requests/<reference>": "travel",
    "/ict/tickets/<reference>": "ticket",
    "/ict/subscriptions/<reference>": "subscription",
    "/procurement/requisitions/<reference>": "requisition",
    "/api/v1/billing/invoices/<number>": "invoice",
    "/billing/invoices/<int:invoice_id>": "invoice",
    "/billing/credit-notes/<int:credit_note_id>": "credit_note",
    "/api/v1/procurement/purchase-orders/<number>": "order",
    "/api/v1/monitoring/slas/<int:sla_id>": "sla",
    "/api/v1/hr/recruitments/<reference>": "recruitment",
    "/hr/recruitments/<reference>": "recruitment",
    "/monitoring/slas/<int:sla_id>": "sla",
    "/procurement/purchase-orders/<number>": "order",
}
#: Agreements with the agencies that take part: read by all, called off by participants.
AGREEMENTS = ("/api/v1/procurement/ltas/<int:lta_id>", "/procurement/ltas/<int:lta_id>")
#: Routes whose path names something of the whole facility, not of one agency (so there is
#: no "another agency's" object to probe): the board's decisions and cost pools, tenders
#: and suppliers, the ICT catalogue, agencies themselves, billing periods and jobs, assets.
FACILITY_WIDE = (
    "/api/v1/agencies/<code>", "/api/v1/governance/", "/governance/", "/api/v1/procurement/tenders/",
    "/procurement/tenders/", "/api/v1/procurement/suppliers/", "/procurement/suppliers/",
    "/api/v1/ict/services/", "/ict/services/", "/api/v1/billing/periods/", "/billing/periods/",
    "/api/v1/billing/jobs/", "/billing/jobs/", "/bootstrap/static/", "/static/",
    "/monitoring/export/",  # a dashboard table by name; its rows are scoped by the filters
    # the facility's monthly report and board pack, started and read by their readers
    # (tests/monitoring/test_report_jobs.py: another agency's requester gets 404)
    "/monitoring/jobs/", "/monitoring/reports/",
    "/vacancies/",  # an advertised vacancy is public: anyone may read it and apply
)
#: Another agency's bill: hidden from agency users like any object of theirs.
STATEMENTS = ("/api/v1/billing/statements/<code>", "/billing/statements/<code>")
#: Accounts and agency administration: not for agency users at all (403, or 404 hiding
#: another agency's account).
ADMINISTRATION = ("/api/v1/users/<int:user_id>", "/admin/")
#: A user's own rows: nobody else sees them, facility staff included.
PERSONAL = ("/api/v1/notifications/<int:notification_id>", "/notifications/<int:notification_id>")
#: Pages of an object that only the agency user who filed it may use (editing a draft):
#: facility staff read the object but are refused these (403).
FILER_ONLY = {"procurement.requisition_edit"}
#: Confirmation pages of a manager's action: other staff are refused (403); the manager
#: reaches the question only with the action's details (422 without them).
MANAGER_CONFIRMATIONS = {"billing.confirm_credit_note"}
#: Sub-resources that may not exist yet on a fresh object: staff reading them may get 404.
MAY_BE_ABSENT = {"travel_api.Claim", "travel_api.Ticket",
                 # an agreement's signed document is optional; the probe's has none
                 "monitoring_api.SlaDocument", "monitoring.sla_document"}


def _under(rule: str, prefix: str) -> bool:
    return rule == prefix or rule.startswith((prefix + "/", prefix + "."))


def family(rule) -> str | None:
    for prefix, name in AGENCY_SCOPED.items():
        if _under(rule.rule, prefix):
            return name
    if any(_under(rule.rule, prefix) for prefix in AGREEMENTS):
        return "agreement"
    if rule.rule.startswith(PERSONAL):
        return "personal"
    if rule.rule.startswith(STATEMENTS):
        return "statement"
    if rule.rule.startswith(ADMINISTRATION):
        return "administration"
    return None


def expected(role: str, fam: str | None, endpoint: str, method: str, api: bool) -> set[int] | None:
    """The table: the statuses allowed for a cell, or None when only "no 5xx" is asserted."""
    if fam is None:
        return None
    if fam == "personal":
        # the auditor's read-only refusal comes first, and says nothing about the row
        return {403} if role == "auditor" and method in CHANGES else {404}
    if fam == "administration":
        return {403, 404} if role in AGENCY_ROLES else None
    if fam == "recruitment" and role not in AGENCY_ROLES:
        # inside the facility, candidates' data are for HR officers and the manager only;
        # tests/hr/test_access.py holds that table, here only "no 5xx" is asserted
        return None
    if fam == "agreement":
        if method == "GET":
            return {200}
        return {403, 422} if role in AGENCY_ROLES else None
    if role in AGENCY_ROLES:
        # another agency's object does not exist for them. A change is refused for the
        # role (403) or its body (422, checked before any row is read) or the object (404),
        # and test_a_foreign_object_answers_a_change_as_a_missing_one shows it cannot tell
        return {404} if method == "GET" else {403, 404, 422}
    if endpoint in FILER_ONLY:
        return {403}
    if endpoint in MANAGER_CONFIRMATIONS:
        return {403, 422}
    if method == "GET":
        return {200, 404} if endpoint in MAY_BE_ABSENT else {200}
    return None


def test_every_route_with_a_path_parameter_has_a_foreign_object_or_is_facility_wide(app):
    orphans = sorted({rule.rule for rule in app.url_map.iter_rules()
                      if rule.arguments and family(rule) is None and not rule.rule.startswith(FACILITY_WIDE)})
    assert not orphans, ("routes naming an object that the matrix probes with no other agency's "
                         "object (add one to `foreign`, or declare the route FACILITY_WIDE):\n"
                         + "\n".join(orphans))


@pytest.fixture
def foreign(app, api, make):
    """One UNFPA object of every agency-scoped kind, and UNDP's alternate head."""
    with app.app_context():
        undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
        alternate = User(email=ALTERNATE, name="UNDP Alternate", agency_id=undp.id,
                         password_hash=auth.hash_password(TEST_PASSWORD), locale="en", active=True,
                         session_version=1, created_at=utcnow())
        alternate.role_rows.append(UserRole(role=Role.REQUESTER))
        db.session.add(alternate)
        db.session.flush()
        undp.alternate_id = alternate.id
        db.session.commit()
    them = api(FOREIGN_REQUESTER)
    request_ref = make.request(FOREIGN_REQUESTER, status="approved")  # notifies the requester
    d0, d1 = _days(30), _days(33)
    trip = them.post("/api/v1/travel/requests", json={
        "title": "Mission", "purpose": "Review", "legs": [
            {"origin_city": "Brasília", "origin_country": "BR", "destination_city": "São Paulo",
             "destination_country": "BR", "depart_at": f"{d0}T08:00:00", "arrive_at": f"{d0}T09:40:00"},
            {"origin_city": "São Paulo", "origin_country": "BR", "destination_city": "Brasília",
             "destination_country": "BR", "depart_at": f"{d1}T18:00:00", "arrive_at": f"{d1}T19:40:00"}]})
    ticket = them.post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident",
        "category": "email", "service": "email_account", "urgency": "high", "impact": "high"})
    sub = them.post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 2,
                                                      "starts_on": str(_days(5))})
    req = them.post("/api/v1/procurement/requisitions", json={
        "title": "Laptops", "justification": "Replacement.", "needed_by": "2030-01-31",
        "budget_code": "BRA-OPS-01", "lines": [{"description": "Laptop", "unspsc": "43211503",
                                                "quantity": "2", "unit": "each", "unit_price": "1250.00",
                                                "currency": "USD"}]})
    for r in (trip, ticket, sub, req):
        assert r.status_code == 201, r.get_json()
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == FOREIGN_REQUESTER))
        notification_id = db.session.scalar(select(Notification.id).where(Notification.user_id == owner.id))
    assert notification_id is not None
    invoice, lta_id, order = _foreign_bills_and_orders(app, api)
    with app.app_context():
        unfpa = db.session.scalar(select(Agency.id).where(Agency.code == "UNFPA"))
    sla = api("manager@jof.example").post("/api/v1/monitoring/slas", json={
        "agency_id": unfpa, "valid_from": "2026-01-01", "reference": "SLA/UNFPA/2026",
        "targets": {"procurement.rfq": 10}})
    assert sla.status_code == 201, sla.get_json()
    from tests.hr.conftest import recruitment_body

    recruitment = them.post("/api/v1/hr/recruitments", json=recruitment_body())
    assert recruitment.status_code == 201, recruitment.get_json()
    return {
        "recruitment": {"reference": recruitment.get_json()["reference"]},
        "sla": {"sla_id": sla.get_json()["id"]},
        "invoice": {"number": invoice["number"], "invoice_id": invoice["id"]},
        "credit_note": {"credit_note_id": invoice["credit_note_id"]},
        "order": {"number": order},
        "agreement": {"lta_id": lta_id},
        "request": {"reference": request_ref},
        "travel": {"reference": trip.get_json()["reference"]},
        "ticket": {"reference": ticket.get_json()["reference"]},
        "subscription": {"reference": sub.get_json()["reference"], "subscription_id": sub.get_json()["id"]},
        "requisition": {"reference": req.get_json()["reference"]},
        "personal": {"notification_id": notification_id},
        None: {"reference": request_ref, "code": "UNFPA", "user_id": owner.id,
               "notification_id": notification_id, "number": "1"},
    }


def _foreign_bills_and_orders(app, api) -> tuple[dict, int, str]:
    """UNFPA's issued invoice for last month with a credit note; an agreement only UNFPA
    takes part in, and UNFPA's call-off order under it."""
    from types import SimpleNamespace

    from jof.billing import invoices, pricing
    from jof.billing.models import Invoice
    from jof.core.money import ExchangeRate
    from jof.governance import cost_sharing

    with app.app_context():
        if MONTH.year < YEAR:  # January: the demo's rates, prices and key start this year
            db.session.add(ExchangeRate(currency="BRL", month=MONTH, units_per_usd=Decimal("5.34")))
            pricing.create_version(pricing.DEMO_ITEMS, MONTH)
            cost_sharing.adopt_initial_key({"equal": "40", "headcount": "60"}, MONTH)
        record("UNFPA", "MATRIX-RFQ-1/rfq", "rfq_process", "procurement", on=MONTH.replace(day=12))
        db.session.commit()
    ids = close_month(app, SimpleNamespace(period=MONTH), issue=("UNFPA",))
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        inv = db.session.get(Invoice, ids["UNFPA"])
        note = invoices.credit_note(manager, inv, reason="Process fee billed twice", amount="10.00")
        db.session.commit()
        invoice = {"id": inv.id, "number": inv.number, "credit_note_id": note.id}
    officer = api("procurement@jof.example")
    supplier = officer.post("/api/v1/procurement/suppliers", json={
        "name": "Papelaria Central", "country": "BR", "tax_id": "12.345.678/0001-90", "categories": ["4321"]})
    assert supplier.status_code == 201, supplier.get_json()
    lta = officer.post("/api/v1/procurement/ltas", json={
        "title": "Laptops", "supplier_id": supplier.get_json()["id"], "valid_from": str(_days(-1)),
        "ceiling_usd": "50000.00", "agencies": ["UNFPA"],
        "lines": [{"description": "Laptop 14in", "unspsc": "43211503", "unit": "each", "unit_price": "1250.00"}]})
    assert lta.status_code == 201, lta.get_json()
    line_id = lta.get_json()["lines"][0]["id"]
    order = api(FOREIGN_REQUESTER).post(f"/api/v1/procurement/ltas/{lta.get_json()['id']}/call-offs",
                                        json={"lines": [{"lta_line_id": line_id, "quantity": "2"}]})
    assert order.status_code == 201, order.get_json()
    return invoice, lta.get_json()["id"], order.get_json()["number"]


def _days(n: int):
    from datetime import date, timedelta

    return date.today() + timedelta(days=n)


def url_for_cell(rule, fam, objects) -> str:
    values = {**objects[None], **objects.get(fam, {})}
    return ARG.sub(lambda m: str(values.get(m["name"], 1 if m["conv"] == "int" else "x")), rule.rule)


def _client(app, api, web, email):
    """(api client or None, browser, csrf) for a role."""
    if email is None:
        browser = app.test_client()
        return None, browser, csrf_from(browser.get("/login").get_data(as_text=True))
    browser = web(email)
    return api(email), browser, csrf_from(browser.get("/").get_data(as_text=True))


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_each_role_by_the_table_and_never_5xx(app, api, web, foreign, role):
    bearer, browser, csrf = _client(app, api, web, ROLES[role])
    foreign_refs = {v[key] for v in foreign.values() if v for key in ("reference", "number")
                    if key in v and v is not foreign[None]}
    failures, cells = [], 0
    for endpoint, method, rule in routes(app):
        if endpoint in {"core.logout", "core_api.revoke_token", "core_api.create_token"}:
            continue  # would end the caller's own session mid-matrix (checked elsewhere)
        fam = family(rule)
        assert fam in foreign or fam in {"administration", "statement"}, f"no foreign object for {rule.rule}"
        url = url_for_cell(rule, fam, foreign)
        api_route = is_api(rule)
        if api_route and bearer is not None:
            r = call(bearer.client, method, url, True, headers=bearer.headers)
        else:
            r = call(browser, method, url, api_route, csrf)
        cells += 1
        text = r.get_data().decode(errors="replace")
        allowed = expected(role, fam, endpoint, method, api_route) if role != "anonymous" else None
        if r.status_code >= 500:
            failures.append(f"{method} {url} ({endpoint}): {r.status_code}")
        elif allowed is not None and r.status_code not in allowed:
            failures.append(f"{method} {url} ({endpoint}): {r.status_code}, expected {sorted(allowed)}")
        elif role in AGENCY_ROLES and method == "GET" and r.status_code == 200 and (
                leaked := [ref for ref in foreign_refs if ref in text]):
            failures.append(f"{method} {url} ({endpoint}): names UNFPA's {leaked}")
    assert not failures, f"{role}:\n" + "\n".join(failures)
    assert cells > 200


MISSING = {"reference": "TST-1999-99999", "subscription_id": 999999, "notification_id": 999999,
           "user_id": 999999, "code": "NOSUCH"}


@pytest.mark.parametrize("role", sorted(AGENCY_ROLES))
def test_a_foreign_object_answers_a_change_as_a_missing_one(app, api, web, foreign, role):
    bearer, browser, csrf = _client(app, api, web, ROLES[role])
    failures, cells = [], 0
    for endpoint, method, rule in routes(app):
        fam = family(rule)
        if fam in (None, "agreement") or method not in CHANGES:
            continue  # an agreement is read by all: its refusals need not look like a missing one
        api_route = is_api(rule)
        answers = []
        for objects in (foreign, {None: MISSING}):
            url = url_for_cell(rule, fam, objects)
            if api_route:
                r = call(bearer.client, method, url, True, headers=bearer.headers)
            else:
                r = call(browser, method, url, False, csrf)
            answers.append(r.status_code)
        cells += 1
        if answers[0] != answers[1]:
            failures.append(f"{method} {rule.rule} ({endpoint}): foreign {answers[0]}, missing {answers[1]}")
    assert not failures, f"{role} can tell another agency's object from a missing one:\n" + "\n".join(failures)
    assert cells >= 20


def _candidate_data(rule) -> bool:
    """Candidates' personal data are for HR officers, the manager and the agency's selection
    people (DESIGN §11 draft, tests/hr/test_access.py), and the rosters' candidates for HR
    officers, the manager and the auditor (tests/hr/test_rosters.py), not for the board's chair."""
    return rule.rule.startswith(("/api/v1/hr/recruitments/<reference>/", "/hr/recruitments/<reference>/",
                                 "/api/v1/hr/rosters/entries"))


def test_the_resident_coordinator_reads_every_page_the_auditor_reads(app, api, web, foreign):
    """The RC chairs the board and reads what the auditor reads: every GET the auditor is
    answered 200 is a 200 for the RC too (own rows such as notifications aside)."""
    auditor = _client(app, api, web, ROLES["auditor"])
    rc = _client(app, api, web, ROLES["resident coordinator"])
    failures, cells = [], 0
    for endpoint, method, rule in routes(app):
        fam = family(rule)
        if method != "GET" or fam == "personal" or _candidate_data(rule):
            continue
        url = url_for_cell(rule, fam, foreign)
        answers = []
        for bearer, browser, csrf in (auditor, rc):
            if is_api(rule):
                answers.append(call(bearer.client, method, url, True, headers=bearer.headers).status_code)
            else:
                answers.append(call(browser, method, url, False, csrf).status_code)
        cells += 1
        if answers[0] == 200 and answers[1] != 200:
            failures.append(f"GET {url} ({endpoint}): auditor 200, resident coordinator {answers[1]}")
    assert not failures, "\n".join(failures)
    assert cells > 80
