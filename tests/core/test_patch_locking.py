"""Issue 11: optimistic locking on every PATCH of the API. Each patchable object's GET
and PATCH answer with an ETag; a PATCH sending a stale one as If-Match is a 409 that
changes nothing, instead of silently overwriting a change made meanwhile; a PATCH that
sends no If-Match (or, for an ICT ticket, no version) is a 428 that changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jof.core.db import db
from jof.core.people import User

ADMIN = "admin@jof.example"
MANAGER = "manager@jof.example"
OFFICER = "procurement@jof.example"
REQUESTER = "requester@undp.jof.example"


def _me(app, api):
    return api(REQUESTER), "/api/v1/me", {"locale": "pt_BR"}, {"locale": "en"}


def _agency(app, api):
    return api(ADMIN), "/api/v1/agencies/UNDP", {"name": "UNDP Brazil"}, {"name": "UNDP Brasil"}


def _user(app, api):
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == REQUESTER))
    return api(ADMIN), f"/api/v1/users/{user_id}", {"name": "Ana Souza"}, {"name": "Ana S. Souza"}


def _decision(app, api):
    c = api(MANAGER)
    r = c.post("/api/v1/governance/decisions", json={"title": "Budget 2027", "text": "Adopt it."})
    assert r.status_code == 201, r.get_json()
    return c, f"/api/v1/governance/decisions/{r.get_json()['id']}", {"title": "Budget 2027, revised"}, \
        {"text": "Adopt it as revised."}


def _pool(app, api):
    c = api(MANAGER)
    r = c.post("/api/v1/governance/cost-pools", json={"period": "2026-01", "category": "premises",
                                                      "amount": "1000.00", "description": "Rent"})
    assert r.status_code == 201, r.get_json()
    return c, f"/api/v1/governance/cost-pools/{r.get_json()['id']}", {"amount": "1100.00"}, \
        {"description": "Rent and cleaning"}


def _ict_service(app, api):
    c = api(MANAGER)
    r = c.post("/api/v1/ict/services", json={"code": "vpn_access", "name": "VPN access",
                                             "unit_price_usd": "5.00"})
    assert r.status_code == 201, r.get_json()
    return c, "/api/v1/ict/services/vpn_access", {"name": "VPN access (site-to-site)"}, \
        {"unit_price_usd": "6.00"}


def _supplier(app, api):
    c = api(OFFICER)
    r = c.post("/api/v1/procurement/suppliers", json={"name": "Papelaria Central", "country": "BR",
                                                      "tax_id": "12.345.678/0001-90"})
    assert r.status_code == 201, r.get_json()
    return c, f"/api/v1/procurement/suppliers/{r.get_json()['id']}", {"name": "Papelaria Central Ltda"}, \
        {"contact_name": "Joana"}


CASES = [_me, _agency, _user, _decision, _pool, _ict_service, _supplier]


def _ticket(app, api):
    requester = api(REQUESTER)
    r = requester.post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident",
        "category": "email", "service": "email_account", "urgency": "low", "impact": "low"})
    assert r.status_code == 201, r.get_json()
    return api("ict@jof.example"), f"/api/v1/ict/tickets/{r.get_json()['reference']}", \
        {"urgency": "high", "impact": "high"}, {"urgency": "medium", "impact": "low"}


#: Every PATCH route of the API and how to make an object it changes: a new PATCH route
#: fails test_every_patch_route_of_the_url_map_refuses_a_change_without_a_precondition
#: until it is added here.
BY_ENDPOINT = {
    "core_api.Me": _me, "core_api.AgencyItem": _agency, "core_api.UserItem": _user,
    "governance_api.DecisionItem": _decision, "governance_api.PoolItem": _pool,
    "ict_api.ServiceItem": _ict_service, "procurement_api.SupplierItem": _supplier,
    "ict_api.TicketItem": _ticket,
}


def patch_endpoints(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "PATCH" in (rule.methods or ())})


def _without_clock(body: dict) -> dict:
    """A ticket's representation without its running SLA clock."""
    return {k: v for k, v in body.items() if "seconds" not in k and k != "sla"}


