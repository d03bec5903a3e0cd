"""The new-decision form builds each kind's effect from its typed sub-form (never JSON),
previews a cost-sharing key's shares with the system's allocation, and the decision page
tells the effect in words."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from jof.core.db import db
from jof.governance.models import Decision
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.governance.conftest import MANAGER, MEMBERS


def _text(response) -> str:
    return response.get_data(as_text=True)


def _post(client, kind: str, fields: dict):
    page = _text(client.get(f"/governance/decisions/new?kind={kind}"))
    data = {"title": f"A {kind} decision", "text": "", "kind": kind, "threshold": "simple_majority",
            "quorum_rule": "more_than_half", "csrf_token": csrf_from(page), **fields}
    return client.post("/governance/decisions/new", data=data)


def _payload_of(app, location: str) -> dict:
    decision_id = int(location.rsplit("/", 1)[1])
    with app.app_context():
        payload = db.session.scalar(select(Decision.payload).where(Decision.id == decision_id))
        db.session.remove()
    return payload


def _api_payload(api, kind: str, payload: dict) -> dict:
    r = api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": f"A {kind} decision by the API", "kind": kind, "payload": payload})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["payload"]


CASES = {
    "cost_sharing_key": (
        {"key_month": "2030-01", "key_equal": "40", "key_headcount": "35", "key_fixed": "25",
         "weight_UNDP": "3", "weight_UNEP": "1.5"},
        {"effective_from": "2030-01-01",
         "components": {"equal": "40", "headcount": "35", "fixed": "25",
                        "fixed_weights": {"UNDP": "3", "UNEP": "1.5"}}}),
    "procurement_manual": (
        {"manual_from": "2030-02-01", "manual_version": "POPP-2030-02", "manual_rfq_from_usd": "10000",
         "manual_itb_from_usd": "250000.00", "manual_committee_from_usd": "250000",
         "manual_micro_min_quotes": "1", "manual_rfq_min_quotes": "3", "manual_rfq_min_working_days": "5",
         "manual_itb_min_offers": "3", "manual_itb_min_working_days": "20", "manual_technical_minimum": "70",
         "manual_technical_weight": "60", "manual_financial_weight": "40"},
        {"effective_from": "2030-02-01", "version": "POPP-2030-02", "rfq_from_usd": "10000",
         "itb_from_usd": "250000.00", "committee_from_usd": "250000", "micro_min_quotes": "1",
         "rfq_min_quotes": "3", "rfq_min_working_days": "5", "itb_min_offers": "3",
         "itb_min_working_days": "20", "technical_minimum": "70", "technical_weight": "60",
         "financial_weight": "40"}),
    "membership": (
        {"member_action": "leave", "member_agency": "UNEP", "member_from": "2030-03-01"},
        {"effective_from": "2030-03-01", "action": "leave", "agency": "UNEP"}),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_sub_form_saves_the_payload_the_api_stores_for_the_same_input(app, web, api, kind):
    fields, same_as_json = CASES[kind]
    r = _post(web(MANAGER), kind, fields)
    assert r.status_code == 302, _text(r)[:3000]
    assert _payload_of(app, r.headers["Location"]) == _api_payload(api, kind, same_as_json)


def test_the_price_list_sub_form_starts_from_the_list_in_force_and_saves_what_the_api_stores(app, web, api):
    client = web(MANAGER)
    page = html.unescape(_text(client.get("/governance/decisions/new?kind=price_list")))
    rows = {int(n): v for n, v in re.findall(r'name="item-(\d+)-code" value="([^"]*)"', page)}
    in_force = {n: code for n, code in rows.items() if code}
    assert in_force, "the rows start from the price list in force"
    first = min(in_force)
    blank = max(rows)
    assert rows[blank] == ""
    fields = {f"item-{n}-{f}": v for n in rows for f, v in re.findall(
        rf'name="item-{n}-(\w+)" value="([^"]*)"', page) if f != "withdraw"}
    fields.update({f"item-{n}-method": re.search(
        rf'name="item-{n}-method".*?<option value="(\w+)" selected', page, re.S).group(1) for n in rows})
    fields.update({"prices_month": "2030-01", f"item-{first}-withdraw": "1",
                   f"item-{blank}-code": "NEW-1", f"item-{blank}-service_line": "ict",
                   f"item-{blank}-description": "Extra screen", f"item-{blank}-unit": "per month",
                   f"item-{blank}-method": "flat", f"item-{blank}-amount": "12880"})
    r = client.post("/governance/decisions/new", data={
        "title": "Price list 2030", "kind": "price_list", "threshold": "simple_majority",
        "quorum_rule": "more_than_half", "csrf_token": csrf_from(page), **fields})
    assert r.status_code == 302, _text(r)[:3000]
    items = []
    for n in sorted(rows):
        row = {f: fields.get(f"item-{n}-{f}", "") for f in ("code", "service_line", "description", "unit",
                                                           "method", "amount", "rate", "floor", "cap")}
        if row["code"] and n != first:
            items.append({f: v for f, v in row.items() if v})
    expected = _api_payload(api, "price_list", {"effective_from": "2030-01-01", "items": items,
                                                "withdraw": [in_force[first]]})
    saved = _payload_of(app, r.headers["Location"])
    assert saved == expected
    assert {"code": "NEW-1", "amount": "12880"}.items() <= next(i for i in saved["items"] if i["code"] == "NEW-1").items()
    page = html.unescape(_text(client.get(r.headers["Location"])))
    assert "A new price list version from 2030-01:" in page and "NEW-1 — Extra screen" in page
    assert "USD 12,880.00" in page and f"Withdrawn: {in_force[first]}" in page and "<pre" not in page


def test_a_bad_weight_is_named_on_its_field_and_the_input_is_kept(web):
    r = _post(web(MANAGER), "cost_sharing_key", {"key_month": "2030-01", "key_fixed": "100",
                                                "weight_UNDP": "heavy", "weight_UNEP": "2"})
    page = html.unescape(_text(r))
    assert r.status_code == 422
    assert "Weight of UNDP: enter a number from 0 to 1,000,000,000 with at most six decimals." in page
    assert re.search(r'is-invalid\s*"? type="text" id="weight_UNDP" name="weight_UNDP" value="heavy"', page) or \
        re.search(r'class="[^"]*is-invalid[^"]*" type="text" id="weight_UNDP" name="weight_UNDP" value="heavy"', page)
    assert 'name="weight_UNEP" value="2"' in page and 'name="key_fixed" value="100"' in page
    assert 'data-effect="cost_sharing_key">' in page  # the chosen sub-form is the one shown


def test_a_service_message_lands_on_the_field_the_person_sees(web):
    r = _post(web(MANAGER), "cost_sharing_key", {"key_month": "2030-01", "key_equal": "40", "key_headcount": "50"})
    page = html.unescape(_text(r))
    assert r.status_code == 422
    assert "Methods: Percentages must add up to 100 (they add up to 90)." in page
    assert "payload." not in page
    r = _post(web(MANAGER), "procurement_manual", {**CASES["procurement_manual"][0], "manual_financial_weight": "30",
                                                  "manual_rfq_min_quotes": "three"})
    page = html.unescape(_text(r))
    assert r.status_code == 422
    assert "Quotes for a request for quotations: A non-negative number" in page
    assert 'value="three"' in page and 'name="manual_financial_weight" value="30"' in page


def test_the_preview_shares_of_a_key_sum_to_exactly_one_hundred(web):
    client = web(MANAGER)
    r = client.get("/governance/decisions/key-preview.json", query_string={
        "key_equal": "33.33", "key_headcount": "33.33", "key_fixed": "33.34",
        "weight_UNDP": "1", "weight_UNEP": "2", "weight_UNFPA": "0.000001"})
    answer = r.get_json()
    assert r.status_code == 200 and answer["errors"] == []
    assert [s["code"] for s in answer["shares"]] == MEMBERS
    assert sum(Decimal(s["percent"]) for s in answer["shares"]) == Decimal("100.00")
    assert answer["total"] == "100.00"
    # the same preview on the page rendered without JavaScript
    page = _text(_post(client, "cost_sharing_key", {"action": "choose", "key_equal": "100"}))
    shares = re.findall(r"<td class=\"text-end\">([\d.]+) %</td>", page)
    assert len(shares) == len(MEMBERS) and sum(map(Decimal, shares)) == Decimal("100.00")
    assert 'data-testid="preview-total">100.00 %' in page


def test_choosing_a_kind_without_javascript_shows_its_sub_form_and_saves_nothing(app, web):
    client = web(MANAGER)
    with app.app_context():
        before = db.session.scalar(select(db.func.count(Decision.id)))
        db.session.remove()
    r = _post(client, "general", {"kind": "membership", "action": "choose", "title": "Kept title"})
    page = _text(r)
    assert r.status_code == 200
    assert 'data-effect="membership">' in page and 'data-effect="cost_sharing_key" hidden>' in page
    assert 'value="Kept title"' in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Decision.id))) == before
        db.session.remove()


def test_the_decision_page_tells_the_effect_in_words_not_json(app, web):
    client = web(MANAGER)
    r = _post(client, "cost_sharing_key", {"key_month": "2030-01", "key_equal": "40", "key_headcount": "60"})
    page = html.unescape(_text(client.get(r.headers["Location"])))
    effect = re.search(r'data-testid="effect">(.*?)</div>', page, re.S).group(1)
    assert "Cost-sharing key from 2030-01: 40.00 % equal share, 60.00 % headcount — UNDP " in effect
    assert "<pre" not in page and '"components"' not in page and "{" not in effect
    percents = re.findall(r"[A-Z]+ ([\d.]+) %", effect.split("—", 1)[1])
    assert len(percents) == len(MEMBERS) and sum(map(Decimal, percents)) == Decimal("100.00")
    fields, _json = CASES["membership"]
    r = _post(client, "membership", fields)
    page = html.unescape(_text(client.get(r.headers["Location"])))
    assert "UNEP leaves the facility on Mar 1, 2030." in page and "<pre" not in page
    fields, _json = CASES["procurement_manual"]
    r = _post(client, "procurement_manual", fields)
    page = html.unescape(_text(client.get(r.headers["Location"])))
    assert "Procurement manual POPP-2030-02 from Feb 1, 2030." in page and "<pre" not in page
    assert re.search(r"Request for quotations from \(USD\)</dt><dd[^>]*>10000<", page)


@pytest.mark.browser
def test_in_chromium_switching_the_kind_shows_the_key_and_its_preview_updates(live_server, page, demo):
    page.goto(f"{live_server}/login")
    page.fill("#email", MANAGER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.goto(f"{live_server}/governance/decisions/new")
    expect(page.locator("#key_equal")).to_be_hidden()
    expect(page.get_by_test_id("preview-notes")).to_have_text("")  # nothing typed, nothing to blame
    page.select_option("#kind", "cost_sharing_key")
    expect(page.locator("#key_equal")).to_be_visible()
    expect(page.locator("#member_action")).to_be_hidden()
    page.fill("#key_equal", "100")
    expect(page.get_by_test_id("preview-total")).to_have_text("100.00 %")
    expect(page.get_by_test_id("preview-shares").locator("tr")).to_have_count(len(MEMBERS))
    equal = page.get_by_test_id("preview-shares").locator("tr").first.inner_text()
    page.fill("#key_equal", "")
    page.fill("#key_fixed", "100")
    page.fill("#weight_UNDP", "1")
    expect(page.get_by_test_id("preview-shares").locator("tr").first).to_contain_text("100.00 %")
    assert "100.00 %" not in equal
    expect(page.get_by_test_id("preview-total")).to_have_text("100.00 %")
    page.fill("#title", "Key 2030")
    page.fill("#key_month", "2030-01")
    page.press("#weight_UNDP", "Enter")  # Enter saves the draft (the script keeps "Save draft" the default)
    expect(page.get_by_test_id("effect")).to_contain_text("Cost-sharing key from 2030-01: 100.00 % fixed weights")
