"""Every API POST that creates something honours ``Idempotency-Key`` (issue 13, "Once-only
submission"): the same key with the same body answers the first answer again and creates
nothing more; the same key with another body is a 422.

The create endpoints are read from the OpenAPI spec (a POST that answers 201), so a new
line's creates are found without being listed here; each needs a case in :data:`CASES`
(who calls it, with what body, after which set-up) or the coverage test fails.
"one object" is checked on the whole database: the replay leaves every table's row count
as the first call left it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jof.core.db import db
from tests.browser import seed
from tests.hr.conftest import recruitment_body
from tests.procurement.conftest import requisition_body

ADMIN, MANAGER, REQUESTER = "admin@jof.example", "manager@jof.example", "requester@undp.jof.example"
ICT, TRAVEL, PROCUREMENT = "ict@jof.example", "travel@jof.example", "procurement@jof.example"
NEXT_YEAR = date.today().year + 1


def _trip() -> dict:
    day = date.today() + timedelta(days=40)
    return {"title": "Mission to the country office", "purpose": "Programme review", "legs": [
        {"origin_city": "Brasília", "origin_country": "BR", "destination_city": "São Paulo",
         "destination_country": "BR", "depart_at": f"{day}T08:00:00-03:00", "arrive_at": f"{day}T09:40:00-03:00"},
        {"origin_city": "São Paulo", "origin_country": "BR", "destination_city": "Brasília",
         "destination_country": "BR", "depart_at": f"{day + timedelta(days=3)}T18:00:00-03:00",
         "arrive_at": f"{day + timedelta(days=3)}T19:40:00-03:00"}]}


TICKET = {"title": "Projector in room 3 does not turn on", "description": "", "kind": "incident",
          "category": "hardware", "urgency": "medium", "impact": "low"}


def _ticket_comment(api, app):
    ref = api(REQUESTER).post("/api/v1/ict/tickets", json=TICKET).get_json()["reference"]
    return api(ICT), f"/api/v1/ict/tickets/{ref}/comments", {"body": "Looking at it."}, {"body": "On my way."}


def _invoice(api, app) -> str:
    seed.month_of_charges(app, issue=True)
    items = api(MANAGER).get("/api/v1/billing/invoices").get_json()["items"]
    return next(i["number"] for i in items if i["status"] == "issued")


def _payment(api, app):
    number = _invoice(api, app)
    body = {"paid_on": date.today().isoformat(), "amount": "100.00", "reference": "BB-77"}
    return api(MANAGER), f"/api/v1/billing/invoices/{number}/payments", body, {**body, "amount": "90.00"}


def _credit_note(api, app):
    number = _invoice(api, app)
    body = {"invoice": number, "reason": "Seats over-counted", "amount": "10.00"}
    return api(MANAGER), "/api/v1/billing/credit-notes", body, {**body, "reason": "Another reason"}


def _lta(api, app):
    officer = api(PROCUREMENT)
    supplier = officer.get("/api/v1/procurement/suppliers").get_json()["items"][0]
    body = {"supplier_id": supplier["id"], "title": "Office paper", "ceiling_usd": "10000.00",
            "valid_from": f"{NEXT_YEAR}-01-01", "agencies": ["UNDP"],
            "lines": [{"description": "Paper A4", "unspsc": "14111507", "unit": "box", "unit_price": "25.00"}]}
    return officer, "/api/v1/procurement/ltas", body, {**body, "title": "Office paper, recycled"}


def _seat_change(api, app):
    requester = api(REQUESTER)
    sub = requester.post("/api/v1/ict/subscriptions", json={
        "service": "email_account", "seats": 10, "starts_on": f"{NEXT_YEAR}-01-01"}).get_json()
    r = api(MANAGER).post(f"/api/v1/requests/{sub['reference']}/transitions",
                          json={"action": "approve", "version": sub["version"]})
    assert r.status_code == 200, r.get_json()
    body = {"seats": 12, "effective_from": f"{NEXT_YEAR}-02-01"}
    return requester, f"/api/v1/ict/subscriptions/{sub['id']}/seat-changes", body, {**body, "seats": 13}


def _simple(email: str, path: str, body: dict, other: dict):
    return lambda api, app: (api(email), path, body, other)


#: For each create endpoint (as the spec writes its path): (client, path, body, another body).
CASES = {
    "/api/v1/agencies": _simple(ADMIN, "/api/v1/agencies", {
        "code": "UNHCR", "name": "UN Refugee Agency", "country": "BR", "joined_on": f"{NEXT_YEAR}-01-01"},
        {"code": "UNHCR", "name": "UNHCR Brazil", "country": "BR", "joined_on": f"{NEXT_YEAR}-01-01"}),
    "/api/v1/users": _simple(ADMIN, "/api/v1/users", {
        "email": "new.officer@jof.example", "name": "New Officer", "roles": ["officer"], "service_lines": ["ict"],
        "password": "a-long-enough-password-123"},
        {"email": "new.officer@jof.example", "name": "Another Name", "roles": ["officer"],
         "service_lines": ["ict"], "password": "a-long-enough-password-123"}),
    "/api/v1/exchange-rates": _simple(ADMIN, "/api/v1/exchange-rates",
                                      {"currency": "BRL", "month": f"{NEXT_YEAR}-01", "units_per_usd": "5.10"},
                                      {"currency": "BRL", "month": f"{NEXT_YEAR}-01", "units_per_usd": "5.20"}),
    "/api/v1/governance/decisions": _simple(MANAGER, "/api/v1/governance/decisions",
                                            {"title": "Open on Saturdays", "kind": "general"},
                                            {"title": "Open on Sundays", "kind": "general"}),
    "/api/v1/governance/cost-pools": _simple(MANAGER, "/api/v1/governance/cost-pools",
                                             {"period": f"{NEXT_YEAR}-01", "category": "staff", "amount": "10.00"},
                                             {"period": f"{NEXT_YEAR}-01", "category": "staff", "amount": "20.00"}),
    "/api/v1/procurement/suppliers": _simple(PROCUREMENT, "/api/v1/procurement/suppliers",
                                             {"name": "Papelaria Central Ltda", "tax_id": "12.345.678/0001-90",
                                              "country": "BR"},
                                             {"name": "Papelaria Sul Ltda", "tax_id": "12.345.678/0001-90",
                                              "country": "BR"}),
    "/api/v1/procurement/requisitions": _simple(REQUESTER, "/api/v1/procurement/requisitions", requisition_body(),
                                                requisition_body(qty="11")),
    "/api/v1/travel/requests": _simple(REQUESTER, "/api/v1/travel/requests", _trip(),
                                       {**_trip(), "purpose": "Another purpose"}),
    "/api/v1/travel/dsa-rates": _simple(TRAVEL, "/api/v1/travel/dsa-rates", {
        "city": "Lima", "country": "PE", "month": f"{NEXT_YEAR}-01", "usd_per_night": "228.00", "room_pct": "50"},
        {"city": "Lima", "country": "PE", "month": f"{NEXT_YEAR}-01", "usd_per_night": "230.00", "room_pct": "50"}),
    "/api/v1/ict/services": _simple(MANAGER, "/api/v1/ict/services",
                                    {"code": "vpn_access", "name": "VPN access", "kind": "recurring",
                                     "unit_price_usd": "5.00"},
                                    {"code": "vpn_access", "name": "VPN access", "kind": "recurring",
                                     "unit_price_usd": "6.00"}),
    "/api/v1/ict/subscriptions": _simple(REQUESTER, "/api/v1/ict/subscriptions",
                                         {"service": "email_account", "seats": 10, "starts_on": f"{NEXT_YEAR}-01-01"},
                                         {"service": "email_account", "seats": 11, "starts_on": f"{NEXT_YEAR}-01-01"}),
    "/api/v1/ict/tickets": _simple(REQUESTER, "/api/v1/ict/tickets", TICKET, {**TICKET, "urgency": "high"}),
    "/api/v1/ict/tickets/{reference}/comments": _ticket_comment,
    "/api/v1/ict/subscriptions/{subscription_id}/seat-changes": _seat_change,
    "/api/v1/procurement/ltas": _lta,
    "/api/v1/hr/recruitments": _simple(REQUESTER, "/api/v1/hr/recruitments", recruitment_body(),
                                       recruitment_body(post_title="Finance Assistant")),
    "/api/v1/billing/invoices/{number}/payments": _payment,
    "/api/v1/billing/credit-notes": _credit_note,
    "/api/v1/monitoring/slas": _simple(MANAGER, "/api/v1/monitoring/slas",
                                       {"valid_from": f"{NEXT_YEAR}-01-01", "reference": "SLA/ALL",
                                        "targets": {"procurement.rfq": 10}},
                                       {"valid_from": f"{NEXT_YEAR}-01-01", "reference": "SLA/ALL",
                                        "targets": {"procurement.rfq": 12}}),
}
#: Creates that answer only deep in a workflow (an approved trip, a closed tender, an
#: advertised vacancy…): their lines' tests walk there; the key is the same boundary
#: (jof.core.once, before any handler), so they are covered by the cases above.
DEEP_IN_A_WORKFLOW = {
    "/api/v1/governance/decisions/{decision_id}/attachments",  # multipart upload to a draft
    "/api/v1/governance/allocations",  # needs the preview's digest of a month's pools
    "/api/v1/procurement/tenders",  # needs approved requisitions
    "/api/v1/procurement/tenders/{tender_id}/lots/{number}/bids",
    "/api/v1/procurement/tenders/{tender_id}/lots/{number}/award",
    "/api/v1/procurement/tenders/{tender_id}/lots/{number}/lta",
    "/api/v1/procurement/purchase-orders/{number}/receipts",
    "/api/v1/procurement/ltas/{lta_id}/call-offs",
    "/api/v1/travel/requests/{reference}/quotes",  # an approved trip
    "/api/v1/travel/requests/{reference}/ticket",
    "/api/v1/travel/requests/{reference}/claim",
    "/api/v1/hr/recruitments/{reference}/applications",  # an advertised vacancy
    "/api/v1/hr/recruitments/{reference}/onboarding/{step}",  # a selection with its offer made
    "/api/v1/hr/recruitments/{reference}/panel",  # an approved recruitment's assessment panel
    "/api/v1/hr/recruitments/{reference}/applications/{application_id}/referees",  # a recorded application
    "/api/v1/hr/recruitments/{reference}/terms",  # multipart upload, as the decision's attachments
}


def create_endpoints(app) -> set[str]:
    """The paths of the spec's POSTs that answer 201, but the anonymous token exchange."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return {path for path, item in spec["paths"].items()
            if "201" in item.get("post", {}).get("responses", {}) and item["post"].get("security") != []}


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
        db.session.remove()
        return counts


