"""Issue 11: hostile input answers a 4xx problem, never a 500; bodies have a size limit;
the smaller findings of the outside probe (HSTS, CSP, lower-case ``bearer``, literal
audit filters, ASCII digits in amounts, one charset on attachments)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof import create_app
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.money import ExchangeRate
from tests.conftest import TEST_PASSWORD, csrf_from

ADMIN = "admin@jof.example"
MANAGER = "manager@jof.example"
AUDITOR = "auditor@jof.example"
REQUESTER = "requester@unep.jof.example"
UNDP_REQUESTER = "requester@undp.jof.example"

#: A JSON text with a lone high surrogate inside a string (valid JSON, invalid Unicode).
LONE_SURROGATE = '"x\\ud800"'
#: A JSON number beyond Python's int-string limit (4,300 digits).
HUGE_NUMBER = "1" * 4301


def _problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert set(body) >= {"status", "title", "detail", "errors"}, body
    assert body["status"] == status
    return body


# --- lone surrogates -------------------------------------------------------------------


def test_a_lone_surrogate_in_the_password_is_a_422_problem_for_an_anonymous_caller(client, demo):
    body = f'{{"email": "{REQUESTER}", "password": {LONE_SURROGATE}}}'
    r = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    problem = _problem(r, 422)
    assert "surrogate" in problem["detail"]


def test_a_lone_surrogate_in_a_ticket_title_is_refused(api):
    body = f'{{"title": {LONE_SURROGATE}, "urgency": "low", "impact": "low"}}'
    r = api(UNDP_REQUESTER).post("/api/v1/ict/tickets", data=body, content_type="application/json")
    _problem(r, 422)


def test_a_lone_surrogate_in_a_transition_comment_or_a_key_is_refused(api, make):
    """Complete bodies (with the version), so the string itself is what is refused."""
    reference = make.request()
    c = api(UNDP_REQUESTER)
    for body in (f'{{"action": "submit", "version": 1, "comment": {LONE_SURROGATE}}}',
                 '{"action": "submit", "version": 1, "x\\udfff": 1}',
                 f'{{"action": "submit", "version": 1, "payload": {{"note": {LONE_SURROGATE}}}}}'):
        r = c.post(f"/api/v1/requests/{reference}/transitions", data=body, content_type="application/json")
        problem = _problem(r, 422)
        assert "surrogate" in problem["detail"], problem


def test_a_lone_surrogate_in_a_ticket_comment_is_refused(api):
    """A comment with a lone surrogate used to reach the database and answer 500."""
    c = api(UNDP_REQUESTER)
    ticket = c.post("/api/v1/ict/tickets", json={"title": "Printer", "urgency": "low", "impact": "low"})
    assert ticket.status_code == 201, ticket.get_data(as_text=True)
    reference = ticket.get_json()["reference"]
    body = f'{{"body": {LONE_SURROGATE}}}'
    r = c.post(f"/api/v1/ict/tickets/{reference}/comments", data=body, content_type="application/json")
    problem = _problem(r, 422)
    assert "surrogate" in problem["detail"], problem


def test_a_surrogate_pair_is_a_character_and_is_accepted(api):
    body = '{"title": "Printer \\ud83d\\udda8 jammed", "urgency": "low", "impact": "low"}'
    r = api(UNDP_REQUESTER).post("/api/v1/ict/tickets", data=body, content_type="application/json")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["title"] == "Printer \U0001f5a8 jammed"


# --- over-long numbers, deep nesting ------------------------------------------------------


def test_a_number_of_4301_digits_is_a_422_problem_for_an_anonymous_caller(client, demo):
    body = f'{{"email": "{REQUESTER}", "password": "x", "name": {HUGE_NUMBER}}}'
    _problem(client.post("/api/v1/auth/token", data=body, content_type="application/json"), 422)


@pytest.mark.parametrize("number", [HUGE_NUMBER, "0." + "1" * 5000, "1e" + "9" * 5000])
def test_an_over_long_number_anywhere_in_a_signed_in_body_is_refused(api, number):
    body = f'{{"title": "t", "urgency": "low", "impact": "low", "x": [{{"y": {number}}}]}}'
    r = api(UNDP_REQUESTER).post("/api/v1/ict/tickets", data=body, content_type="application/json")
    _problem(r, 422)


def test_a_body_nested_deeper_than_the_limit_is_refused(client, demo):
    body = '{"email": "a@b.c", "password": "x", "name": ' + "[" * 100 + "]" * 100 + "}"
    _problem(client.post("/api/v1/auth/token", data=body, content_type="application/json"), 422)


# --- the exchange-rate month ---------------------------------------------------------------


def test_month_0000_01_is_a_422_for_the_administrator(api):
    r = api(ADMIN).post("/api/v1/exchange-rates",
                        json={"currency": "BRL", "month": "0000-01", "units_per_usd": "5.00"})
    assert "month" in _problem(r, 422)["errors"]


def test_month_0000_01_from_a_requester_is_a_403_before_the_date_is_looked_at(api):
    r = api(REQUESTER).post("/api/v1/exchange-rates",
                            json={"currency": "BRL", "month": "0000-01", "units_per_usd": "5.00"})
    _problem(r, 403)


def test_month_0000_01_on_the_rates_page_is_a_422_page(app, web):
    c = web(ADMIN)
    with app.app_context():
        before = db.session.scalar(select(func.count(ExchangeRate.id)))
    token = csrf_from(c.get("/rates").get_data(as_text=True))
    r = c.post("/rates", data={"currency": "BRL", "month": "0000-01", "units_per_usd": "5.00",
                               "csrf_token": token})
    assert r.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(ExchangeRate.id))) == before


# --- request size ------------------------------------------------------------------------------


def test_an_anonymous_json_body_over_one_megabyte_is_413_before_it_is_read(client, demo):
    body = b'{"email": "a@b.c", "password": "' + b"x" * (1024 * 1024) + b'"}'
    r = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert "too large" in _problem(r, 413)["detail"].lower()


def test_a_form_over_one_megabyte_is_413(client, demo):
    r = client.post("/login", data={"email": "a@b.c", "password": "x" * (1024 * 1024 + 10)})
    assert r.status_code == 413


def test_the_declared_length_is_refused_without_reading_a_byte(app, demo):
    """A client announcing 100 MB is refused on its Content-Length alone."""
    read = []

    class Stream(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            read.append(len(b))
            raise AssertionError("the body was read")

    env = {"CONTENT_LENGTH": str(100 * 1024 * 1024), "CONTENT_TYPE": "application/json",
           "wsgi.input": Stream()}
    r = app.test_client().post("/api/v1/auth/token", environ_overrides=env)
    _problem(r, 413)
    assert read == []


def test_an_attachment_upload_may_exceed_one_megabyte_up_to_the_attachment_limit(api):
    from jof.governance.attachments import MAX_ATTACHMENT_BYTES

    c = api(MANAGER)
    r = c.post("/api/v1/governance/decisions", json={"title": "Budget 2027", "text": "Adopt it.",
                                                     "kind": "general"})
    if r.status_code != 201:
        pytest.fail(f"could not draft a decision: {r.get_json()}")
    url = f"/api/v1/governance/decisions/{r.get_json()['id']}/attachments"
    pdf = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)
    r = c.post(url, data={"file": (io.BytesIO(pdf), "big.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    too_big = b"%PDF-1.4\n" + b"0" * (MAX_ATTACHMENT_BYTES + 64 * 1024)
    r = c.post(url, data={"file": (io.BytesIO(too_big), "huge.pdf")}, content_type="multipart/form-data")
    _problem(r, 413)


# --- headers and the bearer scheme ---------------------------------------------------------------


def test_hsts_of_a_year_is_sent_under_production(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("JOF_ENV", "production")
    prod = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k", "TESTING": True})
    r = prod.test_client().get("/health")
    hsts = r.headers["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/health").headers


def test_the_content_security_policy_allows_no_inline_code_or_style(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp


def test_the_bearer_scheme_is_case_insensitive(app, demo):
    c = app.test_client()
    token = c.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD}).get_json()["token"]
    for scheme in ("bearer", "BEARER", "Bearer"):
        r = c.get("/api/v1/me", headers={"Authorization": f"{scheme} {token}"})
        assert r.status_code == 200, scheme
        assert r.get_json()["email"] == REQUESTER
    _problem(c.get("/api/v1/me", headers={"Authorization": f"Basic {token}"}), 401)


# --- the audit filter -----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["%", "_", "auth%", "auth._ogin"])
def test_wildcards_in_the_audit_action_filter_match_themselves_only(api, pattern):
    c = api(AUDITOR)
    assert c.get("/api/v1/audit?action=auth.login").get_json()["total"] >= 1
    assert c.get(f"/api/v1/audit?action={pattern.replace('%', '%25')}").get_json()["total"] == 0


def test_the_audit_action_filter_still_matches_a_prefix(api):
    body = api(AUDITOR).get("/api/v1/audit?action=auth.").get_json()
    assert body["total"] >= 1 and all(e["action"].startswith("auth.") for e in body["items"])


# --- digits in amounts -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["١٢٣", "１２３", "१२३.00", "12٣.00"])
def test_amounts_in_other_scripts_digits_are_refused(api, amount):
    r = api(ADMIN).post("/api/v1/exchange-rates",
                        json={"currency": "BRL", "month": "2026-01", "units_per_usd": amount})
    assert "units_per_usd" in _problem(r, 422)["errors"]


@pytest.mark.parametrize("amount", ["١٢٣", "１２３", "12٣.00"])
def test_other_scripts_digits_are_refused_in_a_csv_import_and_nothing_is_imported(api, amount):
    csv = f"currency,month,units_per_usd\nBRL,2019-01,3.70\nEUR,2019-01,{amount}\n"
    r = api(ADMIN).post("/api/v1/exchange-rates/import", json={"csv": csv})
    body = _problem(r, 422)
    assert set(body["errors"]) == {"line 3"}
    rates = api(ADMIN).get("/api/v1/exchange-rates?per_page=100").get_json()["items"]
    assert not any(x["month"].startswith("2019-01") for x in rates)


def test_the_money_parser_refuses_other_scripts_digits_wherever_amounts_arrive():
    """Forms, CSV imports and payloads all read amounts through ``to_decimal``."""
    from jof.core.money import MoneyError, to_decimal

    for text in ("١٢٣", "１２３", "१२३.00", "12٣.00"):
        with pytest.raises(MoneyError):
            to_decimal(text)
    assert to_decimal(" 123.45 ") == Decimal("123.45")


def test_an_amount_in_ascii_digits_is_still_accepted(api):
    r = api(ADMIN).post("/api/v1/exchange-rates",
                        json={"currency": "BRL", "month": "2026-01", "units_per_usd": "123"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["units_per_usd"].startswith("123")


# --- attachments ------------------------------------------------------------------------------


def test_a_text_attachment_is_served_with_one_charset(api, app):
    c = api(MANAGER)
    r = c.post("/api/v1/governance/decisions", json={"title": "Budget 2027", "text": "Adopt it.",
                                                     "kind": "general"})
    assert r.status_code == 201, r.get_json()
    url = f"/api/v1/governance/decisions/{r.get_json()['id']}/attachments"
    r = c.post(url, data={"file": (io.BytesIO(b"minutes"), "notes.txt")}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    r = c.get(r.get_json()["url"])
    assert r.status_code == 200
    assert r.headers["Content-Type"].lower().count("charset") == 1, r.headers["Content-Type"]
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) > 0


# --- CSV imports ----------------------------------------------------------------------------


@pytest.mark.parametrize("url, who", [("/api/v1/travel/dsa-rates/import", MANAGER),
                                      ("/api/v1/exchange-rates/import", ADMIN)])
def test_a_csv_the_reader_cannot_read_is_a_422_not_a_500(api, url, who):
    """Found by schemathesis: a bare carriage return inside an unquoted field."""
    r = api(who).post(url, json={"csv": "\u00bd\r\u0089"})
    assert "csv" in _problem(r, 422)["errors"]
