"""Never a 5xx for bad input (issue 2, DESIGN §9): NUL characters, numbers beyond any
column, pages beyond any table, duplicate rows in one body, absurd CSV rates, in the API
and in the pages, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text

from jof import create_app
from jof.core.counters import Counter
from jof.core.db import db
from jof.core.money import ExchangeRate
from jof.core.people import Agency, AgencyHeadcount, LoginAttempt
from jof.core.timeutil import utcnow
from tests.conftest import csrf_from

ADMIN = "admin@jof.example"
AUDITOR = "auditor@jof.example"
MANAGER = "manager@jof.example"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    body = r.get_json()
    assert set(body) >= {"status", "title", "detail", "errors"}, body
    assert body["status"] == status
    return body


def _page(r, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


def _post_form(client, url: str, data: dict, page: str | None = None, **kw):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kw)


# --- NUL characters -------------------------------------------------------------------------


@pytest.mark.parametrize("email, path", [
    (ADMIN, "/api/v1/requests/%00"),
    (ADMIN, "/api/v1/agencies/%00"),
    (ADMIN, "/api/v1/agencies/UN%00DP"),
])
def test_a_nul_in_an_api_path_is_a_400(api, email, path):
    body = _problem(api(email).get(path), 400)
    assert "NUL" in body["detail"]


@pytest.mark.parametrize("email, path, field", [
    (AUDITOR, "/api/v1/audit?actor=%00", "actor"),
    (MANAGER, "/api/v1/requests?agency=%00%00", "agency"),
    (MANAGER, "/api/v1/requests?st%00atus=x", "st\x00atus"),
])
def test_a_nul_in_an_api_query_is_a_422_naming_the_parameter(api, email, path, field):
    body = _problem(api(email).get(path), 422)
    assert list(body["errors"]) == [field.replace("\x00", "\\x00")]


def test_a_nul_in_a_json_body_is_a_422_naming_the_field(app, api):
    r = api(ADMIN).post("/api/v1/users", json={
        "email": "new@jof.example", "name": "\u0000abc", "roles": ["manager"],
        "password": "long-enough-password"})
    body = _problem(r, 422)
    assert body["errors"] == {"name": ["Must not contain the NUL character (\\x00)."]}


def test_a_nul_deep_in_a_json_body_is_found(api):
    r = api(ADMIN).patch("/api/v1/agencies/UNDP", json={
        "headcounts": [{"year": 2026, "headcount": 1}, {"year": 2027, "note": ["ok", "b\x00d"]}]})
    body = _problem(r, 422)
    assert list(body["errors"]) == ["headcounts.1.note.1"]


def test_a_nul_in_a_json_key_is_found(api):
    body = _problem(api(ADMIN).patch("/api/v1/agencies/UNDP", json={"na\x00me": "x"}), 422)
    assert list(body["errors"]) == ["na\\x00me"]


def test_anonymous_login_with_a_nul_in_the_email_is_a_422_page(app, client, demo):
    r = _post_form(client, "/login", {"email": "a\x00b", "password": "whatever-password"})
    html = _page(r, 422)
    assert "NUL" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0


@pytest.mark.parametrize("email, path, status", [
    (ADMIN, "/requests/%00", 400),
    (ADMIN, "/admin/agencies/%00", 400),
    (AUDITOR, "/audit?actor=%00", 422),
    (MANAGER, "/queue?agency=UN%00DP", 422),
])
def test_a_nul_in_a_page_address_is_an_error_page(web, email, path, status):
    assert "NUL" in _page(web(email).get(path), status)


def test_a_nul_in_the_agency_form_is_a_422_page_and_nothing_is_written(app, web, demo):
    c = web(ADMIN)
    r = _post_form(c, "/admin/agencies/new", {
        "code": "UNICEF", "name": "UNI\x00CEF", "country": "BR", "membership": "member",
        "joined_on": "2026-02-01", "approval_limit_usd": "10000.00", "address": ""})
    assert "NUL" in _page(r, 422)
    with app.app_context():
        assert db.session.scalar(select(Agency.id).where(Agency.code == "UNICEF")) is None


# --- numbers beyond any column ------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/api/v1/users/2147483648",
    "/api/v1/users/9999999999",
    "/api/v1/users/99999999999999999999999",
    "/api/v1/notifications/99999999999999999999999/read",
])
def test_an_id_beyond_any_row_is_a_404(api, path):
    c = api(ADMIN)
    r = c.post(path) if path.endswith("/read") else c.get(path)
    _problem(r, 404)


def test_the_largest_id_a_column_holds_is_still_looked_up(api):
    _problem(api(ADMIN).get("/api/v1/users/2147483647"), 404)
    me = api(ADMIN).get("/api/v1/me").get_json()["id"]
    assert api(ADMIN).get(f"/api/v1/users/{me}").status_code == 200


def test_an_id_beyond_any_row_in_a_page_address_is_a_404_page(web):
    _page(web(ADMIN).get("/admin/users/99999999999"), 404)


@pytest.mark.parametrize("path", [
    "/api/v1/requests?page=999999999999999999",
    "/api/v1/agencies?page=1000001",
    "/api/v1/audit?page=99999999999999999999",
])
def test_a_page_beyond_the_cap_is_a_422(api, path):
    body = _problem(api(AUDITOR).get(path), 422)
    assert list(body["errors"]) == ["page"]


def test_the_last_page_allowed_is_just_empty(api):
    r = api(AUDITOR).get("/api/v1/agencies?page=1000000")
    assert r.status_code == 200 and r.get_json()["items"] == []


def test_page_of_refuses_a_page_beyond_the_cap_for_every_line(app):
    from jof.core.errors import ValidationFailed
    from jof.core.paging import MAX_PAGE, page_of

    with app.test_request_context():
        with pytest.raises(ValidationFailed) as exc:
            page_of(select(Agency), MAX_PAGE + 1, 25)
    assert list(exc.value.errors) == ["page"]


@pytest.mark.parametrize("path", [
    "/", "/queue", "/notifications", "/admin/users", "/admin/agencies", "/rates", "/audit",
    "/governance/resolutions", "/procurement/", "/procurement/suppliers", "/procurement/tenders",
    "/procurement/purchase-orders", "/procurement/ltas", "/travel/", "/travel/queue",
    "/travel/dsa-rates", "/ict/tickets", "/ict/queue",
])
@pytest.mark.parametrize("page", ["99999999999999999999", "1000001", "0", "-3", "two", "1.5"])
def test_a_bad_page_in_any_html_list_is_the_same_422(web, path, page):
    who = ADMIN if path.startswith("/admin") else MANAGER
    html = _page(web(who).get(f"{path}?page={page}"), 422)
    assert "Page must be a whole number from 1 to 1000000." in html


@pytest.mark.parametrize("path", ["/", "/procurement/", "/travel/", "/ict/tickets"])
def test_the_last_allowed_page_of_an_html_list_is_just_empty(web, path):
    _page(web(MANAGER).get(f"{path}?page=1000000"), 200)


def test_an_absurd_headcount_in_the_api_is_a_422(api):
    body = _problem(api(ADMIN).patch("/api/v1/agencies/UNDP", json={
        "headcounts": [{"year": 2026, "headcount": 10**20}]}), 422)
    assert list(body["errors"]) == ["headcounts.0.headcount"]


def test_an_absurd_headcount_in_the_form_is_a_422_next_to_the_field(web, demo):
    c = web(ADMIN)
    r = _post_form(c, "/admin/agencies/new", {
        "code": "UNICEF", "name": "UNICEF Brazil", "country": "BR", "membership": "member",
        "joined_on": "2026-02-01", "approval_limit_usd": "10000.00", "address": "",
        "headcount_year": "2026", "headcount": "99999999999"})
    html = _page(r, 422)
    assert 'id="headcount-error"' in html


# --- the same row twice in one body ---------------------------------------------------------


@pytest.mark.parametrize("method, path, extra", [
    ("patch", "/api/v1/agencies/UNDP", {}),
    ("post", "/api/v1/agencies", {"code": "UNICEF", "name": "UNICEF Brazil", "country": "BR",
                                  "joined_on": "2026-02-01"}),
])
def test_the_same_year_twice_in_one_body_is_a_422(app, api, method, path, extra):
    r = getattr(api(ADMIN), method)(path, json={
        **extra, "headcounts": [{"year": 2030, "headcount": 1}, {"year": 2030, "headcount": 2}]})
    body = _problem(r, 422)
    assert body["errors"] == {"headcounts": ["Year 2030 is given more than once."]}
    with app.app_context():
        assert db.session.scalar(select(func.count(AgencyHeadcount.id))
                                 .where(AgencyHeadcount.year == 2030)) == 0


def test_the_service_refuses_the_same_year_twice_too(app, demo):
    from jof.core import services
    from jof.core.errors import ValidationFailed
    from jof.core.people import User

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        with pytest.raises(ValidationFailed) as exc:
            services.update_agency(admin, services.get_agency("UNDP"), {
                "headcounts": [{"year": 2030, "headcount": 1}, {"year": 2030, "headcount": 2}]})
        assert "headcounts" in exc.value.errors
        db.session.rollback()


# --- absurd exchange rates --------------------------------------------------------------------


@pytest.mark.parametrize("rate, message", [
    ("1e30", "too large"),
    ("99999999999999.123", "too large"),
    ("1e-30", "At most 6 decimals."),
    ("NaN", "not a valid amount"),
])
def test_an_absurd_csv_rate_is_rejected_line_by_line(app, api, rate, message):
    csv = f"currency,month,units_per_usd\nARS,2026-01,850\nBRL,2026-01,{rate}\n"
    body = _problem(api(ADMIN).post("/api/v1/exchange-rates/import", json={"csv": csv}), 422)
    assert [r["line"] for r in body["rejected"]] == [3]
    assert message in " ".join(body["errors"]["line 3"])
    with app.app_context():
        assert db.session.scalar(select(ExchangeRate.id).where(ExchangeRate.currency == "ARS")) is None


def test_an_absurd_csv_rate_uploaded_on_the_page_is_a_422_report(web, demo):
    c = web(ADMIN)
    token = csrf_from(c.get("/rates").get_data(as_text=True))
    r = c.post("/rates/import", content_type="multipart/form-data", data={
        "csrf_token": token,
        "file": (io.BytesIO(b"currency,month,units_per_usd\nBRL,2026-01,99999999999999.123\n"), "r.csv")})
    assert "too large" in _page(r, 422)


def test_the_service_refuses_an_absurd_rate_set_directly(app, demo):
    from jof.core import services
    from jof.core.errors import ValidationFailed
    from jof.core.people import User

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        with pytest.raises(ValidationFailed) as exc:
            services.set_rate(admin, "BRL", date(2026, 1, 1), Decimal("1e30"))
        assert "units_per_usd" in exc.value.errors
        db.session.rollback()


# --- the backstop: a database refusal that validation missed is never a 500 ------------------


@pytest.fixture(scope="module")
def probe(app, database_url):
    """A second app on the same database, with routes that make the database refuse."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "probe",
                              "TESTING": True})

    def duplicate_at_flush():
        db.session.execute(insert(Counter).values(key="probe", value=0))
        db.session.execute(insert(Counter).values(key="probe", value=0))
        return {"ok": True}

    def money_in_a_query():
        db.session.scalar(select(ExchangeRate.id).where(ExchangeRate.units_per_usd == Decimal("1e30")))
        return {"ok": True}

    def money_at_commit():
        db.session.add(Counter(key="probe", value=1))
        db.session.add(ExchangeRate(currency="BRL", month=date(2031, 1, 1),
                                    units_per_usd=Decimal("1e30"), created_at=utcnow()))
        return {"ok": True}

    def data_error():
        db.session.execute(text("SELECT CAST(:v AS integer)"), {"v": "not a number"})
        return {"ok": True}

    def data_error_at_commit():
        db.session.add(Counter(key="x" * 200, value=1))
        return {"ok": True}

    for view in (duplicate_at_flush, money_in_a_query, money_at_commit, data_error,
                 data_error_at_commit):
        application.add_url_rule(f"/api/v1/_probe/{view.__name__}", view.__name__, view)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("name, status", [
    ("duplicate_at_flush", 409),
    ("money_in_a_query", 422),
    ("money_at_commit", 422),
])
def test_a_database_refusal_in_the_api_is_a_4xx_problem(probe, name, status):
    _problem(probe.test_client().get(f"/api/v1/_probe/{name}"), status)
    with probe.app_context():
        assert db.session.scalar(select(func.count()).select_from(Counter)) == 0
        assert db.session.scalar(select(func.count()).select_from(ExchangeRate)) == 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("name", ["data_error", "data_error_at_commit"])
