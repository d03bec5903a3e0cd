"""The public vacancies, crawled and used without an account (issue 14, Acceptance: "The
public application page: … axe-core clean; browser tests for … an applicant").

The anonymous crawl follows the links of the open vacancies page like the logged-in crawl
(tests/browser/test_crawl.py) does from the dashboard, at 1366 and 390 px: no horizontal
overflow, no serious or critical axe-core violation, no console error. Then an applicant
applies through the form, on a phone, with a CV; a refused form is checked the same way.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.checks import axe_violations, describe, only_in_the_sqlite_pass, overflow
from tests.browser.test_crawl import _crawl
from tests.hr.conftest import HR, Recruitments

pytestmark = [pytest.mark.browser, only_in_the_sqlite_pass]


def _problems(page, axe, label: str) -> list[str]:
    found = []
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        wide = overflow(page)
        if wide:
            found.append(f"{label} @{width}: {wide}")
        found.extend(f"{label} @{width}: {describe(v)}" for v in axe_violations(page, axe))
    return found


def test_the_public_vacancy_pages_fit_a_phone_and_pass_axe_without_an_account(app, api, live_server, _browser):
    hr = Recruitments(api)
    hr.advertised(post_title="Finance Associate")
    context = _browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        adapter = app.url_map.bind("localhost")
        # Nobody is logged in: the crawl starts at the vacancies (the brand leads a visitor
        # to the login page, which is checked too).
        visited, problems = _crawl(page, Axe(), live_server, adapter, "anonymous", set(), start="/vacancies/")
    finally:
        context.close()
    assert {"/vacancies/", "/login"} <= set(visited) and any(v.startswith("/vacancies/HRR-") for v in visited), visited
    assert not problems, "\n".join(problems)


def test_an_applicant_applies_on_a_phone_with_a_cv(app, api, live_server, page, tmp_path):
    hr = Recruitments(api)
    ref = hr.advertised(post_title="Finance Associate")
    axe = Axe()
    cv = tmp_path / "Beatriz Lima CV.pdf"
    cv.write_bytes(b"%PDF-1.4\n% a CV\n")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/vacancies/")
    page.get_by_role("link", name="Finance Associate").click()
    page.wait_for_url(f"{live_server}/vacancies/{ref}")
    problems = _problems(page, axe, "apply")

    page.fill("#full_name", "Beatriz Lima")
    page.fill("#email", "beatriz.lima@mail.example")
    page.select_option("#education", "master")
    page.fill("#years_experience", "7")
    page.fill("#languages", "Portuguese, English")
    page.set_input_files("#cv", str(cv))
    page.get_by_role("button", name="Send my application").click()
    # Refused: the privacy notice was not agreed to; the input is kept and the page checked.
    assert page.locator("#consent-error").is_visible()
    assert page.input_value("#full_name") == "Beatriz Lima"
    problems += _problems(page, axe, "apply refused")

    page.set_viewport_size({"width": 390, "height": 844})
    page.set_input_files("#cv", str(cv))
    page.check("#consent")
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_url(f"{live_server}/vacancies/")
    assert "Thank you" in page.locator("main").inner_text()
    problems += _problems(page, axe, "applied")
    assert not problems, "\n".join(problems)

    apps = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert [a["candidate"]["full_name"] for a in apps] == ["Beatriz Lima"] and apps[0]["screened_in"] is True
