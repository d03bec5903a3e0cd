"""The catalogue and subscription resources of /api/v1/ict."""

from __future__ import annotations

REQUESTER = "requester@undp.jof.example"


def test_catalogue_lists_the_demo_services(api):
    r = api(REQUESTER).get("/api/v1/ict/services")
    assert r.status_code == 200
    by_code = {s["code"]: s for s in r.get_json()}
    assert by_code["email_account"]["unit_price_usd"] == "12.00"
    assert by_code["laptop_setup"]["kind"] == "one_off"


def test_only_manager_or_admin_edits_the_catalogue(api):
    body = {"code": "vpn_access", "name": "VPN access", "kind": "recurring", "unit_price_usd": "5.00"}
    assert api(REQUESTER).post("/api/v1/ict/services", json=body).status_code == 403
    assert api("auditor@jof.example").post("/api/v1/ict/services", json=body).status_code == 403
    assert api("ict@jof.example").post("/api/v1/ict/services", json=body).status_code == 403
    r = api("manager@jof.example").post("/api/v1/ict/services", json=body)
    assert r.status_code == 201 and r.get_json()["unit_price_usd"] == "5.00"
    assert api("manager@jof.example").post("/api/v1/ict/services", json=body).status_code == 422
    r = api("admin@jof.example").patch("/api/v1/ict/services/vpn_access", json={"unit_price_usd": "6.50"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["unit_price_usd"] == "6.50"
    assert api(REQUESTER).post("/api/v1/ict/services", json={**body, "unit_price_usd": 5.0}).status_code in (403, 422)


def test_price_as_float_is_refused(api):
    r = api("manager@jof.example").post("/api/v1/ict/services", json={
        "code": "vpn_access", "name": "VPN access", "unit_price_usd": 5.1})
    assert r.status_code == 422 and "unit_price_usd" in r.get_json()["errors"]


def test_subscription_order_approve_change_and_end_through_the_api(api):
    requester, manager = api(REQUESTER), api("manager@jof.example")
    r = requester.post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 10,
                                                          "starts_on": "2026-04-16"})
    assert r.status_code == 201, r.get_json()
    sub = r.get_json()
    assert (sub["status"], sub["agency"], sub["periods"]) == ("submitted", "UNDP", [])
    ref, sid = sub["reference"], sub["id"]
    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": sub["version"]})
    assert r.status_code == 200, r.get_json()

    r = requester.post(f"/api/v1/ict/subscriptions/{sid}/seat-changes",
                       json={"seats": 12, "effective_from": "2026-05-01"})
    assert r.status_code == 201, r.get_json()
    assert [(p["seq"], p["seats"], p["starts_on"], p["ends_on"]) for p in r.get_json()["periods"]] == [
        (1, 10, "2026-04-16", "2026-04-30"), (2, 12, "2026-05-01", None)]
    r = requester.post(f"/api/v1/ict/subscriptions/{sid}/end", json={"ends_on": "2026-06-30"})
    assert r.status_code == 200 and r.get_json()["ends_on"] == "2026-06-30"
    assert r.get_json()["periods"][-1]["ends_on"] == "2026-06-30"

    assert api("requester@unfpa.jof.example").get(f"/api/v1/ict/subscriptions/{sid}").status_code == 404
    assert api("requester@unfpa.jof.example").post(f"/api/v1/ict/subscriptions/{sid}/end",
                                                   json={"ends_on": "2026-06-30"}).status_code == 404
    listing = manager.get("/api/v1/ict/subscriptions?agency=undp").get_json()
    assert listing["total"] == 1 and listing["items"][0]["current_seats"] == 12
    assert manager.get("/api/v1/ict/subscriptions?agency=UNFPA").get_json()["total"] == 0


def test_unknown_service_is_a_field_error(api):
    r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "teleportation", "seats": 1,
                                                               "starts_on": "2026-04-01"})
    assert r.status_code == 422 and "service" in r.get_json()["errors"]


def test_seat_change_before_approval_is_a_conflict(api):
    r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 3,
                                                               "starts_on": "2026-04-01"})
    sid = r.get_json()["id"]
    r = api(REQUESTER).post(f"/api/v1/ict/subscriptions/{sid}/seat-changes",
                            json={"seats": 4, "effective_from": "2026-04-10"})
    assert r.status_code == 409


def _approved(api, seats=3, starts_on="2026-04-01"):
    r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": seats,
                                                               "starts_on": starts_on})
    assert r.status_code == 201, r.get_json()
    sub = r.get_json()
    r = api("manager@jof.example").post(f"/api/v1/requests/{sub['reference']}/transitions",
                                        json={"action": "approve", "version": sub["version"]})
    assert r.status_code == 200, r.get_json()
    return sub["id"]


def test_fractional_seats_are_refused_not_truncated(api):
    for seats in (2.9, 3.0, "2.9", True):
        r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": seats,
                                                                   "starts_on": "2026-04-01"})
        assert r.status_code == 422 and "seats" in r.get_json()["errors"], (seats, r.get_json())
    sid = _approved(api)
    r = api(REQUESTER).post(f"/api/v1/ict/subscriptions/{sid}/seat-changes",
                            json={"seats": 4.5, "effective_from": "2026-05-01"})
    assert r.status_code == 422 and "seats" in r.get_json()["errors"]
    body = api(REQUESTER).get(f"/api/v1/ict/subscriptions/{sid}").get_json()
    assert [p["seats"] for p in body["periods"]] == [3]
    # Whole numbers, from JSON or as a form's text, still go through.
    r = api(REQUESTER).post(f"/api/v1/ict/subscriptions/{sid}/seat-changes",
                            json={"seats": "4", "effective_from": "2026-05-01"})
    assert r.status_code == 201 and r.get_json()["current_seats"] == 4


def test_order_dates_outside_the_window_are_field_errors(app, api):
    from datetime import date

    from jof.ict import states

    with app.app_context():
        too_far = date(states.local_today().year + 6, 1, 1).isoformat()
    for starts_on in ("0001-01-01", "1999-12-31", "9999-12-31", too_far):
        r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 1,
                                                                   "starts_on": starts_on})
        assert r.status_code == 422, (starts_on, r.get_json())
        assert "starts_on" in r.get_json()["errors"]
        assert "2000-01-01" in r.get_json()["errors"]["starts_on"][0]
    r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 1,
                                                               "starts_on": "2026-04-01", "ends_on": "9999-12-31"})
    assert r.status_code == 422 and "ends_on" in r.get_json()["errors"]
    sid = _approved(api)
    r = api(REQUESTER).post(f"/api/v1/ict/subscriptions/{sid}/seat-changes",
                            json={"seats": 4, "effective_from": "9999-12-31"})
    assert r.status_code == 422 and "effective_from" in r.get_json()["errors"]
    r = api(REQUESTER).post(f"/api/v1/ict/subscriptions/{sid}/end", json={"ends_on": "9999-12-31"})
    assert r.status_code == 422 and "ends_on" in r.get_json()["errors"]