def test_a_data_error_of_postgresql_is_a_422_problem(probe, name):
    _problem(probe.test_client().get(f"/api/v1/_probe/{name}"), 422)
    with probe.app_context():
        assert db.session.scalar(select(func.count()).select_from(Counter)) == 0


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_audit_dates_out_of_range_are_a_422_not_a_500(api, web, query):
    assert api("auditor@jof.example").get(f"/api/v1/audit?{query}").status_code == 422
    assert web("auditor@jof.example").get(f"/audit?{query}").status_code == 422


def test_a_json_body_nested_too_deeply_is_a_422_not_a_500(client):
    body = "[" * 100000 + "]" * 100000
    r = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert r.get_json()["errors"]


def test_a_user_email_longer_than_any_login_is_refused(api):
    r = api("admin@jof.example").post("/api/v1/users", json={
        "email": "a" * 250 + "@jof.example", "name": "Too long", "roles": ["manager"],
        "password": "long-enough-password"})
    assert r.status_code == 422
    assert "email" in r.get_json()["errors"]


@pytest.mark.parametrize("path", ["/api/v1/requests", "/api/v1/governance/decisions",
                                  "/api/v1/procurement/suppliers", "/api/v1/ict/tickets"])
@pytest.mark.parametrize("page", ["0", "abc", "1.5", "1000001"])
def test_a_bad_page_in_any_api_list_is_the_same_422(api, path, page):
    body = _problem(api(MANAGER).get(f"{path}?page={page}"), 422)
    assert body["errors"] == {"page": ["Page must be a whole number from 1 to 1000000."]}
