"""Issue 11: optimistic locking on every PATCH of the API. Each patchable object's GET
and PATCH answer with an ETag; a PATCH sending a stale one as If-Match is a 409 that
changes nothing, instead of silently overwriting a change made meanwhile."""

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


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.lstrip("_") for c in CASES])
def test_a_patch_without_if_match_still_applies(app, api, case):
    c, url, first, _second = case(app, api)
    assert c.patch(url, json=first).status_code == 200


def test_a_stale_if_match_from_someone_not_allowed_to_patch_is_still_a_403(api):
    r = api(REQUESTER).patch("/api/v1/agencies/UNDP", json={"name": "Mine"}, headers={"If-Match": '"stale"'})
    assert r.status_code == 403


def test_every_patch_operation_documents_if_match_and_409(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    patches = [(path, ops["patch"]) for path, ops in spec["paths"].items() if "patch" in ops]
    assert len(patches) >= 8
    for path, op in patches:
        assert "409" in op["responses"], path
        assert any(p["in"] == "header" and p["name"] == "If-Match" for p in op.get("parameters", [])), path
