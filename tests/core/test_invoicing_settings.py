"""The facility's bank details: kept by the manager or the administrator, checked,
audited, and printed on every invoice."""

from __future__ import annotations

from sqlalchemy import select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.invoicing_settings import iban_valid
from jof.core.people import Facility
from tests.conftest import csrf_from

GOOD = {"bank_name": "Banco Exemplo", "bank_account_holder": "JOF Brazil",
        "bank_account": "br15 0000 0000 0000 1093 2840 814p 2", "bank_swift": "exmpbrdf",
        "payment_reference": "JOF {invoice} {agency}"}


def post(client, data: dict):
    token = csrf_from(client.get("/settings/invoicing").get_data(as_text=True))
    return client.post("/settings/invoicing", data={**data, "csrf_token": token})


def facility(app) -> Facility:
    with app.app_context():
        row = db.session.get(Facility, 1)
        db.session.expunge(row)
        return row


def test_iban_check_digits_catch_a_mistyped_character():
    assert iban_valid("GB82WEST12345698765432")  # the ISO 13616 example
    assert not iban_valid("GB82WEST12345698765433")


def test_manager_saves_bank_details_normalised_and_audited(app, web):
    r = post(web("manager@jof.example"), GOOD)
    assert r.status_code == 302
    row = facility(app)
    assert row.bank_account == "BR15 0000 0000 0000 1093 2840 814P 2" and row.bank_swift == "EXMPBRDF"
    assert row.payment_reference_for("JOF-2026-00008", "UNDP") == "JOF JOF-2026-00008 UNDP"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "facility.bank_details")).one()
        assert event.after["bank_swift"] == "EXMPBRDF" and event.before["bank_swift"] == "DEMOBRDFXXX"


def test_bad_bank_details_rerender_with_messages_and_input_kept_and_change_nothing(app, web):
    before = facility(app)
    bad = {**GOOD, "bank_account": "BR16 0000 0000 0000 1093 2840 814P 2", "bank_swift": "12",
           "payment_reference": "{agency} only"}
    r = post(web("admin@jof.example"), bad)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "check digits do not match" in html and "8 or 11 letters" in html and "Include {invoice}" in html
    assert 'value="BR16 0000 0000 0000 1093 2840 814P 2"' in html
    assert facility(app).bank_account == before.bank_account


def test_unknown_placeholder_in_the_payment_reference_is_refused(web):
    r = post(web("manager@jof.example"), {**GOOD, "payment_reference": "{invoice} {amount}"})
    assert r.status_code == 422 and "Only {invoice} and {agency}" in r.get_data(as_text=True)


def test_agency_users_cannot_see_or_change_the_bank_details(web):
    c = web("requester@undp.jof.example")
    assert c.get("/settings/invoicing").status_code == 403
    token = csrf_from(c.get("/").get_data(as_text=True))
    assert c.post("/settings/invoicing", data={**GOOD, "csrf_token": token}).status_code == 403


def test_auditor_reads_the_bank_details_without_a_form_and_cannot_save(app, web):
    c = web("auditor@jof.example")
    r = c.get("/settings/invoicing")
    assert r.status_code == 200 and "DEMOBRDFXXX" in r.get_data(as_text=True)
    assert ">Save</button>" not in r.get_data(as_text=True) and "readonly" in r.get_data(as_text=True)
    assert post(c, GOOD).status_code == 403
    assert facility(app).bank_swift == "DEMOBRDFXXX"

