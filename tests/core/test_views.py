"""The server-rendered pages: what each role sees, forms that keep input, errors as pages."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jof.core import workflow
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.money import ExchangeRate
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from tests.conftest import TEST_PASSWORD, csrf_from

TRANSLATIONS = Path(__file__).resolve().parents[2] / "jof" / "translations"


def text(response) -> str:
    return response.get_data(as_text=True)


def references(html: str) -> list[str]:
    return re.findall(r'href="/requests/(TST-\d{4}-\d{5})"', html)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kw):
    """POST like a browser: take the CSRF token from a page of the same session."""
    token = csrf_from(text(client.get(page or url)))
    return client.post(url, data={**data, "csrf_token": token}, **kw)


def file_requests(app, email: str, count: int, **fields) -> list[str]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        refs = [workflow.create_request(user, "test", title=f"Request {i}", **fields).reference
                for i in range(count)]
        db.session.commit()
        db.session.remove()
        return refs


# --- dashboard and queue ----------------------------------------------------------------


def test_agency_user_dashboard_lists_only_their_agencys_requests(web, make):
    own = make.request("requester@undp.jof.example", title="UNDP printers", status="submitted")
    other = make.request("requester@unfpa.jof.example", title="UNFPA tablets", status="submitted")
    html = text(web("requester@undp.jof.example").get("/"))
    assert "My agency's requests" in html
    assert own in references(html)
    assert other not in html and "UNFPA tablets" not in html
    assert 'data-status="submitted"' in html


def test_facility_staff_dashboard_is_the_open_queue_of_every_agency(web, make):
    undp = make.request("requester@undp.jof.example", status="submitted")
    unfpa = make.request("requester@unfpa.jof.example", status="approved")
    done = make.request("requester@unfpa.jof.example", status="completed")
    html = text(web("manager@jof.example").get("/"))
    assert "Open queue" in html
    refs = references(html.split("Open queue", 1)[1])  # below "What needs you now"
    assert undp in refs and unfpa in refs
    assert done not in refs  # finished work is not in the open queue
    assert refs.index(unfpa) < refs.index(undp)  # newest first


def test_queue_filters_by_agency_and_status_and_keeps_them_in_the_form(web, make):
    undp = make.request("requester@undp.jof.example", status="submitted")
    unfpa_submitted = make.request("requester@unfpa.jof.example", status="submitted")
    unfpa_draft = make.request("requester@unfpa.jof.example", status="draft")
    r = web("manager@jof.example").get("/queue?agency=UNFPA&status=submitted&line=test")
    assert r.status_code == 200
    html = text(r)
    assert references(html) == [unfpa_submitted]
    assert undp not in html and unfpa_draft not in html
    assert '<option value="UNFPA" selected>' in html
    assert '<option value="submitted" selected>' in html
    assert '<option value="test" selected>' in html


def test_queue_filters_by_age_and_sla_breach(app, web, make):
    old = make.request("requester@undp.jof.example", status="submitted")
    late = make.request("requester@unfpa.jof.example", status="submitted")
    fresh = make.request("requester@unesco.jof.example", status="submitted")
    with app.app_context():
        for ref, created, due in ((old, 10, None), (late, 1, -1)):
            sr = db.session.scalar(select(workflow.ServiceRequest).where(workflow.ServiceRequest.reference == ref))
            sr.created_at = utcnow() - timedelta(days=created)
            sr.sla_due_at = utcnow() + timedelta(days=due) if due is not None else None
        db.session.commit()
    c = web("manager@jof.example")
    assert references(text(c.get("/queue?min_age_days=5"))) == [old]
    html = text(c.get("/queue?sla_breached=true"))
    assert references(html) == [late]
    assert "SLA breached" in html
    assert set(references(text(c.get("/queue?sla_breached=false")))) == {old, fresh}


def test_queue_with_an_invalid_filter_says_so(web, demo):
    r = web("manager@jof.example").get("/queue?min_age_days=-3")
    assert r.status_code == 422
    assert 'id="min_age_days-error"' in text(r)


def test_queue_paginates_by_25_with_the_total(app, web, demo):
    refs = file_requests(app, "requester@undp.jof.example", 27)
    c = web("manager@jof.example")
    first = text(c.get("/queue?agency=UNDP"))
    assert len(references(first)) == 25
    assert "27 in total · page 1 of 2" in first
    assert "/queue?agency=UNDP&amp;page=2" in first  # the filters follow the pages
    second = text(c.get("/queue?agency=UNDP&page=2"))
    assert len(references(second)) == 2
    assert set(references(first)) | set(references(second)) == set(refs)


def test_agency_user_queue_ignores_another_agency_filter(web, make):
    own = make.request("requester@undp.jof.example")
    other = make.request("requester@unfpa.jof.example")
    html = text(web("requester@undp.jof.example").get("/queue?agency=UNFPA"))
    assert references(html) == [own]
    assert other not in html


# --- the request page -------------------------------------------------------------------


def test_undp_requester_gets_404_on_a_unfpa_request_page(web, make):
    ref = make.request("requester@unfpa.jof.example", title="UNFPA confidential purchase")
    r = web("requester@undp.jof.example").get(f"/requests/{ref}")
    assert r.status_code == 404
    main = text(r)[text(r).index("<main"):]
    assert "UNFPA confidential purchase" not in main and "UNFPA" not in main
    assert ref not in main


def test_undp_requester_cannot_post_a_transition_on_a_unfpa_request(web, make):
    ref = make.request("requester@unfpa.jof.example", status="draft")
    c = web("requester@undp.jof.example")
    r = post_form(c, f"/requests/{ref}/transitions", {"action": "cancel", "version": "1"}, page="/")
    assert r.status_code == 404


def test_a_transition_through_the_page_form_shows_in_the_timeline(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    page = text(c.get(f"/requests/{ref}"))
    assert 'data-testid="action-approve"' in page
    r = c.post(f"/requests/{ref}/transitions", data={
        "csrf_token": csrf_from(page), "action": "approve", "version": "2",
        "comment": "Budget line confirmed"})
    assert r.status_code == 302
    html = text(c.get(r.headers["Location"]))
    assert 'data-status="approved"' in html
    timeline = html[html.index('data-testid="timeline"'):]
    assert 'data-action="approve"' in timeline
    assert "Budget line confirmed" in timeline
    assert "Facility Manager" in timeline
    # the requester is told, and the badge counts it
    requester = web("requester@undp.jof.example")
    assert re.search(r'data-testid="unread-count">1<', text(requester.get("/")))


def test_reject_without_a_reason_re_renders_the_page_with_the_message(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    r = post_form(c, f"/requests/{ref}/transitions", {"action": "reject", "version": "2", "comment": "   "},
                  page=f"/requests/{ref}")
    assert r.status_code == 422
    html = text(r)
    assert "Give a reason to reject the request." in html
    assert 'id="comment-reject-error"' in html
    assert 'data-status="submitted"' in html  # nothing happened
    assert 'data-testid="action-reject"' in html  # the form is there to try again


def test_stale_version_gets_a_409_page_that_keeps_the_typed_comment(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    r = post_form(c, f"/requests/{ref}/transitions",
                  {"action": "reject", "version": "1", "comment": "Duplicate of an earlier request"},
                  page=f"/requests/{ref}")
    assert r.status_code == 409
    html = text(r)
    assert "changed by someone else" in html
    assert "Duplicate of an earlier request</textarea>" in html
    assert 'name="version" value="2"' in html  # the fresh version, to try again


def test_an_illegal_transition_is_a_409_page_naming_what_is_allowed(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    r = post_form(c, f"/requests/{ref}/transitions", {"action": "complete", "version": "2"},
                  page=f"/requests/{ref}")
    assert r.status_code == 409
    assert "Allowed now: Approve, Reject, Cancel." in text(r)


def test_a_transition_form_without_its_version_says_so(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    r = post_form(c, f"/requests/{ref}/transitions", {"action": "approve"}, page=f"/requests/{ref}")
    assert r.status_code == 422
    assert "The form lost the request&#39;s version; reload the page." in text(r)


def test_a_transition_of_the_wrong_role_is_a_403_page(web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("requester@undp.jof.example")
    r = post_form(c, f"/requests/{ref}/transitions", {"action": "approve", "version": "2"},
                  page=f"/requests/{ref}")
    assert r.status_code == 403
    assert "Only the manager may approve" in text(r)


# --- notifications ----------------------------------------------------------------------


def test_notifications_list_and_mark_as_read(web, make):
    ref = make.request("requester@undp.jof.example", status="approved")
    c = web("requester@undp.jof.example")
    html = text(c.get("/notifications"))
    assert f'href="/requests/{ref}"' in html
    assert html.count('data-read="no"') == 1
    note_id = re.search(r'action="/notifications/(\d+)/read"', html).group(1)
    r = c.post(f"/notifications/{note_id}/read", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    html = text(c.get("/notifications"))
    assert 'data-read="no"' not in html
    assert 'data-testid="unread-count">0<' in html


def test_another_users_notification_cannot_be_marked_read(web, make):
    make.request("requester@undp.jof.example", status="approved")
    owner = web("requester@undp.jof.example")
    note_id = re.search(r'action="/notifications/(\d+)/read"', text(owner.get("/notifications"))).group(1)
    r = post_form(web("head@undp.jof.example"), f"/notifications/{note_id}/read", {}, page="/notifications")
    assert r.status_code == 404


# --- authorization of the admin pages ---------------------------------------------------


def test_auditor_posting_any_admin_form_is_refused(app, web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    undp_requester = make.user("requester@undp.jof.example")
    c = web("auditor@jof.example")
    token = csrf_from(text(c.get("/")))
    forms = [
        ("/admin/agencies/new", {"code": "UNICEF", "name": "UNICEF", "country": "BR", "joined_on": "2026-01-01"}),
        ("/admin/agencies/UNDP", {"name": "Renamed", "country": "BR", "joined_on": "2020-01-01"}),
        ("/admin/users/new", {"email": "x@jof.example", "name": "X", "roles": "manager",
                              "password": "a-long-password-1"}),
        (f"/admin/users/{undp_requester.id}", {"name": "Renamed", "roles": "requester"}),
        ("/rates", {"currency": "BRL", "month": "2026-01", "units_per_usd": "9.000000"}),
        (f"/requests/{ref}/transitions", {"action": "approve", "version": "2"}),
    ]
    with app.app_context():
        events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    for url, data in forms:
        r = c.post(url, data={**data, "csrf_token": token})
        assert r.status_code == 403, url
    r = c.post("/rates/import", data={"csrf_token": token,
                                      "file": (io.BytesIO(b"currency,month,units_per_usd\nBRL,2026-01,9\n"), "r.csv")},
               content_type="multipart/form-data")
    assert r.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before
        assert db.session.scalar(select(Agency.name).where(Agency.code == "UNDP")) != "Renamed"


@pytest.mark.parametrize("path", ["/admin/agencies", "/admin/agencies/new", "/admin/users", "/admin/users/new"])
@pytest.mark.parametrize("email", ["auditor@jof.example", "manager@jof.example", "head@undp.jof.example"])
def test_admin_pages_are_403_for_everyone_but_the_administrator(web, path, email):
    assert web(email).get(path).status_code == 403


def test_rates_and_audit_pages_are_403_for_agency_users(web, demo):
    c = web("requester@undp.jof.example")
    assert c.get("/rates").status_code == 403
    assert c.get("/audit").status_code == 403


# --- administration: agencies -----------------------------------------------------------


def test_admin_creating_an_agency_with_a_bad_country_gets_422_and_keeps_the_input(app, web, demo):
    c = web("admin@jof.example")
    r = post_form(c, "/admin/agencies/new", {
        "code": "UNICEF", "name": "United Nations Children's Fund", "country": "Brazil",
        "membership": "partner", "joined_on": "2026-02-01", "approval_limit_usd": "25000.00",
        "address": "Brasília"})
    assert r.status_code == 422
    html = text(r)
    assert "ISO 3166 alpha-2 code, e.g. BR." in html
    assert 'id="country-error"' in html and 'aria-invalid="true"' in html
    assert 'value="BRAZIL"' not in html and 'value="Brazil"' in html  # what was typed
    assert 'value="UNICEF"' in html and 'value="25000.00"' in html
    assert "United Nations Children&#39;s Fund" in html
    assert '<option value="partner" selected>' in html
    with app.app_context():
        assert db.session.scalar(select(Agency.id).where(Agency.code == "UNICEF")) is None


def test_admin_creates_and_edits_an_agency(app, web, demo):
    c = web("admin@jof.example")
    r = post_form(c, "/admin/agencies/new", {
        "code": "unicef", "name": "United Nations Children's Fund", "country": "br",
        "membership": "member", "joined_on": "2026-02-01", "approval_limit_usd": "",
        "address": "", "headcount_year": "2026", "headcount": "40"})
    assert r.status_code == 302, text(r)
    assert "UNICEF" in text(c.get("/admin/agencies"))
    form = text(c.get("/admin/agencies/UNICEF"))
    assert 'value="10000.00"' in form  # the default approval limit
    r = post_form(c, "/admin/agencies/UNICEF", {
        "name": "UNICEF Brazil", "country": "BR", "membership": "partner", "joined_on": "2026-02-01",
        "left_on": "", "approval_limit_usd": "5000.00", "address": "SEPN 510",
        "alternate_email": "", "headcount_year": "2027", "headcount": "42"})
    assert r.status_code == 302, text(r)
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "UNICEF"))
        assert (agency.name, agency.membership, str(agency.approval_limit_usd)) == ("UNICEF Brazil", "partner", "5000.00")
        assert {(h.year, h.headcount) for h in agency.headcounts} == {(2026, 40), (2027, 42)}


def test_saving_an_agency_form_unchanged_changes_nothing(app, web, demo):
    c = web("admin@jof.example")
    page = text(c.get("/admin/agencies/UNAIDS"))
    fields = dict(re.findall(r'<input class="form-control[^"]*" id="(\w+)" name="\w+" type="\w+" value="([^"]*)"', page))
    fields["membership"] = "partner"
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "UNAIDS"))
        before = (agency.name, agency.country, agency.joined_on, agency.approval_limit_usd,
                  [(h.year, h.headcount) for h in agency.headcounts])
    fields["headcount"] = ""  # a year without a headcount is not an instruction
    r = c.post("/admin/agencies/UNAIDS", data={**fields, "csrf_token": csrf_from(page)})
    assert r.status_code == 302, text(r)
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "UNAIDS"))
        assert (agency.name, agency.country, agency.joined_on, agency.approval_limit_usd,
                [(h.year, h.headcount) for h in agency.headcounts]) == before
        assert agency.membership == "partner"


def test_editing_an_agency_with_an_outside_alternate_is_refused_with_the_input_kept(web, demo):
    c = web("admin@jof.example")
    r = post_form(c, "/admin/agencies/UNDP", {
        "name": "UNDP Brazil", "country": "BR", "membership": "member", "joined_on": "2020-01-01",
        "approval_limit_usd": "10000.00", "alternate_email": "requester@unfpa.jof.example"})
    assert r.status_code == 422
    html = text(r)
    assert "The alternate must be a user of UNDP." in html
    assert 'value="requester@unfpa.jof.example"' in html and 'value="UNDP Brazil"' in html


# --- administration: users --------------------------------------------------------------


def test_admin_user_list_filters_by_agency_and_paginates(web, demo):
    c = web("admin@jof.example")
    html = text(c.get("/admin/users?agency=UNFPA"))
    emails = set(re.findall(r"<td>([^<@]+@[^<]+)</td>", html))
    assert emails == {"requester@unfpa.jof.example", "head@unfpa.jof.example"}
    facility = text(c.get("/admin/users?agency=_facility"))
    assert "manager@jof.example" in facility and "jof.example</td>" in facility
    assert "requester@undp.jof.example" not in facility
    everyone = text(c.get("/admin/users"))
    assert "23 in total · page 1 of 1" in everyone


def test_admin_creates_a_user_and_errors_keep_the_input(app, web, demo):
    c = web("admin@jof.example")
    r = post_form(c, "/admin/users/new", {
        "email": "officer2@jof.example", "name": "Second Officer", "agency": "",
        "roles": "officer", "locale": "pt_BR", "password": "short"})
    assert r.status_code == 422
    html = text(r)
    assert "An officer works on at least one service line." in html
    assert "Use at least 12 characters." in html
    assert 'value="officer2@jof.example"' in html and 'value="Second Officer"' in html
    assert 'id="roles-officer" name="roles" value="officer" checked' in html
    assert "short" not in re.findall(r'name="password"[^>]*', html)[0]  # never echoed
    r = post_form(c, "/admin/users/new", {
        "email": "officer2@jof.example", "name": "Second Officer", "agency": "",
        "roles": "officer", "service_lines": ["travel", "ict"], "locale": "pt_BR",
        "password": "a-long-enough-password"})
    assert r.status_code == 302, text(r)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "officer2@jof.example"))
        assert user.roles == {"officer"} and user.service_lines == {"travel", "ict"}
        assert user.locale == "pt_BR" and user.agency_id is None


def test_deactivating_a_user_asks_for_confirmation_then_ends_their_access(app, web, demo):
    target = web("requester@unesco.jof.example")
    assert target.get("/").status_code == 200
    user_id = demo_user_id(app, "requester@unesco.jof.example")
    c = web("admin@jof.example")
    form = {"name": "UNESCO Requester", "roles": "requester", "locale": "en"}  # "active" unticked
    r = post_form(c, f"/admin/users/{user_id}", form)
    assert r.status_code == 422
    assert 'id="confirm_deactivate-error"' in text(r)
    with app.app_context():
        assert db.session.get(User, user_id).active is True
    r = post_form(c, f"/admin/users/{user_id}", {**form, "confirm_deactivate": "yes"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).active is False
    assert target.get("/").status_code == 302  # their session is over
    assert "Deactivated" in text(c.get("/admin/users?agency=UNESCO"))


def test_admin_cannot_deactivate_themselves(app, web, demo):
    admin_id = demo_user_id(app, "admin@jof.example")
    c = web("admin@jof.example")
    r = post_form(c, f"/admin/users/{admin_id}", {"name": "Administrator", "roles": "admin",
                                                   "locale": "en", "confirm_deactivate": "yes"})
    assert r.status_code == 409
    assert "You cannot deactivate your own account." in text(r)


def demo_user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


# --- exchange rates ---------------------------------------------------------------------


def csv_upload(client, body: bytes):
    token = csrf_from(text(client.get("/rates")))
    return client.post("/rates/import", data={"csrf_token": token, "file": (io.BytesIO(body), "rates.csv")},
                       content_type="multipart/form-data")


def test_rates_csv_with_a_bad_row_shows_the_report_and_imports_nothing(app, web, demo):
    c = web("admin@jof.example")
    with app.app_context():
        before = db.session.scalar(select(func.count(ExchangeRate.id)))
    r = csv_upload(c, b"currency,month,units_per_usd\nARS,2026-01,850.5\nXYZ,2026-13,-1\n")
    assert r.status_code == 422
    html = text(r)
    assert "1 line(s) rejected; nothing was imported." in html
    assert "Line 3" in html and "Expected a month as YYYY-MM, from 2000-01 to 2099-12." in html and "Unknown or base currency" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(ExchangeRate.id))) == before
        assert db.session.scalar(select(ExchangeRate.id).where(ExchangeRate.currency == "ARS")) is None


def test_rates_csv_import_and_single_rate_by_the_administrator(app, web, demo):
    c = web("admin@jof.example")
    r = csv_upload(c, b"\xef\xbb\xbfcurrency,month,units_per_usd\nARS,2026-01,850.5\nCLP,2026-01,940\n")
    assert r.status_code == 302, text(r)
    r = post_form(c, "/rates", {"currency": "eur", "month": "2026-02", "units_per_usd": "0.921234"})
    assert r.status_code == 302, text(r)
    html = text(c.get("/rates"))
    assert "850.50" in html and "0.921234" in html  # rates with their own decimals, grouped
    assert 'id="file"' in html  # the administrator sees the forms


def test_a_bad_single_rate_re_renders_with_the_message_and_input(web, demo):
    c = web("admin@jof.example")
    r = post_form(c, "/rates", {"currency": "BRL", "month": "2026/02", "units_per_usd": "5.1"})
    assert r.status_code == 422
    html = text(r)
    assert "Expected a month as YYYY-MM, from 2000-01 to 2099-12." in html and 'value="2026/02"' in html and 'value="5.1"' in html


def test_manager_and_auditor_read_rates_without_the_forms(web, demo):
    for email in ("manager@jof.example", "auditor@jof.example"):
        r = web(email).get("/rates")
        assert r.status_code == 200
        assert "5.40" in text(r) and "5.400000" not in text(r) and 'id="file"' not in text(r)
    c = web("manager@jof.example")
    r = post_form(c, "/rates", {"currency": "BRL", "month": "2026-02", "units_per_usd": "5.1"})
    assert r.status_code == 403


# --- audit trail ------------------------------------------------------------------------


def test_audit_page_filters_by_actor_action_and_object(web, make):
    ref = make.request("requester@undp.jof.example", status="approved")
    c = web("auditor@jof.example")
    html = text(c.get(f"/audit?action=request.&object_id={ref}"))
    actions = re.findall(r"<code>([^<]+)</code>", html)
    assert actions == ["request.approve", "request.submit", "request.create"]
    html = text(c.get(f"/audit?actor=manager@jof.example&object_type=service_request&object_id={ref}"))
    assert re.findall(r"<code>([^<]+)</code>", html) == ["request.approve"]
    assert "submitted" in html and "approved" in html  # before → after, compactly
    assert 'value="manager@jof.example"' in html  # the filters stay in the form


def test_audit_page_filters_by_date_and_rejects_a_bad_date(web, make):
    make.request("requester@undp.jof.example", status="submitted")
    c = web("auditor@jof.example")
    today = utcnow().date()
    assert "request.submit" in text(c.get(f"/audit?since={today}&until={today}"))
    assert "<code>" not in text(c.get(f"/audit?since={today + timedelta(days=1)}"))
    r = c.get("/audit?since=yesterday")
    assert r.status_code == 422
    assert 'id="since-error"' in text(r)


# --- language and password ---------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_catalog():
    """``make translations`` compiles the catalog; do it here too when it is missing or old."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = TRANSLATIONS / "pt_BR" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as src:
            catalog = read_po(src, locale="pt_BR")
        with mo.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=True)


