"""Procurement pages: requesters file and follow requisitions, officers see what they act on."""

from __future__ import annotations

from tests.conftest import csrf_from
from tests.procurement.conftest import LAPTOP, requisition_body


def test_a_requester_files_a_requisition_through_the_form(web):
    c = web("requester@undp.jof.example")
    page = c.get("/procurement/requisitions/new").get_data(as_text=True)
    r = c.post("/procurement/requisitions/new", data={
        "csrf_token": csrf_from(page), "title": "Laptops for the programme team", "budget_code": "B-1",
        "lines-0-description": "Laptop", "lines-0-unspsc": LAPTOP, "lines-0-quantity": "3",
        "lines-0-unit": "each", "lines-0-unit_price": "1200.00", "lines-0-currency": "USD"})
    assert r.status_code == 302
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "USD 3,600.00" in html and "Laptops for the programme team" in html
    assert "PRC-" in c.get("/procurement/").get_data(as_text=True)


def test_a_wrong_line_is_shown_next_to_the_field_and_the_input_kept(web):
    c = web("requester@undp.jof.example")
    page = c.get("/procurement/requisitions/new").get_data(as_text=True)
    r = c.post("/procurement/requisitions/new", data={
        "csrf_token": csrf_from(page), "title": "Laptops", "lines-0-description": "Laptop",
        "lines-0-unspsc": "123", "lines-0-quantity": "3", "lines-0-unit": "each",
        "lines-0-unit_price": "1200.00", "lines-0-currency": "USD"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "A UNSPSC commodity code has 8 digits" in html
    assert 'value="Laptops"' in html and 'value="123"' in html


def test_another_agencys_requisition_page_is_404(flow, web):
    ref = flow.file("undp", requisition_body())
    assert web("requester@unfpa.jof.example").get(f"/procurement/requisitions/{ref}").status_code == 404
    html = web("requester@undp.jof.example").get(f"/procurement/requisitions/{ref}").get_data(as_text=True)
    assert ref in html
    # the spine's request page links back to the requisition's details
    assert f"/procurement/requisitions/{ref}" in web("requester@undp.jof.example").get(f"/requests/{ref}").get_data(as_text=True)


def test_officer_pages_render_and_agency_users_cannot_open_tenders(flow, web):
    ref = flow.approved("unfpa", requisition_body("5", "1000.00"))
    officer = web("procurement@jof.example")
    assert ref in officer.get("/procurement/tenders/new").get_data(as_text=True)
    tender = flow.tender([ref])
    html = officer.get(f"/procurement/tenders/{tender['id']}").get_data(as_text=True)
    assert tender["number"] in html and "publish-form" in html
    for path in ("/procurement/suppliers", "/procurement/purchase-orders", "/procurement/ltas", "/procurement/"):
        assert officer.get(path).status_code == 200, path
    assert web("requester@unfpa.jof.example").get(f"/procurement/tenders/{tender['id']}").status_code == 403
