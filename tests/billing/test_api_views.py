"""Billing through the API, the pages and the command line; agencies see only their own."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from jof.billing import invoices, pricing, services
from jof.billing.models import Invoice
from jof.core.db import db
from jof.governance import cost_sharing as governance
from jof.governance.models import Decision
from tests.billing.conftest import MONTH, agency, close, record, user
from tests.conftest import csrf_from

MANAGER = "manager@jof.example"


def _close_and_issue(app, month):
    with app.app_context():
        manager = user(MANAGER)
        services.close_period(manager, month.period)
        issued = invoices.issue_period(manager, month.period)
        db.session.commit()
        return {i.agency.code: i.number for i in issued}


def test_close_through_the_api_twice_reports_no_change(api, month):
    manager = api(MANAGER)
    r = manager.post(f"/api/v1/billing/periods/{MONTH:%Y-%m}/close")
    assert r.status_code == 200 and r.get_json()["changed"] is True
    assert len(r.get_json()["invoices"]) == 7
    r = manager.post(f"/api/v1/billing/periods/{MONTH:%Y-%m}/close")
    assert r.get_json()["changed"] is False and "nothing changed" in r.get_json()["message"]
    assert api("requester@undp.jof.example").post(f"/api/v1/billing/periods/{MONTH:%Y-%m}/close").status_code == 403


def test_agency_users_see_only_their_own_invoices(app, api, month):
    numbers = _close_and_issue(app, month)
    undp = api("requester@undp.jof.example")
    listed = undp.get("/api/v1/billing/invoices").get_json()
    assert [i["number"] for i in listed["items"]] == [numbers["UNDP"]]
    assert undp.get(f"/api/v1/billing/invoices/{numbers['UNFPA']}").status_code == 404
    assert undp.get(f"/api/v1/billing/invoices/{numbers['UNFPA']}.pdf").status_code == 404
    assert undp.get("/api/v1/billing/statements/UNFPA").status_code == 404
    r = undp.get(f"/api/v1/billing/invoices/{numbers['UNDP']}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    body = undp.get(f"/api/v1/billing/invoices/{numbers['UNDP']}").get_json()
    assert numbers["UNDP"] in text and f"USD {Decimal(body['total_usd']):,.2f}" in text
    assert body["status"] == "issued" and body["balance"] == body["total_usd"]
    charges = undp.get("/api/v1/billing/charges").get_json()
    assert charges["total"] > 0 and {c["agency"] for c in charges["items"]} == {"UNDP"}


def test_payments_and_credit_notes_through_the_api(app, api, month):
    numbers = _close_and_issue(app, month)
    manager = api(MANAGER)
    number = numbers["UNESCO"]
    total = manager.get(f"/api/v1/billing/invoices/{number}").get_json()["total_usd"]
    r = manager.post(f"/api/v1/billing/invoices/{number}/payments",
                     json={"paid_on": date.today().isoformat(), "amount": "100.00", "reference": "BB-77"})
    assert r.status_code == 201
    assert manager.get(f"/api/v1/billing/invoices/{number}").get_json()["status"] == "partially_paid"
    assert manager.post(f"/api/v1/billing/invoices/{number}/payments",
                        json={"paid_on": "2026-01-01", "amount": 100.0, "reference": "x"}).status_code == 422
    r = manager.post("/api/v1/billing/credit-notes", json={"invoice": number, "reason": "Seats over-counted"})
    assert r.status_code == 201, r.get_json()
    from decimal import Decimal

    assert Decimal(r.get_json()["amount"]) == Decimal(total)
    statement = manager.get("/api/v1/billing/statements/UNESCO").get_json()
    assert Decimal(statement["balance"]) == Decimal("-100.00")  # the payment is now owed back
    assert api("auditor@jof.example").post("/api/v1/billing/credit-notes",
                                           json={"invoice": number, "reason": "no"}).status_code == 403


def test_the_price_list_in_force_and_a_board_decision_adopting_a_new_version(app, api, month):
    r = api("requester@undp.jof.example").get("/api/v1/billing/price-list")
    assert r.status_code == 200
    items = {i["code"]: i for i in r.get_json()["items"]}
    assert items["ticket_issuance"]["amount"] == "35.0000" and items["rfq_process"]["amount"] == "350.0000"
    with app.app_context():
        from jof.governance import effects

        start = MONTH.replace(day=20)
        decision = Decision(title="Ticket fee 38", kind="price_list", status="closed", outcome="adopted",
                            payload={"effective_from": start.isoformat(),
                                     "items": [{"code": "ticket_issuance", "service_line": "travel",
                                                "method": "flat", "amount": "38.00"}]})
        decision.payload = effects.validate_payload("price_list", decision.payload)
        db.session.add(decision)
        db.session.flush()
        effects.apply_adopted(decision, user(MANAGER))
        db.session.commit()
        assert pricing.in_force(start).version == 2 and pricing.in_force(start - timedelta(days=1)).version == 1
        event = record("UNEP", "TRV-after", "ticket_issuance", "travel", on=start)
        db.session.commit()
        from jof.billing.models import Charge

        assert db.session.scalar(select(Charge.amount).where(Charge.event_id == event.id)) == 38
        assert "Price list version 2" in decision.effects[0].summary


def test_manager_pages_preview_close_render_zip_and_invoice_forms(app, web, month):
    browser = web(MANAGER)
    page = browser.get(f"/billing/periods?period={MONTH:%Y-%m}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "UNAIDS" in html and "Close the period" in html
    token = csrf_from(html)
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": f"{MONTH:%Y-%m}", "action": "close", "confirmed": "yes"})
    assert r.status_code == 302
    refused = browser.post("/billing/periods", data={"csrf_token": token, "period": f"{MONTH:%Y-%m}", "action": "issue"})
    assert refused.status_code == 422 and "Not issued" in refused.get_data(as_text=True)
    confirm = browser.get(f"/billing/periods/{MONTH:%Y-%m}/confirm/issue").get_data(as_text=True)
    first = re.search(r'name="first_number" value="([^"]*)"', confirm).group(1)
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": f"{MONTH:%Y-%m}", "action": "issue",
                                               "first_number": first})
    assert r.status_code == 302
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": f"{MONTH:%Y-%m}", "action": "render"})
    html = browser.get(f"/billing/periods?period={MONTH:%Y-%m}").get_data(as_text=True)
    assert "done" in html and "Download the ZIP" in html
    z = browser.get(f"/billing/periods/{MONTH:%Y-%m}.zip")
    names = zipfile.ZipFile(io.BytesIO(z.data)).namelist()
    assert len(names) == 7 and all(n.startswith("JOF-") for n in names)
    with app.app_context():
        inv_id = db.session.scalar(select(Invoice.id).where(Invoice.agency_id == agency("UNDP").id))
    r = browser.post(f"/billing/invoices/{inv_id}/payment",
                     data={"csrf_token": token, "paid_on": "", "amount": "abc", "reference": ""})
    assert r.status_code == 422 and 'value="abc"' in r.get_data(as_text=True)


def test_agency_pages_statement_and_other_agencies_404(app, web, month):
    _close_and_issue(app, month)
    with app.app_context():
        other = db.session.scalar(select(Invoice.id).where(Invoice.agency_id == agency("UNFPA").id))
        own = db.session.scalar(select(Invoice.id).where(Invoice.agency_id == agency("UNDP").id))
    browser = web("head@undp.jof.example")
    assert browser.get(f"/billing/invoices/{other}").status_code == 404
    assert browser.get(f"/billing/invoices/{own}").status_code == 200
    assert browser.get("/billing/statements/UNFPA").status_code == 404
    assert browser.get("/billing/periods").status_code == 403
    csv_text = browser.get("/billing/statements/UNDP.csv").get_data(as_text=True)
    assert csv_text.startswith("date,type,reference") and "JOF-" in csv_text
    pdf = browser.get("/billing/statements/UNDP.pdf")
    assert "Statement of account" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)


def test_cli_close_period_is_idempotent(app, month):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["billing", "close-period", f"{MONTH:%Y-%m}"])
    assert first.exit_code == 0 and "closed: 7 draft invoice(s)" in first.output
    again = runner.invoke(args=["billing", "close-period", f"{MONTH:%Y-%m}"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    bad = runner.invoke(args=["billing", "close-period", "2026-13"])
    assert bad.exit_code == 1


def test_a_failed_close_job_leaves_the_period_open_and_says_why(app, month):
    with app.app_context():
        record("UNEP", "X-unpriced", "mystery_service", "procurement")
        from jof.billing import jobs

        job = jobs.start(user(MANAGER), "close_period", month.period)
        db.session.commit()
        assert job.status == "failed" and "mystery_service" in job.message
        assert not services.is_closed(month.period)
        assert governance.recorded_shares(month.period) == []


def test_a_version_dated_earlier_in_the_open_month_reprices_the_unbilled_fees_after_it(app, month):
    """A ticket delivered on the 25th, then a version from the 20th adopted: the ticket is
    charged the new fee, like one delivered on the 26th; one from the 19th keeps the old."""
    from jof.billing.models import Charge
    from jof.governance import effects

    with app.app_context():
        before = record("UNEP", "TRV-19", "ticket_issuance", "travel", on=MONTH.replace(day=19))
        after = record("UNEP", "TRV-25", "ticket_issuance", "travel", on=MONTH.replace(day=25))
        db.session.commit()
        decision = Decision(title="Ticket fee 38", kind="price_list", status="closed", outcome="adopted",
                            payload=effects.validate_payload("price_list", {
                                "effective_from": MONTH.replace(day=20).isoformat(),
                                "items": [{"code": "ticket_issuance", "service_line": "travel",
                                           "method": "flat", "amount": "38.00"}]}))
        db.session.add(decision)
        db.session.flush()
        effects.apply_adopted(decision, user(MANAGER))
        db.session.commit()
        amounts = dict(db.session.execute(select(Charge.source_ref, Charge.amount).where(
            Charge.event_id.in_([before.id, after.id]))).all())
        assert amounts == {"TRV-19": Decimal("35.00"), "TRV-25": Decimal("38.00")}
        assert "1 unbilled charge(s) repriced" in decision.effects[0].summary


def test_absurd_invoice_ids_and_months_are_404_and_422_not_500(app, api, web, month):
    ids = close(app, month, issue=("UNDP",))
    manager = api(MANAGER)
    for ref in ("99999999999999999999999", "9" * 19, "%C2%B2", "%D9%A3", "-1", "0"):
        assert manager.get(f"/api/v1/billing/invoices/{ref}").status_code == 404, ref
        assert manager.get(f"/api/v1/billing/invoices/{ref}.pdf").status_code == 404, ref
    assert manager.get(f"/api/v1/billing/invoices/{ids['UNFPA']}").status_code == 200  # a draft by id still works
    r = manager.post("/api/v1/billing/credit-notes", json={"invoice": "99999999999999999999", "reason": "xyz"})
    assert r.status_code == 404
    for bad in ("9999-12", "1999-12", "2100-01", "0000-01"):
        r = manager.post(f"/api/v1/billing/periods/{bad}/close")
        assert r.status_code == 422 and "period" in r.get_json()["errors"], bad
        assert manager.get(f"/api/v1/billing/invoices?period={bad}").status_code == 422, bad
        assert manager.get(f"/api/v1/billing/charges?period={bad}").status_code == 422, bad
    browser = web(MANAGER)
    page = browser.get("/billing/periods?period=9999-12")
    assert page.status_code == 422 and "2099-12" in page.get_data(as_text=True)
    assert browser.get("/billing/periods/9999-12.zip").status_code == 422


def test_the_invoice_list_is_paged_like_every_list_and_a_bad_page_is_a_422(app, web, month):
    close(app, month)
    browser = web(MANAGER)
    html = browser.get("/billing/").get_data(as_text=True)
    assert 'data-testid="total">7 in total · page 1 of 1<' in html
    for bad in ("0", "abc", "99999999999999999999"):
        assert browser.get(f"/billing/?page={bad}").status_code == 422, bad


def test_a_portuguese_manager_reads_the_close_jobs_outcome_in_portuguese(app, web, month):
    """The job keeps its English record; the page words it from its result in the reader's
    language, the total with the Portuguese decimal comma."""
    with app.app_context():
        user(MANAGER).locale = "pt_BR"
        db.session.commit()
    browser = web(MANAGER)
    token = csrf_from(browser.get(f"/billing/periods?period={MONTH:%Y-%m}").get_data(as_text=True))
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": f"{MONTH:%Y-%m}", "action": "close",
                                               "confirmed": "yes"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    with app.app_context():
        total = sum((i.total_usd for i in db.session.scalars(select(Invoice).where(Invoice.period == MONTH))),
                    Decimal("0.00"))
    from jof.core.formatting import amount
    assert f"Período {MONTH:%Y-%m} fechado: 7 faturas em rascunho, total USD {amount(total, locale='pt_BR')}." in html
    assert "draft invoice" not in html and "Waiting for a worker" not in html