def test_switching_the_language_to_portuguese(app, web, make, compiled_catalog):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("requester@undp.jof.example")
    assert "My agency's requests" in text(c.get("/"))
    r = post_form(c, "/language", {"locale": "pt_BR", "next": f"/requests/{ref}"})
    assert r.status_code == 302 and r.headers["Location"] == f"/requests/{ref}"
    html = text(c.get("/"))
    assert 'lang="pt-BR"' in html
    assert "Solicitações da minha agência" in html and "Sair" in html
    assert "My agency's requests" not in html
    assert "Enviada" in html  # the status badge
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == "requester@undp.jof.example")) == "pt_BR"


def test_an_unknown_language_is_refused(web, demo):
    r = post_form(web("requester@undp.jof.example"), "/language", {"locale": "xx"}, page="/")
    assert r.status_code == 422


def test_a_too_short_new_password_is_refused_with_a_message(web, demo):
    c = web("requester@undp.jof.example")
    r = post_form(c, "/password", {"current_password": TEST_PASSWORD, "new_password": "short",
                                   "confirm_password": "short"})
    assert r.status_code == 422
    assert "Use at least 12 characters." in text(r) and 'id="new_password-error"' in text(r)
    r = post_form(c, "/password", {"current_password": TEST_PASSWORD, "new_password": "long-enough-pass-1",
                                   "confirm_password": "long-enough-pass-2"})
    assert r.status_code == 422
    assert "The two new passwords differ." in text(r)
    r = post_form(c, "/password", {"current_password": "wrong-password-000", "new_password": "long-enough-pass-1",
                                   "confirm_password": "long-enough-pass-1"})
    assert r.status_code == 422
    assert "The current password is wrong." in text(r)
    assert c.get("/").status_code == 200  # still logged in after failures


