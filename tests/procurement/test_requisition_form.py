"""The requisition form guides the requester: any number of lines, submit at once or keep
a draft and edit it, a date needed by that is not past, messages that name the line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from jof.core.audit import AuditEvent
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.workflow import ServiceRequest
from tests.conftest import csrf_from
from tests.procurement.conftest import LAPTOP, requisition_body

REQUESTER = "requester@undp.jof.example"
NEW = "/procurement/requisitions/new"


def _line(n: int, description="Laptop", qty="2", price="1200.00", currency="USD") -> dict:
    return {f"lines-{n}-description": description, f"lines-{n}-unspsc": LAPTOP, f"lines-{n}-quantity": qty,
            f"lines-{n}-unit": "each", f"lines-{n}-unit_price": price, f"lines-{n}-currency": currency}


def _post(c, path: str, intent: str = "draft", **fields):
    token = csrf_from(c.get(path).get_data(as_text=True))
    return c.post(path, data={"csrf_token": token, "title": "Laptops", "intent": intent, **fields})


def _status(app, ref: str) -> str:
    with app.app_context():
        return db.session.scalar(select(ServiceRequest.status).where(ServiceRequest.reference == ref))


def _ref(r) -> str:
    return r.headers["Location"].rsplit("/", 1)[1]


def test_submit_files_and_submits_in_one_step(app, web):
    c = web(REQUESTER)
    r = _post(c, NEW, "submit", **_line(0))
    assert r.status_code == 302
    assert _status(app, _ref(r)) == "submitted"


def test_save_draft_keeps_a_draft_the_requester_can_edit_and_submit_later(app, web):
    c = web(REQUESTER)
    ref = _ref(_post(c, NEW, "draft", **_line(0)))
    assert _status(app, ref) == "draft"
    page = c.get(f"/procurement/requisitions/{ref}").get_data(as_text=True)
    assert 'data-testid="edit"' in page and "(submit, cancel)" not in page
    edit = f"/procurement/requisitions/{ref}/edit"
    form = c.get(edit).get_data(as_text=True)
    assert 'value="Laptop"' in form and 'value="1200"' in form
    version = form.split('name="version" value="', 1)[1].split('"', 1)[0]
    r = _post(c, edit, "submit", version=version, **_line(0), **_line(1, "Docking station", "2", "150.00"))
    assert r.status_code == 302 and _status(app, ref) == "submitted"
    html = c.get(f"/procurement/requisitions/{ref}").get_data(as_text=True)
    assert "Docking station" in html and "USD 2,700.00" in html
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "procurement.requisition.update")).all()
    assert actions == ["procurement.requisition.update"]


def test_a_stale_edit_is_refused_with_the_input_kept(app, web):
    c = web(REQUESTER)
    ref = _ref(_post(c, NEW, "draft", **_line(0)))
    edit = f"/procurement/requisitions/{ref}/edit"
    version = c.get(edit).get_data(as_text=True).split('name="version" value="', 1)[1].split('"', 1)[0]
    assert _post(c, edit, "draft", version=version, **_line(0, qty="3")).status_code == 302
    r = _post(c, edit, "draft", version=version, **_line(0, qty="9"))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Someone changed this requisition" in html and 'value="9"' in html


def test_a_submitted_requisition_can_no_longer_be_edited(app, web):
    c = web(REQUESTER)
    ref = _ref(_post(c, NEW, "submit", **_line(0)))
    r = c.get(f"/procurement/requisitions/{ref}/edit")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/procurement/requisitions/{ref}")
    assert 'data-testid="edit"' not in c.get(f"/procurement/requisitions/{ref}").get_data(as_text=True)


def test_another_agency_cannot_open_the_edit_page(web):
    ref = _ref(_post(web(REQUESTER), NEW, "draft", **_line(0)))
    assert web("requester@unfpa.jof.example").get(f"/procurement/requisitions/{ref}/edit").status_code == 404


def test_a_date_needed_by_in_the_past_is_refused_in_the_form_and_the_api(app, web, api):
    with app.app_context():
        yesterday = (local_today() - timedelta(days=1)).isoformat()
    r = _post(web(REQUESTER), NEW, "draft", needed_by=yesterday, **_line(0))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "The date needed by cannot be in the past." in html and f'value="{yesterday}"' in html
    body = requisition_body()
    body["needed_by"] = yesterday
    r = api(REQUESTER).post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422 and "needed_by" in r.get_json()["errors"]


def test_a_past_needed_by_date_is_refused_in_portuguese_to_a_portuguese_reader(app, web):
    from jof.core import services
    from jof.core.people import User

    with app.app_context():
        yesterday = (local_today() - timedelta(days=1)).isoformat()
        requester = db.session.scalar(select(User).where(User.email == REQUESTER))
        services.set_locale(requester, "pt_BR", app.config["JOF_LANGUAGES"])
        db.session.commit()
    r = _post(web(REQUESTER), NEW, "draft", needed_by=yesterday, **_line(0))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Necessário até: A data de necessidade não pode estar no passado." in html
    assert "cannot be in the past" not in html


def test_lines_beyond_the_first_rows_are_kept_and_an_empty_row_is_dropped(app, web, api):
    c = web(REQUESTER)
    rows = {}
    for n in range(8):
        if n != 2:
            rows.update(_line(n, f"Item {n}", "1", "10.00"))
    r = _post(c, NEW, "draft", **rows)
    assert r.status_code == 302
    body = api(REQUESTER).get(f"/api/v1/procurement/requisitions/{_ref(r)}").get_json()
    assert [ln["description"] for ln in body["lines"]] == [f"Item {n}" for n in range(8) if n != 2]


def test_an_error_names_the_line_as_the_page_numbers_it(web):
    fields = {**_line(0), **_line(1), **_line(2)}
    fields["lines-2-quantity"] = ""
    fields["lines-1-unspsc"] = "123"
    r = _post(web(REQUESTER), NEW, "draft", **fields)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Line 3: enter a quantity." in html
    assert "Line 2, UNSPSC code: A UNSPSC commodity code has 8 digits" in html
    assert "lines.2.quantity" not in html and "lines.1.unspsc" not in html


def test_a_form_without_lines_asks_for_one(web):
    r = _post(web(REQUESTER), NEW, "draft")
    assert r.status_code == 422 and "Add at least one line." in r.get_data(as_text=True)


def test_add_a_line_without_javascript_redraws_the_form_with_one_more_row_and_the_input(web):
    r = _post(web(REQUESTER), NEW, "add_line", **_line(0), **_line(1), **_line(2))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'name="lines-3-description"' in html and html.count('value="Laptop"') == 3


@pytest.mark.browser
def test_in_the_browser_lines_are_added_removed_and_totalled_as_one_types(live_server, page, demo):
    from playwright.sync_api import expect

    from tests.conftest import TEST_PASSWORD

    page.goto(f"{live_server}/login")
    page.fill("#email", REQUESTER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.goto(f"{live_server}{NEW}")
    total = page.get_by_test_id("live-total")
    page.fill("#title", "Laptops and a local service")
    for key, value in (("description", "Laptop"), ("unspsc", LAPTOP), ("quantity", "2"), ("unit", "each"),
                       ("unit_price", "1200")):
        page.fill(f"#lines-0-{key}", value)
    expect(total).to_have_text("USD 2,400.00")  # the ISO code, as the server writes money
    page.click("#add-line")
    expect(page.locator("#lines-3-description")).to_be_focused()
    expect(page.locator("#lines-3-description")).to_have_attribute("aria-label", "Line 4: Description")
    for key, value in (("description", "Installation"), ("unspsc", LAPTOP), ("quantity", "1"), ("unit", "each"),
                       ("unit_price", "540")):
        page.fill(f"#lines-3-{key}", value)
    page.select_option("#lines-3-currency", "BRL")
    expect(total).to_contain_text("BRL 540.00")
    page.locator('tr[data-row="1"] .remove-line').click()
    expect(page.locator("#lines-1-description")).to_have_count(0)
    # The rows below the removed one move up; their labels say so.
    expect(page.locator("#lines-3-quantity")).to_have_attribute("aria-label", "Line 3: Quantity")
    expect(page.locator('tr[data-row="3"] .row-number')).to_have_text("3")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("status")).to_have_text("Submitted")
    expect(page.get_by_test_id("lines")).to_contain_text("Installation")


def test_only_the_requester_who_filed_the_draft_edits_it(web):
    ref = _ref(_post(web(REQUESTER), NEW, "draft", **_line(0)))
    for email in ("head@undp.jof.example", "manager@jof.example", "procurement@jof.example"):
        assert web(email).get(f"/procurement/requisitions/{ref}/edit").status_code == 403, email


def test_every_error_of_the_form_shows_in_one_round_and_an_empty_title_says_so_once(app, web, api):
    with app.app_context():
        yesterday = (local_today() - timedelta(days=1)).isoformat()
    c = web(REQUESTER)
    token = csrf_from(c.get(NEW).get_data(as_text=True))
    r = c.post(NEW, data={"csrf_token": token, "title": "", "intent": "draft", "needed_by": yesterday,
                          **_line(0, qty="abc")})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "The date needed by cannot be in the past." in html  # with the others, not on the next round
    assert "Line 1, quantity: enter a number" in html
    assert "Title: fill this in." in html
    assert "Title: enter between 1 and 200 characters." not in html
    body = requisition_body()
    body.update(title="", needed_by=yesterday)
    body["lines"][0]["quantity"] = "abc"
    r = api(REQUESTER).post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert set(errors) == {"title", "needed_by", "lines.0.quantity"}, errors
    assert errors["title"] == ["Must not be blank."], errors


@pytest.mark.parametrize("price", ["1e3", "1E+3", "2.5e2"])
def test_a_unit_price_in_exponent_form_is_refused_with_a_plain_message_in_the_form_and_the_api(app, web, api, price):
    r = _post(web(REQUESTER), NEW, "draft", **_line(0, price=price))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Line 1, estimated unit price: write the number in full (1000, not 1e3)" in html
    assert f'value="{price}"' in html  # the input is kept
    body = requisition_body()
    body["lines"][0]["unit_price"] = price
    r = api(REQUESTER).post("/api/v1/procurement/requisitions", json=body)
    assert r.status_code == 422
    assert r.get_json()["errors"]["lines.0.unit_price"] == ["Write the number in full, without an exponent."]
