"""Batch work of billing runs beside the page: starting it answers at once, a small JSON
endpoint reports the progress, and the job page's bar follows it in Chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from jof.billing import documents
from tests.billing.conftest import MONTH
from tests.conftest import TEST_PASSWORD, csrf_from

MANAGER = "manager@jof.example"
P = f"{MONTH:%Y-%m}"


@pytest.fixture
def in_background(app):
    app.config["JOF_JOBS_IN_BACKGROUND"] = True
    yield app
    app.config["JOF_JOBS_IN_BACKGROUND"] = False


@pytest.fixture
def slow_pdfs(monkeypatch):
    """Each invoice PDF takes 0.3 s more, so the batch is still running when looked at: the
    batch renders here, one by one, reporting each document (the pool's own progress,
    chunk by chunk, is tests/core/test_pdf_batch.py's)."""
    from jof.core.pdf import render_pdf

    def slow(htmls, progress=None, **_):
        out = []
        for html in htmls:
            time.sleep(0.3)
            out.append(render_pdf(html))
            if progress:
                progress(len(out), len(htmls))
        return out

    monkeypatch.setattr(documents, "render_pdfs", slow)


def _wait_until_finished(browser, job_id: int, seconds: float = 45) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = browser.get(f"/billing/jobs/{job_id}.json").get_json()
        if body["finished"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the job did not finish: {body}")


def _start(browser, action: str) -> int:
    token = csrf_from(browser.get(f"/billing/periods?period={P}").get_data(as_text=True))
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": P, "action": action, "confirmed": "yes"})
    assert r.status_code == 302 and "/billing/jobs/" in r.headers["Location"], r.headers.get("Location")
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_closing_in_the_background_answers_at_once_and_the_json_reports_the_outcome(in_background, web, month):
    browser = web(MANAGER)
    job_id = _start(browser, "close")
    first = browser.get(f"/billing/jobs/{job_id}.json")
    assert first.status_code == 200
    assert set(first.get_json()) >= {"status", "status_label", "done", "total", "message", "finished"}
    body = _wait_until_finished(browser, job_id)
    assert body["status"] == "done" and body["done"] == body["total"] == 7, body


def test_rendering_pdfs_no_longer_holds_the_request_and_shows_partial_progress(in_background, slow_pdfs, web, month):
    browser = web(MANAGER)
    job_id = _start(browser, "close")
    _wait_until_finished(browser, job_id)
    started = time.monotonic()
    render_id = _start(browser, "render")
    assert time.monotonic() - started < 2.0  # 7 PDFs at >= 0.3 s each did not run in the request
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = browser.get(f"/billing/jobs/{render_id}.json").get_json()
        seen.add((body["done"], body["total"]))
        if body["finished"]:
            break
        time.sleep(0.1)
    assert body["status"] == "done", body
    assert any(0 < done < total for done, total in seen), seen  # the bar moved through the middle


def test_the_job_json_is_for_the_facilitys_people_only(app, web, api, month):
    from jof.billing import jobs
    from jof.core.db import db
    from tests.billing.conftest import user

    with app.app_context():
        job = jobs.start(user(MANAGER), "close_period", MONTH)
        db.session.commit()
        job_id = job.id
    assert web("requester@undp.jof.example").get(f"/billing/jobs/{job_id}.json").status_code == 403
    assert web("auditor@jof.example").get(f"/billing/jobs/{job_id}.json").status_code == 200
    assert web(MANAGER).get("/billing/jobs/999999.json").status_code == 404


@pytest.mark.browser
def test_the_job_page_bar_follows_the_rendering_in_chromium(in_background, slow_pdfs, web, month, live_server, page):
    browser = web(MANAGER)
    _wait_until_finished(browser, _start(browser, "close"))
    page.goto(f"{live_server}/login")
    page.fill("#email", MANAGER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.goto(f"{live_server}/billing/periods?period={P}")
    page.get_by_role("button", name="Render the PDFs (ZIP)").click()
    expect(page.locator("#job-bar")).to_be_visible()
    # the bar moves without the page reloading, then the finished page offers the ZIP
    expect(page.locator("#job-bar")).to_have_attribute("max", "7", timeout=20000)
    expect(page.get_by_role("link", name="Download the ZIP of invoices")).to_be_visible(timeout=30000)
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "done")
