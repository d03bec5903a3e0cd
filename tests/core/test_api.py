"""The core JSON API under /api/v1 (DESIGN §9 errors, §10 resource map and contract)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from jof.core.apikit import PROBLEM_EXTENSIONS, PROBLEM_KEYS
from jof.core.db import db
from jof.core.people import ApiToken
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from tests.conftest import TEST_PASSWORD

UNDP_REQUESTER = "requester@undp.jof.example"
UNFPA_REQUESTER = "requester@unfpa.jof.example"
UNDP_HEAD = "head@undp.jof.example"
MANAGER = "manager@jof.example"
ADMIN = "admin@jof.example"
AUDITOR = "auditor@jof.example"


def problem(r, status: int, *extensions: str) -> dict:
    """The body of an error response, held to the one shape of DESIGN §9."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert set(body) == PROBLEM_KEYS | set(extensions), body
    assert set(extensions) <= PROBLEM_EXTENSIONS
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["errors"].values())
    return body


def audit_events(api, **filters) -> list[dict]:
    r = api(AUDITOR).get("/api/v1/audit", query_string={"per_page": 200, **filters})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


# --- tokens ---------------------------------------------------------------------------------


def test_token_is_issued_with_201_and_an_expiry(client, demo):
    r = client.post("/api/v1/auth/token", json={"email": UNDP_REQUESTER, "password": TEST_PASSWORD,
                                                "name": "ERP"})
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"token", "expires_at"} and body["token"].startswith("jof_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["email"] == UNDP_REQUESTER


def test_wrong_password_is_a_401_problem(client, demo):
    r = client.post("/api/v1/auth/token", json={"email": UNDP_REQUESTER, "password": "wrong-password-1"})
    assert "Wrong e-mail or password" in problem(r, 401)["detail"]


def test_five_wrong_passwords_then_429_with_retry_after_even_with_the_right_one_from_that_address(app, client, demo):
    for _ in range(5):
        r = client.post("/api/v1/auth/token", json={"email": UNDP_REQUESTER, "password": "wrong-password-1"})
        problem(r, 401)
    for password in ("wrong-password-1", TEST_PASSWORD):
        r = client.post("/api/v1/auth/token", json={"email": UNDP_REQUESTER, "password": password})
        assert "Too many failed logins" in problem(r, 429)["detail"]
        assert int(r.headers["Retry-After"]) >= 1
    # another account is not throttled by these failures
    r = client.post("/api/v1/auth/token", json={"email": UNFPA_REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 201
    # and the owner, from another address, still gets a token
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    r = owner.post("/api/v1/auth/token", json={"email": UNDP_REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 201


def test_token_request_is_validated(client, demo):
    r = client.post("/api/v1/auth/token", json={"email": "not-an-email"})
    errors = problem(r, 422)["errors"]
    assert set(errors) == {"email", "password"}


def test_revoked_token_answers_401_problem(api):
    c = api(UNDP_REQUESTER)
    assert c.delete("/api/v1/auth/token").status_code == 204
    problem(c.get("/api/v1/me"), 401)
    problem(c.delete("/api/v1/auth/token"), 401)


def test_expired_token_answers_401_problem(app, api):
    c = api(UNDP_REQUESTER)
    with app.app_context():
        for row in db.session.scalars(select(ApiToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    problem(c.get("/api/v1/me"), 401)


def test_anonymous_is_401_before_the_body_is_read(client, demo):
    """Validation messages would tell an anonymous caller about the schema."""
    problem(client.get("/api/v1/me"), 401)
    problem(client.post("/api/v1/agencies", json={}), 401)
    problem(client.get("/api/v1/requests", query_string={"status": "nonsense"}), 401)
    problem(client.post("/api/v1/requests/TST-2026-00001/transitions", data="{broken",
                        content_type="application/json"), 401)
    r = client.get("/api/v1/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


# --- the caller --------------------------------------------------------------------------------


def test_me_describes_the_caller(api):
    body = api(UNDP_HEAD).get("/api/v1/me").get_json()
    assert body["email"] == UNDP_HEAD
    assert body["agency"] == "UNDP"
    assert body["roles"] == ["agency_head"]
    assert "password" not in body and "password_hash" not in body


def test_everyone_may_choose_their_language_even_the_auditor(api):
    c = api(AUDITOR)
    r = c.patch("/api/v1/me", json={"locale": "pt_BR"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["locale"] == "pt_BR"
    assert c.get("/api/v1/me").get_json()["locale"] == "pt_BR"
    problem(c.patch("/api/v1/me", json={"locale": "fr"}), 422)


# --- bad input is a 422 problem, never a 5xx -------------------------------------------------


def test_malformed_json_is_a_422_problem(api):
    r = api(ADMIN).post("/api/v1/agencies", data='{"code": "X",', content_type="application/json")
    body = problem(r, 422)
    assert "not valid JSON" in body["errors"]["_body"][0]


@pytest.mark.parametrize("data,content_type", [
    ("code=XYZ", "application/x-www-form-urlencoded"),
    ("code,name\nXYZ,Xy", "text/csv"),
])
def test_a_body_that_is_not_json_is_a_422_problem(api, data, content_type):
    r = api(ADMIN).post("/api/v1/agencies", data=data, content_type=content_type)
    assert "Content-Type: application/json" in problem(r, 422)["errors"]["_body"][0]


@pytest.mark.parametrize("body", ["[1, 2]", '"UNDP"', "42", "null"])
def test_json_that_is_not_an_object_is_a_422_problem(api, body):
    problem(api(ADMIN).post("/api/v1/agencies", data=body, content_type="application/json"), 422)


def test_schema_errors_name_each_field(api):
    r = api(ADMIN).post("/api/v1/agencies", json={"code": "x", "country": "Brazil"})
    errors = problem(r, 422)["errors"]
    assert set(errors) == {"code", "country", "name", "joined_on"}
    assert errors["name"] == ["Missing data for required field."]


def test_unknown_fields_are_refused(api):
    r = api(ADMIN).patch("/api/v1/agencies/UNDP", json={"name": "UNDP Brazil", "is_admin": True})
    assert problem(r, 422)["errors"] == {"is_admin": ["Unknown field."]}


@pytest.mark.parametrize("value,message", [
    (12500.5, "not as floats"),
    ("12500.505", "At most 2 decimals"),
    ("twelve", "Not a valid number"),
    ("NaN", "not permitted"),
    ("1" + "0" * 40, "too large"),
    ("1e40", "without an exponent"),
    (True, "as strings"),
])
def test_amounts_travel_as_exact_strings(api, value, message):
    r = api(ADMIN).patch("/api/v1/agencies/UNDP", json={"approval_limit_usd": value})
    [msg] = problem(r, 422)["errors"]["approval_limit_usd"]
    assert message in msg


def test_amount_string_is_kept_exactly(api):
    r = api(ADMIN).patch("/api/v1/agencies/UNDP", json={"approval_limit_usd": "12500.10"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["approval_limit_usd"] == "12500.10"


@pytest.mark.parametrize("query,field", [
    ({"page": "two"}, "page"),
    ({"page": 0}, "page"),
    ({"per_page": 1000}, "per_page"),
    ({"stauts": "submitted"}, "stauts"),
    ({"status": "flying"}, "status"),
    ({"line": "catering"}, "line"),
    ({"sla_breached": "maybe"}, "sla_breached"),
    ({"min_age_days": -1}, "min_age_days"),
])
def test_wrong_query_parameters_are_a_422_problem(api, query, field):
    errors = problem(api(MANAGER).get("/api/v1/requests", query_string=query), 422)["errors"]
    assert field in errors


def test_audit_dates_are_checked(api):
    c = api(AUDITOR)
    assert "since" in problem(c.get("/api/v1/audit?since=2026-13-01"), 422)["errors"]
    assert "until" in problem(c.get("/api/v1/audit?since=2026-02-01&until=2026-01-01"), 422)["errors"]


def test_wrong_method_is_405_problem_keeping_the_allow_header(api):
    r = api(ADMIN).put("/api/v1/agencies")
    problem(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_unknown_api_path_is_a_404_problem(api):
    problem(api(ADMIN).get("/api/v1/no-such-thing"), 404)


# --- agencies ----------------------------------------------------------------------------------


def test_agencies_are_paginated_with_the_total(api):
    c = api(UNDP_REQUESTER)
    first = c.get("/api/v1/agencies?per_page=3").get_json()
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (7, 1, 3, 3)
    last = c.get("/api/v1/agencies?per_page=3&page=3").get_json()
    assert [a["code"] for a in last["items"]] == ["UNWOMEN"]
    everyone = c.get("/api/v1/agencies").get_json()
    codes = [a["code"] for a in everyone["items"]]
    assert codes == sorted(codes) and len(codes) == 7
    assert codes == [a["code"] for page in (1, 2, 3)
                     for a in c.get(f"/api/v1/agencies?per_page=3&page={page}").get_json()["items"]]
    assert c.get("/api/v1/agencies?per_page=3&page=9").get_json()["items"] == []
    undp = next(a for a in everyone["items"] if a["code"] == "UNDP")
    assert undp["membership"] == "member" and undp["approval_limit_usd"] == "10000.00"


def test_agency_by_code(api):
    c = api(UNDP_REQUESTER)
    assert c.get("/api/v1/agencies/UNAIDS").get_json()["membership"] == "partner"
    problem(c.get("/api/v1/agencies/NOPE"), 404)


def test_admin_creates_and_changes_an_agency_with_audit_events(api):
    admin = api(ADMIN)
    r = admin.post("/api/v1/agencies", json={
        "code": "UNICEF", "name": "United Nations Children's Fund", "country": "BR",
        "joined_on": "2026-01-01", "approval_limit_usd": "20000.00",
        "headcounts": [{"year": 2026, "headcount": 40}],
    })
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["headcounts"] == [{"year": 2026, "headcount": 40}]
    r = admin.patch("/api/v1/agencies/UNICEF", json={"membership": "partner",
                                                     "alternate_email": None}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["membership"] == "partner"
    assert admin.get("/api/v1/agencies").get_json()["total"] == 8

    [created] = audit_events(api, action="agency.create")
    assert (created["actor_email"], created["object_type"], created["object_id"]) == (ADMIN, "agency", "UNICEF")
    assert created["after"]["approval_limit_usd"] == "20000.00"
    [updated] = audit_events(api, action="agency.update")
    assert updated["before"]["membership"] == "member" and updated["after"]["membership"] == "partner"


def test_duplicate_agency_code_is_a_field_error(api):
    r = api(ADMIN).post("/api/v1/agencies", json={"code": "UNDP", "name": "Again", "country": "BR",
                                                  "joined_on": "2026-01-01"})
    assert "already exists" in problem(r, 422)["errors"]["code"][0]


def test_left_before_joined_is_a_field_error_and_nothing_changes(api):
    admin = api(ADMIN)
    r = admin.patch("/api/v1/agencies/UNDP", json={"name": "Renamed", "left_on": "2000-01-01"})
    assert "left_on" in problem(r, 422)["errors"]
    assert admin.get("/api/v1/agencies/UNDP").get_json()["name"] != "Renamed"


@pytest.mark.parametrize("email", [MANAGER, UNDP_HEAD, UNDP_REQUESTER])
def test_only_the_admin_manages_agencies(api, email):
    c = api(email)
    problem(c.post("/api/v1/agencies", json={"code": "UNICEF", "name": "Unicef", "country": "BR",
                                             "joined_on": "2026-01-01"}), 403)
    problem(c.patch("/api/v1/agencies/UNDP", json={"approval_limit_usd": "99999.00"}), 403)
    assert c.get("/api/v1/agencies/UNDP").get_json()["approval_limit_usd"] == "10000.00"


# --- the auditor changes nothing --------------------------------------------------------------


def test_auditor_changes_nothing(api, make):
    ref = make.request(status="submitted")
    rates_before = api(MANAGER).get("/api/v1/exchange-rates").get_json()["total"]
    c = api(AUDITOR)
    attempts = [
        c.post("/api/v1/agencies", json={"code": "UNICEF", "name": "Unicef", "country": "BR",
                                         "joined_on": "2026-01-01"}),
        c.patch("/api/v1/agencies/UNDP", json={"approval_limit_usd": "1.00"}),
        c.post("/api/v1/users", json={"email": "x@jof.example", "name": "Xx", "roles": ["auditor"],
                                      "password": "a-long-password-1"}),
        c.patch(f"/api/v1/users/{make.user(UNDP_REQUESTER).id}", json={"active": False}),
        c.post("/api/v1/exchange-rates", json={"currency": "BRL", "month": "2026-01", "units_per_usd": "5.00"}),
        c.post("/api/v1/exchange-rates/import", json={"csv": "currency,month,units_per_usd\nBRL,2026-01,5.00\n"}),
        c.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": 2}),
    ]
    for r in attempts:
        assert "reading only" in problem(r, 403)["detail"]
    m = api(MANAGER)
    assert m.get(f"/api/v1/requests/{ref}").get_json()["status"] == "submitted"
    assert m.get("/api/v1/agencies").get_json()["total"] == 7
    assert m.get("/api/v1/exchange-rates").get_json()["total"] == rates_before
    # …but reads everything
    assert c.get(f"/api/v1/requests/{ref}").get_json()["allowed_actions"] == []
    assert c.get("/api/v1/users").get_json()["total"] == m.get("/api/v1/users").get_json()["total"]


# --- users ------------------------------------------------------------------------------------


def test_admin_creates_reads_lists_and_changes_a_user(api):
    admin = api(ADMIN)
    r = admin.post("/api/v1/users", json={
        "email": "Officer2@JOF.example", "name": "Second procurement officer",
        "roles": ["officer"], "service_lines": ["procurement", "ict"], "password": "a-long-password-1",
    })
    assert r.status_code == 201, r.get_json()
    user = r.get_json()
    assert user["email"] == "officer2@jof.example" and user["agency"] is None
    assert user["roles"] == ["officer"] and user["service_lines"] == ["ict", "procurement"]
    assert "password" not in user
    assert admin.get(f"/api/v1/users/{user['id']}").get_json() == user

    r = admin.patch(f"/api/v1/users/{user['id']}", json={"service_lines": ["travel"], "locale": "pt_BR"}, headers={"If-Match": "*"})
    assert r.status_code == 200
    assert (r.get_json()["service_lines"], r.get_json()["locale"]) == (["travel"], "pt_BR")

    # the new user's token works, with the new line
    assert api("officer2@jof.example", "a-long-password-1").get("/api/v1/me").get_json()["service_lines"] == ["travel"]
    assert [e["object_id"] for e in audit_events(api, action="user.create")] == [str(user["id"])]
    assert len(audit_events(api, action="user.update", object_id=str(user["id"]))) == 1


def test_deactivated_user_token_stops_working(api, make):
    c = api(UNDP_REQUESTER)
    r = api(ADMIN).patch(f"/api/v1/users/{make.user(UNDP_REQUESTER).id}", json={"active": False}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["active"] is False
    problem(c.get("/api/v1/me"), 401)


def test_user_list_is_paginated_and_scoped_to_the_agency(api):
    everyone = api(ADMIN).get("/api/v1/users?per_page=5").get_json()
    # a requester and a head per agency; six facility staff, the Resident Coordinator and
    # two HR officers
    assert len(everyone["items"]) == 5 and everyone["total"] == 7 * 2 + 9
    mine = api(UNDP_REQUESTER).get("/api/v1/users").get_json()
    assert {u["email"] for u in mine["items"]} == {UNDP_REQUESTER, UNDP_HEAD}
    assert mine["total"] == 2


def test_another_agency_s_user_is_404(api, make):
    problem(api(UNDP_REQUESTER).get(f"/api/v1/users/{make.user(UNFPA_REQUESTER).id}"), 404)
    problem(api(UNDP_REQUESTER).get("/api/v1/users/999999"), 404)


@pytest.mark.parametrize("changes,field,message", [
    ({"password": "too-short"}, "password", "at least 12"),
    ({"roles": ["requester"]}, "roles", "cannot be given to facility staff"),
    ({"roles": ["officer"]}, "service_lines", "at least one service line"),
    ({"roles": []}, "roles", "at least one role"),
    ({"roles": ["pilot"]}, "roles.0", "Must be one of"),
    ({"agency": "NOPE", "roles": ["requester"]}, "agency", "NOPE"),
    ({"email": "not-an-email"}, "email", "email"),
    ({"email": MANAGER}, "email", "already exists"),
])
def test_user_validation_names_the_field(api, changes, field, message):
    body = {"email": "new@jof.example", "name": "New person", "roles": ["auditor"],
            "password": "a-long-password-1", **changes}
    errors = problem(api(ADMIN).post("/api/v1/users", json=body), 422)["errors"]
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()


def test_agency_staff_get_agency_roles_only(api):
    r = api(ADMIN).post("/api/v1/users", json={"email": "x@undp.jof.example", "name": "Xx", "agency": "UNDP",
                                               "roles": ["manager"], "password": "a-long-password-1"})
    assert "cannot be given to agency staff" in problem(r, 422)["errors"]["roles"][0]


def test_short_password_on_update_is_refused(api, make):
    r = api(ADMIN).patch(f"/api/v1/users/{make.user(UNDP_REQUESTER).id}", json={"password": "short"})
    assert problem(r, 422)["errors"] == {"password": ["Use at least 12 characters."]}


def test_admin_cannot_deactivate_themselves(api, make):
    problem(api(ADMIN).patch(f"/api/v1/users/{make.user(ADMIN).id}", json={"active": False}), 409)


def test_only_the_admin_manages_users(api, make):
    body = {"email": "x@jof.example", "name": "Xx", "roles": ["auditor"], "password": "a-long-password-1"}
    problem(api(MANAGER).post("/api/v1/users", json=body), 403)
    problem(api(UNDP_HEAD).patch(f"/api/v1/users/{make.user(UNDP_REQUESTER).id}", json={"active": False}), 403)


# --- exchange rates -------------------------------------------------------------------------


def _rates(api, **q) -> dict[tuple[str, str], str]:
    page = api(UNDP_REQUESTER).get("/api/v1/exchange-rates", query_string={"per_page": 200, **q}).get_json()
    assert page["total"] == len(page["items"])
    return {(r["currency"], r["month"]): r["units_per_usd"] for r in page["items"]}


def test_admin_sets_and_corrects_a_rate(api):
    admin = api(ADMIN)
    before = _rates(api)
    r = admin.post("/api/v1/exchange-rates", json={"currency": "EUR", "month": "2019-03",
                                                   "units_per_usd": "0.923456"})
    assert r.status_code == 201 and r.get_json() == {"currency": "EUR", "month": "2019-03",
                                                     "units_per_usd": "0.923456"}
    admin.post("/api/v1/exchange-rates", json={"currency": "EUR", "month": "2019-03", "units_per_usd": "0.9"})
    admin.post("/api/v1/exchange-rates", json={"currency": "ARS", "month": "2019-03", "units_per_usd": "40"})
    assert _rates(api) == {**before, ("EUR", "2019-03"): "0.900000", ("ARS", "2019-03"): "40.000000"}
    assert _rates(api, currency="eur") == {("EUR", "2019-03"): "0.900000"}
    assert len(audit_events(api, action="exchange_rate.set")) == 3


@pytest.mark.parametrize("body,field", [
    ({"currency": "BRL", "month": "2026-03", "units_per_usd": 5.1}, "units_per_usd"),
    ({"currency": "BRL", "month": "2026-03", "units_per_usd": "5.1234567"}, "units_per_usd"),
    ({"currency": "BRL", "month": "2026-03", "units_per_usd": "-5"}, "units_per_usd"),
    ({"currency": "XYZ", "month": "2026-03", "units_per_usd": "5"}, "currency"),
    ({"currency": "USD", "month": "2026-03", "units_per_usd": "1"}, "currency"),
    ({"currency": "BRL", "month": "2026-13", "units_per_usd": "5"}, "month"),
])
def test_rate_validation(api, body, field):
    assert field in problem(api(ADMIN).post("/api/v1/exchange-rates", json=body), 422)["errors"]


def test_csv_import_writes_every_row(api):
    before = _rates(api)
    csv = "currency,month,units_per_usd\nBRL,2019-01,3.70\nEUR,2019-01,0.87\nBRL,2019-02,3.72\n"
    r = api(ADMIN).post("/api/v1/exchange-rates/import", json={"csv": csv})
    assert r.status_code == 200 and r.get_json() == {"imported": 3, "rejected": []}
    assert _rates(api) == {**before, ("BRL", "2019-01"): "3.700000", ("EUR", "2019-01"): "0.870000",
                           ("BRL", "2019-02"): "3.720000"}


def test_csv_import_is_all_or_nothing_with_a_report_per_line(api):
    before = _rates(api)
    csv = ("currency,month,units_per_usd\n"
           "BRL,2019-01,3.70\n"
           "XYZ,2019-01,1.00\n"
           "EUR,2019-1x,0.92\n"
           "ARS,2019-01,40\n")
    body = problem(api(ADMIN).post("/api/v1/exchange-rates/import", json={"csv": csv}), 422, "rejected")
    assert "nothing was imported" in body["detail"]
    assert set(body["errors"]) == {"line 3", "line 4"}
    assert "currency" in body["errors"]["line 3"][0]
    assert body["errors"]["line 4"] == ["month: Expected a month as YYYY-MM, from 2000-01 to 2099-12."]
    assert [r["line"] for r in body["rejected"]] == [3, 4]
    assert _rates(api) == before
    assert audit_events(api, action="exchange_rate") == []


def test_csv_without_the_columns_is_refused(api):
    r = api(ADMIN).post("/api/v1/exchange-rates/import", json={"csv": "code,rate\nBRL,5\n"})
    assert "file" in problem(r, 422)["errors"]


# --- requests ---------------------------------------------------------------------------------


def test_another_agency_s_request_is_404_and_never_listed(api, make):
    unfpa = make.request(UNFPA_REQUESTER, status="submitted")
    mine = make.request(UNDP_REQUESTER, status="submitted")
    c = api(UNDP_REQUESTER)
    assert problem(c.get(f"/api/v1/requests/{unfpa}"), 404)["detail"] == \
        problem(c.get("/api/v1/requests/TST-1999-99999"), 404)["detail"]
    problem(c.post(f"/api/v1/requests/{unfpa}/transitions", json={"action": "cancel", "version": 2}), 404)
    listed = c.get("/api/v1/requests").get_json()
    assert [i["reference"] for i in listed["items"]] == [mine] and listed["total"] == 1
    assert c.get("/api/v1/requests?agency=UNFPA").get_json()["total"] == 0
    assert api(MANAGER).get("/api/v1/requests").get_json()["total"] == 2


def test_request_detail_has_the_timeline_and_the_caller_s_actions(api, make):
    ref = make.request(status="submitted")
    detail = api(UNDP_REQUESTER).get(f"/api/v1/requests/{ref}").get_json()
    assert (detail["reference"], detail["status"], detail["agency"], detail["version"]) == (ref, "submitted", "UNDP", 2)
    assert detail["amount_usd"] == "1200.00" and detail["service_line"] == "procurement"
    assert [(t["action"], t["to_status"], t["actor"]) for t in detail["timeline"]] == [
        ("create", "draft", UNDP_REQUESTER), ("submit", "submitted", UNDP_REQUESTER)]
    assert detail["allowed_actions"] == ["cancel"]
    assert api(MANAGER).get(f"/api/v1/requests/{ref}").get_json()["allowed_actions"] == ["approve", "reject", "cancel"]
    assert api(UNDP_HEAD).get(f"/api/v1/requests/{ref}").get_json()["allowed_actions"] == ["reject"]


def test_request_list_filters(app, api, make):
    draft = make.request(status="draft", title="Draft")
    submitted = make.request(status="submitted", title="Submitted")
    old = make.request(status="approved", title="Old")
    done = make.request(UNFPA_REQUESTER, status="completed", title="Done")
    with app.app_context():
        sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == old))
        sr.created_at = utcnow() - timedelta(days=10)
        sr.sla_due_at = utcnow() - timedelta(days=1)
        db.session.commit()
    m = api(MANAGER)

    def refs(**q):
        body = m.get("/api/v1/requests", query_string=q).get_json()
        assert body["total"] == len(body["items"]), body
        return {i["reference"] for i in body["items"]}

    assert refs() == {draft, submitted, old, done}
    assert refs(status="submitted") == {submitted}
    assert refs(agency="UNFPA") == {done}
    assert refs(agency="unfpa") == {done}
    assert refs(line="procurement") == {draft, submitted, old, done}
    assert refs(line="travel") == set()
    assert refs(open_only="true") == {draft, submitted, old}
    assert refs(min_age_days=5) == {old}
    assert refs(sla_breached="true") == {old}
    assert refs(sla_breached="false") == {draft, submitted, done}
    assert refs(open_only="true", agency="UNDP", status="approved", min_age_days=7) == {old}


def test_request_list_is_paginated_newest_first(api, make):
    made = [make.request(title=f"Request {i}") for i in range(5)]
    c = api(UNDP_REQUESTER)
    pages = [c.get(f"/api/v1/requests?per_page=2&page={p}").get_json() for p in (1, 2, 3)]
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [i["reference"] for p in pages for i in p["items"]] == list(reversed(made))


# --- transitions ------------------------------------------------------------------------------


def _move(c, ref, action, version, comment=None):
    body = {"action": action, "version": version}
    if comment is not None:
        body["comment"] = comment
    return c.post(f"/api/v1/requests/{ref}/transitions", json=body)


def test_submit_and_approve_through_the_api(api, make):
    ref = make.request()
    r = _move(api(UNDP_REQUESTER), ref, "submit", 1)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["version"]) == ("submitted", 2)
    r = _move(api(MANAGER), ref, "approve", 2, "Within budget")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["status"], body["version"]) == ("approved", 3)
    assert body["approved_at"] is not None
    assert body["timeline"][-1] == {**body["timeline"][-1], "action": "approve", "actor": MANAGER,
                                    "from_status": "submitted", "to_status": "approved",
                                    "comment": "Within budget"}
    assert body["allowed_actions"] == ["start", "cancel"]
    [event] = audit_events(api, action="request.approve")
    assert event["after"]["status"] == "approved" and event["actor_email"] == MANAGER


def test_stale_version_is_409_with_the_current_version(api, make):
    ref = make.request(status="submitted")
    body = problem(_move(api(MANAGER), ref, "approve", 1), 409, "current_version")
    assert body["current_version"] == 2
    assert api(MANAGER).get(f"/api/v1/requests/{ref}").get_json()["status"] == "submitted"


def test_illegal_transition_is_409_listing_the_allowed_actions(api, make):
    ref = make.request(status="approved")
    body = problem(_move(api(MANAGER), ref, "submit", 3), 409, "allowed_actions")
    assert body["allowed_actions"] == ["start", "cancel"]
    assert "Allowed now: Start work, Cancel." in body["detail"]
    body = problem(_move(api(MANAGER), ref, "teleport", 3), 409, "allowed_actions")
    assert body["allowed_actions"] == ["start", "cancel"]


def test_wrong_role_is_403(api, make):
    ref = make.request(status="submitted")
    assert "may approve" in problem(_move(api(UNDP_REQUESTER), ref, "approve", 2), 403)["detail"]
    problem(_move(api("procurement@jof.example"), ref, "approve", 2), 403)


def test_reject_without_a_reason_is_422_on_the_comment(api, make):
    ref = make.request(status="submitted")
    body = problem(_move(api(MANAGER), ref, "reject", 2, "   "), 422)
    assert list(body["errors"]) == ["comment"] and body["errors"]["comment"]
    r = _move(api(MANAGER), ref, "reject", 2, "No budget line")
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"


@pytest.mark.parametrize("body,field", [
    ({"version": 2}, "action"),
    ({"action": "approve"}, "version"),
    ({"action": "approve", "version": "two"}, "version"),
    ({"action": "approve", "version": 2, "comment": 5}, "comment"),
    ({"action": "approve", "version": 2, "force": True}, "force"),
])
def test_transition_body_is_validated(api, make, body, field):
    ref = make.request(status="submitted")
    r = api(MANAGER).post(f"/api/v1/requests/{ref}/transitions", json=body)
    assert field in problem(r, 422)["errors"]


def test_above_the_limit_the_head_certifies_before_the_manager_approves(api, make):
    ref = make.request(status="submitted", amount_usd="10000.01")
    manager, head = api(MANAGER), api(UNDP_HEAD)
    assert manager.get(f"/api/v1/requests/{ref}").get_json()["needs_certification"] is True
    body = problem(_move(manager, ref, "approve", 2), 409, "allowed_actions")
    assert "agency head must certify" in body["detail"]
    assert "approve" not in body["allowed_actions"]
    problem(_move(api(UNFPA_REQUESTER.replace("requester", "head")), ref, "certify", 2), 404)
    r = _move(head, ref, "certify", 2, "Funds are committed")
    assert r.status_code == 200 and r.get_json()["status"] == "certified"
    assert r.get_json()["certified_at"] is not None
    r = _move(manager, ref, "approve", 3)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"


def test_at_the_limit_no_certification_is_needed(api, make):
    ref = make.request(status="submitted", amount_usd="10000.00")
    assert _move(api(MANAGER), ref, "approve", 2).get_json()["status"] == "approved"


# --- notifications ----------------------------------------------------------------------------


def test_requester_is_notified_of_someone_else_s_transition_and_marks_it_read(api, make):
    ref = make.request()
    requester, manager = api(UNDP_REQUESTER), api(MANAGER)
    _move(requester, ref, "submit", 1)
    assert requester.get("/api/v1/notifications").get_json()["total"] == 0  # own action
    _move(manager, ref, "approve", 2)
    page = requester.get("/api/v1/notifications").get_json()
    assert page["total"] == 1
    [note] = page["items"]
    assert ref in note["message"] and note["link"].endswith(ref) and note["read_at"] is None
    # the manager was told of the submission (it waits for them), not of their own approval
    [told] = manager.get("/api/v1/notifications").get_json()["items"]
    assert ref in told["message"] and told["id"] != note["id"]

    problem(manager.post(f"/api/v1/notifications/{note['id']}/read"), 404)  # not theirs
    r = requester.post(f"/api/v1/notifications/{note['id']}/read")
    assert r.status_code == 200 and r.get_json()["read_at"] is not None
    assert requester.get("/api/v1/notifications?unread_only=true").get_json()["total"] == 0
    assert requester.get("/api/v1/notifications").get_json()["total"] == 1
    problem(requester.post("/api/v1/notifications/999999/read"), 404)


# --- audit ------------------------------------------------------------------------------------


def test_audit_is_filtered_and_paginated(api, make):
    ref = make.request(status="approved")
    c = api(AUDITOR)
    everything = c.get("/api/v1/audit?per_page=200").get_json()
    assert everything["total"] == len(everything["items"]) > 4
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs, reverse=True)

    page = c.get("/api/v1/audit?per_page=2&page=2").get_json()
    assert page["total"] == everything["total"] and [e["seq"] for e in page["items"]] == seqs[2:4]

    on_request = c.get("/api/v1/audit", query_string={"object_type": "service_request"}).get_json()["items"]
    assert [e["action"] for e in on_request] == ["request.approve", "request.submit", "request.create"]
    by_manager = c.get("/api/v1/audit", query_string={"actor": MANAGER.upper()}).get_json()["items"]
    assert {e["action"] for e in by_manager} >= {"request.approve"}
    assert all(e["actor_email"] == MANAGER for e in by_manager)
    today = utcnow().date()
    assert c.get("/api/v1/audit", query_string={"since": today.isoformat()}).get_json()["total"] == everything["total"]
    future = (today + timedelta(days=2)).isoformat()
    assert c.get("/api/v1/audit", query_string={"since": future}).get_json()["total"] == 0
    past = (today - timedelta(days=2)).isoformat()
    assert c.get("/api/v1/audit", query_string={"until": past}).get_json()["total"] == 0
    assert ref  # the request's reference is not an audit filter; its id is
    approve = on_request[0]
    assert c.get("/api/v1/audit", query_string={"object_id": approve["object_id"],
                                                "action": "request."}).get_json()["total"] == 3


@pytest.mark.parametrize("email", [UNDP_REQUESTER, UNDP_HEAD, "procurement@jof.example"])
def test_audit_is_for_oversight_roles_only(api, email):
    problem(api(email).get("/api/v1/audit"), 403)


@pytest.mark.parametrize("email", [AUDITOR, ADMIN, MANAGER])
def test_oversight_roles_read_the_audit(api, email):
    assert api(email).get("/api/v1/audit").status_code == 200


def test_a_refused_change_writes_no_audit_event(api):
    admin = api(ADMIN)
    problem(admin.patch("/api/v1/agencies/UNDP", json={"name": "Renamed", "left_on": "1990-01-01"}), 422)
    problem(api(MANAGER).patch("/api/v1/agencies/UNDP", json={"name": "Renamed"}), 403)
    assert audit_events(api, action="agency.") == []