def test_a_password_change_ends_every_session_and_asks_to_log_in_again(app, web, client, demo):
    other = web("requester@undp.jof.example")
    c = web("requester@undp.jof.example")
    r = post_form(c, "/password", {"current_password": TEST_PASSWORD, "new_password": "a-brand-new-password",
                                   "confirm_password": "a-brand-new-password"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    login = text(c.get(r.headers["Location"]))
    assert "Your password was changed. Log in again with the new password." in login
    assert c.get("/").status_code == 302
    assert other.get("/").status_code == 302  # the other session is over too
    token = csrf_from(text(client.get("/login")))
    r = client.post("/login", data={"email": "requester@undp.jof.example", "password": "a-brand-new-password",
                                    "csrf_token": token})
    assert r.status_code == 302


def test_a_post_without_csrf_token_is_refused(app, web, make):
    ref = make.request("requester@undp.jof.example", status="submitted")
    c = web("manager@jof.example")
    r = c.post(f"/requests/{ref}/transitions", data={"action": "approve", "version": "2"})
    assert r.status_code == 400
    assert "The form expired or was not sent from JOF." in text(r)
    with app.app_context():
        assert db.session.scalar(select(workflow.ServiceRequest.status).where(
            workflow.ServiceRequest.reference == ref)) == "submitted"


def test_base_layout_shows_user_navigation_and_session_controls(web, demo):
    html = text(web("admin@jof.example").get("/"))
    assert 'data-testid="current-user">admin@jof.example<' in html
    assert 'data-testid="current-user-name">Administrator<' in html
    for path in ("/admin/agencies", "/admin/users", "/rates", "/audit", "/notifications", "/password"):
        assert f'href="{path}"' in html
    assert 'action="/logout"' in html and 'action="/language"' in html
    requester = text(web("requester@undp.jof.example").get("/"))
    assert 'href="/admin/users"' not in requester and 'href="/audit"' not in requester
