"""HR journeys in Chromium, at 1366 and 390 px, every page checked (overflow, script
errors, axe-core) as in tests/browser/test_journeys.py: an HR officer advances a
recruitment from its applications to the recommendation, the agency's hiring manager
selects a candidate, then reads the rosters, and an HR officer hires from the roster for
a second agency and records the onboarding checklist up to completion."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.checks import only_in_the_sqlite_pass
from tests.browser.test_journeys import axe, visit  # noqa: F401  (fixtures)
from tests.hr.conftest import HR, MANAGER, REQUESTER, Recruitments, candidate

pytestmark = [pytest.mark.browser, only_in_the_sqlite_pass]

UNFPA = "requester@unfpa.jof.example"


def _act(v, action: str) -> None:
    v.follow(v.page.get_by_test_id(f"action-{action}").get_by_role("button"))


def test_hr_officer_advances_a_recruitment_to_the_recommendation(visit, api):  # noqa: F811
    hr = Recruitments(api)
    ref = hr.advertised()
    ana = hr.apply(ref, candidate("Ana Souza", years=8))
    bruno = hr.apply(ref, candidate("Bruno Lima"))

    v = visit("hr officer")
    page = v.page
    v.log_in(HR)
    v.go("/hr/")
    v.follow(page.get_by_role("link", name=ref))
    expect(page.get_by_test_id("status")).to_contain_text("Advertised")
    _act(v, "long_list")
    expect(page.get_by_test_id("status")).to_contain_text("Long-listed")
    _act(v, "short_list")
    expect(page.get_by_test_id("status")).to_contain_text("Short-listed")
    for app_id, scores in ((ana["id"], ("80", "70", "90")), (bruno["id"], ("90", "85", "60.5"))):
        form = page.get_by_test_id(f"scores-{app_id}")
        for field, score in zip(form.locator("input[name^=score-]").all(), scores, strict=True):
            field.fill(score)
        v.follow(form.get_by_role("button"))
    _act(v, "assess")
    expect(page.get_by_test_id("ranking")).to_contain_text("81.00")
    _act(v, "recommend")
    expect(page.get_by_test_id("status")).to_contain_text("Recommended")
    v.done()


def test_hiring_manager_selects_a_candidate_and_reads_the_rosters(visit, api):  # noqa: F811
    hr = Recruitments(api)
    ref, (ana, bruno) = hr.short_listed([candidate("Ana Souza", years=8), candidate("Bruno Lima")])
    hr.score(ref, ana["id"], "80", "70", "90")
    hr.score(ref, bruno["id"], "90", "85", "60.5")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")

    v = visit("hiring manager")
    page = v.page
    v.log_in(REQUESTER)  # filed the recruitment: its hiring manager
    v.go(f"/hr/recruitments/{ref}")
    select = page.get_by_test_id("action-select")
    select.locator("#application-select").select_option(str(bruno["id"]))
    v.follow(select.get_by_role("button"))
    expect(page.get_by_test_id("status")).to_contain_text("Selected")
    expect(page.locator(f'tr[data-application="{bruno["id"]}"]')).to_contain_text("Bruno Lima")
    v.go("/hr/")
    v.follow(page.get_by_role("link", name="Rosters", exact=True))
    expect(page.get_by_test_id("roster-groups")).to_contain_text("Finance")
    expect(page.get_by_test_id("roster-use")).to_contain_text("Hires after advertising")
    v.done()


def test_hr_officer_hires_from_the_roster_and_onboards_the_new_person(visit, api):  # noqa: F811
    hr = Recruitments(api)
    source, (ana, bruno) = hr.short_listed([candidate("Ana Souza", years=8), candidate("Bruno Lima")])
    hr.score(source, ana["id"], "80", "70", "90")
    hr.score(source, bruno["id"], "90", "85", "60.5")
    hr.must(HR, source, "assess")
    hr.must(HR, source, "recommend")
    ref = hr.file(UNFPA, from_roster=True, post_title="Finance Assistant")["reference"]
    hr.must(UNFPA, ref, "submit")
    hr.must(MANAGER, ref, "approve")

    v = visit("hr officer")
    page = v.page
    v.log_in(HR)
    v.go(f"/hr/recruitments/{ref}")
    roster = page.get_by_test_id("roster-candidates")
    v.follow(roster.locator("tr", has_text="Bruno Lima").get_by_role("button", name="Agrees"))
    expect(page.get_by_test_id("roster-candidates").locator("tr", has_text="Bruno Lima")).to_contain_text("yes")
    _act(v, "present_roster")
    expect(page.get_by_test_id("status")).to_contain_text("Recommended")

    application = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()[0]["id"]
    hr.must(UNFPA, ref, "select", payload={"application_id": application})
    v.go(f"/hr/recruitments/{ref}")
    _act(v, "offer")
    for step in ("offer_accepted", "medical_clearance", "security_clearance", "id_badge", "ict_account"):
        form = page.get_by_test_id(f"step-{step}")
        if step == "ict_account":
            form.locator("input[type=date]").fill((date.today() + timedelta(days=14)).isoformat())
        v.follow(form.get_by_role("button"))
    onboarding = page.get_by_test_id("onboarding")
    expect(onboarding.get_by_role("link", name=re.compile(r"^ICS-\d{4}-\d{5}$"))).to_be_visible()
    _act(v, "complete")
    expect(page.get_by_test_id("status")).to_contain_text("Completed")
    v.done()