def test_every_patch_route_of_the_url_map_has_a_case(app):
    missing = [e for e in patch_endpoints(app) if e not in BY_ENDPOINT]
    assert not missing, f"PATCH routes without a locking case in this file: {missing}"
    assert len(patch_endpoints(app)) >= 8


@pytest.mark.parametrize("endpoint", sorted(BY_ENDPOINT))
def test_every_patch_route_of_the_url_map_refuses_a_change_without_a_precondition(app, api, endpoint):
    assert endpoint in patch_endpoints(app), f"{endpoint} is no longer a PATCH route"
    c, url, first, _second = BY_ENDPOINT[endpoint](app, api)
    before = c.get(url)
    assert before.status_code == 200
    r = c.patch(url, json=first)
    assert r.status_code == 428, r.get_json()
    body = r.get_json()
    assert set(body) >= {"status", "title", "detail", "errors"} and body["status"] == 428
    assert body["title"] == "Precondition Required"
    versioned = endpoint == "ict_api.TicketItem"
    assert ("version" if versioned else "If-Match") in body["detail"] and body["errors"]
    assert _without_clock(c.get(url).get_json()) == _without_clock(before.get_json())
    # with the precondition it goes through
    if versioned:
        ok = c.patch(url, json={**first, "version": before.get_json()["version"]})
    else:
        ok = c.patch(url, json=first, headers={"If-Match": before.headers["ETag"]})
    assert ok.status_code == 200, ok.get_json()


def test_if_match_star_changes_whatever_the_object_holds(app, api):
    c, url, first, _second = _agency(app, api)
    assert c.patch(url, json=first, headers={"If-Match": "*"}).status_code == 200
    assert c.get(url).get_json()["name"] == first["name"]


def test_a_stale_ticket_version_is_a_409(app, api):
    c, url, first, second = _ticket(app, api)
    version = c.get(url).get_json()["version"]
    assert c.patch(url, json={**first, "version": version}).status_code == 200
    assert c.patch(url, json={**second, "version": version}).status_code == 409


def test_a_missing_if_match_from_someone_not_allowed_to_patch_is_still_a_403(api):
    assert api(REQUESTER).patch("/api/v1/agencies/UNDP", json={"name": "Mine"}).status_code == 403


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.lstrip("_") for c in CASES])
def test_a_patch_with_a_stale_if_match_is_a_409_that_changes_nothing(app, api, case):
    c, url, first, second = case(app, api)
    read = c.get(url)
    assert read.status_code == 200
    tag = read.headers["ETag"]
    assert c.get(url).headers["ETag"] == tag  # the tag names the representation, not the moment

    # Someone else changes the object after we read it ...
    changed = c.patch(url, json=first, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.get_json()
    new_tag = changed.headers["ETag"]
    assert new_tag != tag and c.get(url).headers["ETag"] == new_tag

    # ... so our change, made against what we read, is refused and writes nothing.
    stale = c.patch(url, json=second, headers={"If-Match": tag})
    assert stale.status_code == 409, stale.get_json()
    body = stale.get_json()
    assert set(body) >= {"status", "title", "detail", "errors"} and "changed since you read it" in body["detail"]
    assert stale.headers["ETag"] == new_tag
    assert c.get(url).get_json() == changed.get_json()

    # With the current tag it goes through.
    assert c.patch(url, json=second, headers={"If-Match": new_tag}).status_code == 200


def test_a_stale_if_match_from_someone_not_allowed_to_patch_is_still_a_403(api):
    r = api(REQUESTER).patch("/api/v1/agencies/UNDP", json={"name": "Mine"}, headers={"If-Match": '"stale"'})
    assert r.status_code == 403


def test_every_patch_operation_documents_if_match_409_and_428(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    patches = [(path, ops["patch"]) for path, ops in spec["paths"].items() if "patch" in ops]
    assert len(patches) >= 8
    for path, op in patches:
        assert "409" in op["responses"] and "428" in op["responses"], path
        if path == "/api/v1/ict/tickets/{reference}":  # locked by the body's version
            schema = spec["components"]["schemas"]["IctTicketUpdate"]
            assert "428" in schema["properties"]["version"]["description"]
            continue
        assert any(p["in"] == "header" and p["name"] == "If-Match" and p["required"]
                   for p in op.get("parameters", [])), path
