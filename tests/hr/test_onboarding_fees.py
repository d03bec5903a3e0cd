"""A recruitment from request to onboarding over the API: the checklist holds back
``complete``, the ICT account step files the new person's e-mail account with ICT
(linked both ways), and the completed recruitment's one fee, priced by contract type
(a roster hire cheaper), is on the agency's next invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from jof.core.calendar import next_month
from jof.core.timeutil import clock_at
from jof.hr.models import ONBOARDING_STEPS
from tests.hr.conftest import HEAD, HR, MANAGER, REQUESTER, candidate

STEPS = [s for s in ONBOARDING_STEPS if s != "ict_account"]


def offered(hr, **over) -> tuple[str, dict]:
    ref, (ana,) = hr.short_listed([candidate("Ana Souza", years=8)], **over)
    hr.score(ref, ana["id"], "80", "70", "90")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    hr.must(HEAD, ref, "select", payload={"application_id": ana["id"]})
    hr.must(HR, ref, "offer")
    return ref, ana


def onboard(hr, ref: str, starts_on: date) -> dict:
    for step in STEPS:
        r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/onboarding/{step}", json={"note": "ok"})
        assert r.status_code == 201, r.get_json()
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/onboarding/ict_account",
                        json={"starts_on": starts_on.isoformat()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_recruitment_from_request_to_onboarding_with_the_fee_on_the_next_invoice(hr):
    ref, _ana = offered(hr)
    refused = hr.move(HR, ref, "complete")
    assert refused.status_code == 409
    assert "offer accepted, medical clearance, security clearance, id badge, ict account" \
        in refused.get_json()["detail"]

    first_day = date.today() + timedelta(days=14)
    ict_step = onboard(hr, ref, first_day)
    ics = ict_step["ict_reference"]
    assert ict_step["done"] is True and ics.startswith("ICS-")
    checklist = hr.as_(HEAD).get(f"/api/v1/hr/recruitments/{ref}/onboarding").get_json()
    assert [(s["step"], s["done"]) for s in checklist] == [(s, True) for s in ONBOARDING_STEPS]

    # ICT's side: a draft e-mail account in UNDP's name for the recruitment's requester,
    # pointing back at the recruitment; the agency submits it (it pays for the seat).
    subs = hr.as_(REQUESTER).get("/api/v1/ict/subscriptions").get_json()["items"]
    sub = next(s for s in subs if s["reference"] == ics)
    assert (sub["filed_for"], sub["service"], sub["seats"], sub["status"], sub["requester"], sub["starts_on"]) \
        == (ref, "email_account", 1, "draft", REQUESTER, first_day.isoformat())
    assert hr.must(REQUESTER, ics, "submit")["status"] == "submitted"

    assert hr.must(HR, ref, "complete")["status"] == "completed"

    manager = hr.as_(MANAGER)
    charges = manager.get("/api/v1/billing/charges?agency=UNDP").get_json()["items"]
    fee = next(c for c in charges if c["item_code"] == "recruitment_fixed_term")
    assert fee["amount"] == "1500.00" and fee["service_line"] == "hr"

    delivered = date.fromisoformat(fee["delivered_on"])
    month = delivered.strftime("%Y-%m")
    # The month is billed once it is over: the manager closes it early next month.
    with clock_at(datetime.combine(next_month(delivered), time(15), UTC)):
        closed = manager.post(f"/api/v1/billing/periods/{month}/close")
        assert closed.status_code == 200, closed.get_json()
        drafts = manager.get(f"/api/v1/billing/invoices?period={month}&agency=UNDP").get_json()["items"]
        assert len(drafts) == 1
        issued = manager.post(f"/api/v1/billing/invoices/{drafts[0]['id']}/issue")
        assert issued.status_code == 200, issued.get_json()
    number = issued.get_json()["number"]
    invoice = hr.as_(HEAD).get(f"/api/v1/billing/invoices/{number}").get_json()
    lines = [(ln["service_line"], ln["item_code"], ln["amount"]) for ln in invoice["lines"]]
    assert ("hr", "recruitment_fixed_term", "1500.00") in lines


def test_onboarding_steps_wait_for_the_offer(hr):
    ref, _apps = hr.short_listed([candidate("Ana Souza", years=8)])
    early = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/onboarding/offer_accepted", json={})
    assert early.status_code == 409 and "once the offer is made" in early.get_json()["detail"]


def test_onboarding_refusals_write_nothing(hr):
    ref, _ana = offered(hr)
    base = f"/api/v1/hr/recruitments/{ref}/onboarding"
    assert hr.as_(HEAD).post(f"{base}/offer_accepted", json={}).status_code == 403
    assert hr.as_("requester@unfpa.jof.example").post(f"{base}/offer_accepted", json={}).status_code == 404
    assert hr.as_(HR).post(f"{base}/astrology", json={}).status_code == 404
    no_day = hr.as_(HR).post(f"{base}/ict_account", json={})
    assert no_day.status_code == 422 and "starts_on" in no_day.get_json()["errors"]
    assert hr.as_(HR).post(f"{base}/offer_accepted", json={}).status_code == 201
    assert hr.as_(HR).post(f"{base}/offer_accepted", json={}).status_code == 409
    done = [s["step"] for s in hr.as_(HR).get(base).get_json() if s["done"]]
    assert done == ["offer_accepted"]
    subs = hr.as_(REQUESTER).get("/api/v1/ict/subscriptions").get_json()["items"]
    assert all(s["filed_for"] is None for s in subs)


@pytest.mark.parametrize("contract, item, amount", [("temporary", "recruitment_temporary", "900.00"),
                                                    ("individual_contractor", "recruitment_individual_contractor",
                                                     "500.00")])
def test_the_fee_is_priced_by_contract_type(hr, contract, item, amount):
    ref, _ana = offered(hr, contract_type=contract)
    onboard(hr, ref, date.today() + timedelta(days=7))
    hr.must(HR, ref, "complete")
    charges = hr.as_(MANAGER).get("/api/v1/billing/charges?agency=UNDP").get_json()["items"]
    assert [(c["item_code"], c["amount"]) for c in charges if c["service_line"] == "hr"] == [(item, amount)]