def test_every_create_endpoint_of_the_spec_has_an_idempotency_case(app):
    found = create_endpoints(app)
    assert found - set(CASES) - DEEP_IN_A_WORKFLOW == set(), "add a case to CASES"
    assert set(CASES) | DEEP_IN_A_WORKFLOW <= found, "a case names an endpoint the spec no longer has"
    assert len(CASES) > len(DEEP_IN_A_WORKFLOW)


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_a_create_sent_twice_with_one_key_creates_once_and_another_body_is_refused(app, api, endpoint):
    client, path, body, other = CASES[endpoint](api, app)
    key = {"Idempotency-Key": f"once-{endpoint}"}
    before = row_counts(app)
    first = client.post(path, json=body, headers=key)
    assert first.status_code == 201, first.get_json()
    after_first = row_counts(app)
    assert after_first != before
    again = client.post(path, json=body, headers=key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert again.headers.get("Location") == first.headers.get("Location")
    assert row_counts(app) == after_first
    refused = client.post(path, json=other, headers=key)
    assert refused.status_code == 422 and "Idempotency-Key" in refused.get_json()["errors"]
    assert row_counts(app) == after_first


# --- in parallel ----------------------------------------------------------------------------------


@pytest.mark.parametrize("email, path, body", [
    (REQUESTER, "/api/v1/procurement/requisitions", requisition_body()),
    (REQUESTER, "/api/v1/travel/requests", _trip()),
])
def test_parallel_creates_with_one_key_make_one_request_in_another_line(app, demo, live_server, email, path, body):
    """The ticket's race (tests/core/test_once.py) for a requisition and a trip: on
    PostgreSQL the second insert of the key waits on the unique index for the first."""
    import requests

    from jof.core.workflow import ServiceRequest
    from tests.conftest import TEST_PASSWORD, race

    token = requests.post(f"{live_server}/api/v1/auth/token", json={"email": email, "password": TEST_PASSWORD},
                          timeout=30).json()["token"]
    with app.app_context():
        before = db.session.scalar(select(func.count(ServiceRequest.id)))
        db.session.remove()

    def post(_i):
        return requests.post(f"{live_server}{path}", json=body, timeout=60,
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{path}"})

    answers = race(4, post)
    assert all(not isinstance(a, BaseException) for a in answers), answers
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    assert len({a.json()["reference"] for a in answers if a.status_code == 201}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(ServiceRequest.id))) == before + 1
        db.session.remove()
