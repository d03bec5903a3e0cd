"""The monthly report and the board pack run as jobs of core's queue (issues 12 and 13):
the monitoring page starts one, its page follows the progress and offers the PDF, and
only a reader of that report finds the job: inline, in a thread beside the page, and on
a real RQ queue in Redis served by ``jof worker``."""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest
from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.jobs import Job
from tests.conftest import csrf_from
from tests.monitoring.test_report import (
    MANAGER,
    RC,
    UNDP_HEAD,
    UNDP_REQUESTER,
    add_decisions,
    add_invoices,
    text_of,
)

UNFPA_HEAD = "head@unfpa.jof.example"
REDIS_URL = os.environ.get("JOF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def in_process(app, monkeypatch, tmp_path):
    """No REDIS_URL (whatever the environment says): jobs run inside the request."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "JOF_JOBS_IN_BACKGROUND", False)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def rq_queue(app, monkeypatch, tmp_path):
    """A real Redis with a queue of this test's own (other test runs may share the server)."""
    from redis import Redis
    from redis.exceptions import RedisError

    conn = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        conn.ping()
    except RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); .ci/run starts it")
    name = f"jof-test-reports-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOF_JOB_QUEUE", name)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    from rq import Queue

    queue = Queue(name, connection=conn)
    yield queue
    queue.empty()
    queue.delete(delete_jobs=True)
    conn.close()


def start(browser, kind: str, **form) -> int:
    """Press the dashboard's button of ``kind``: a POST that lands on the job's page."""
    page = browser.get("/monitoring/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert f'action="/monitoring/reports/{kind}"' in page
    r = browser.post(f"/monitoring/reports/{kind}", data={"csrf_token": csrf_from(page), "month": "2026-11", **form})
    assert r.status_code == 302 and "/monitoring/jobs/" in r.headers["Location"], r.status_code
    return int(r.headers["Location"].rsplit("/", 1)[1])


def wait_until_finished(browser, job_id: int, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = browser.get(f"/monitoring/jobs/{job_id}.json").get_json()
        if body["finished"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"the job did not finish: {body}")


def test_a_monthly_report_job_ends_with_the_pdf_of_its_month_for_its_readers_only(app, month, web, in_process):
    add_invoices(app)
    manager = web(MANAGER)
    job_id = start(manager, "monthly_report")
    page = manager.get(f"/monitoring/jobs/{job_id}").get_data(as_text=True)
    assert 'data-status="done"' in page and f'href="/monitoring/jobs/{job_id}.pdf"' in page
    assert "data-poll-url" not in page and "monthly_report" not in page  # the kind by its label
    pdf = manager.get(f"/monitoring/jobs/{job_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "jof-monthly-report-2026-11.pdf" in pdf.headers["Content-Disposition"]
    text = text_of(pdf.data)
    assert "Monthly report: 2026-11" in text and "Total 1,244.56" in text
    # Another reader of the monthly report (the auditor) may read it; an agency's people may not see it exists.
    assert web("auditor@jof.example").get(f"/monitoring/jobs/{job_id}.pdf").status_code == 200
    for who in ("requester@unfpa.jof.example", UNDP_REQUESTER, UNDP_HEAD):
        client = web(who)
        for url in (f"/monitoring/jobs/{job_id}", f"/monitoring/jobs/{job_id}.json", f"/monitoring/jobs/{job_id}.pdf"):
            assert client.get(url).status_code == 404, (who, url)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "done" and job.done == job.total == 3 and job.params == {"kind": "monthly_report",
                                                                                        "month": "2026-11"}
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "job",
                                                                     AuditEvent.object_id == str(job_id))
                                     .order_by(AuditEvent.id)).all()
        assert actions == ["monitoring.job.done"]  # inline: started and ended in one transaction


def test_the_job_json_gives_what_the_progress_bar_needs(app, month, web, in_process):
    manager = web(MANAGER)
    job_id = start(manager, "monthly_report")
    body = manager.get(f"/monitoring/jobs/{job_id}.json").get_json()
    assert body == {"id": job_id, "kind": "monthly_report", "status": "done", "status_label": "Done",
                    "done": 3, "total": 3, "message": body["message"], "finished": True}
    assert "jof-monthly-report-2026-11.pdf is ready" in body["message"]
    assert manager.get("/monitoring/jobs/999999.json").status_code == 404


def test_a_board_pack_job_is_the_boards_paper_and_a_requester_can_neither_start_nor_read_it(app, month, web,
                                                                                            in_process):
    add_decisions(app)
    head = web(UNDP_HEAD)
    page = head.get("/monitoring/").get_data(as_text=True)
    assert 'action="/monitoring/reports/board_pack"' in page and "reports/monthly_report" not in page
    job_id = start(head, "board_pack", months="3")
    text = text_of(head.get(f"/monitoring/jobs/{job_id}.pdf").data)
    assert "RES-2026-039" in text and "Period: Sep 1, 2026 – Nov 30, 2026" in text
    # The pack is the same for every reader of it: another agency's head and the RC read it too.
    assert web(UNFPA_HEAD).get(f"/monitoring/jobs/{job_id}.pdf").status_code == 200
    assert web(RC).get(f"/monitoring/jobs/{job_id}").status_code == 200
    requester = web(UNDP_REQUESTER)
    assert requester.get(f"/monitoring/jobs/{job_id}").status_code == 404
    token = csrf_from(requester.get("/monitoring/").get_data(as_text=True))
    for kind in ("board_pack", "monthly_report"):
        r = requester.post(f"/monitoring/reports/{kind}", data={"csrf_token": token, "month": "2026-11"})
        assert r.status_code == 403
    # Billing's job pages do not show a report job, nor the report pages a billing job.
    assert web(MANAGER).get(f"/billing/jobs/{job_id}").status_code == 404


def test_a_malformed_month_comes_back_to_the_dashboard_with_its_message_and_starts_nothing(app, month, web,
                                                                                         in_process):
    manager = web(MANAGER)
    token = csrf_from(manager.get("/monitoring/").get_data(as_text=True))
    r = manager.post("/monitoring/reports/board_pack", data={"csrf_token": token, "month": "2026-11", "months": "40"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "From 1 to 12 months." in html and 'value="40"' in html
    r = manager.post("/monitoring/reports/monthly_report", data={"csrf_token": token, "month": "November"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Give a month as YYYY-MM, from 2000-01 to" in html and 'value="November"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_report_in_the_background_answers_at_once_and_the_bar_moves(app, month, web, monkeypatch, tmp_path):
    from jof.monitoring import report

    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "JOF_JOBS_IN_BACKGROUND", True)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    real = report.render_pdf

    def slow(html):
        time.sleep(1.5)
        return real(html)

    monkeypatch.setattr(report, "render_pdf", slow)
    manager = web(MANAGER)
    started = time.monotonic()
    job_id = start(manager, "monthly_report")
    assert time.monotonic() - started < 1.5  # the PDF was not rendered in the request
    first = manager.get(f"/monitoring/jobs/{job_id}")
    assert first.status_code == 200
    assert f'data-poll-url="/monitoring/jobs/{job_id}.json"' in first.get_data(as_text=True)
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = manager.get(f"/monitoring/jobs/{job_id}.json").get_json()
        seen.add((body["status"], body["done"]))
        if body["finished"]:
            break
        time.sleep(0.1)
    assert body["status"] == "done", body
    assert any(status == "running" and 0 < done < 3 for status, done in seen), seen
    assert manager.get(f"/monitoring/jobs/{job_id}.pdf").status_code == 200


def test_rq_report_job_is_queued_then_rendered_by_jof_worker(app, month, web, rq_queue):
    add_invoices(app)
    manager = web(MANAGER)
    job_id = start(manager, "monthly_report")
    html = manager.get(f"/monitoring/jobs/{job_id}").get_data(as_text=True)
    assert f'data-poll-url="/monitoring/jobs/{job_id}.json"' in html and 'data-status="queued"' in html
    assert manager.get(f"/monitoring/jobs/{job_id}.pdf").status_code == 404  # not ready yet
    assert rq_queue.count == 1

    out = app.test_cli_runner().invoke(args=["worker", "--burst", "--simple"])
    assert out.exit_code == 0, out.output

    body = manager.get(f"/monitoring/jobs/{job_id}.json").get_json()
    assert body["status"] == "done" and body["done"] == body["total"] == 3, body
    html = manager.get(f"/monitoring/jobs/{job_id}").get_data(as_text=True)
    assert re.search(rf'href="/monitoring/jobs/{job_id}\.pdf"', html) and "data-poll-url" not in html
    assert "Total 1,244.56" in text_of(manager.get(f"/monitoring/jobs/{job_id}.pdf").data)
    assert rq_queue.count == 0
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "job",
                                                                     AuditEvent.object_id == str(job_id))
                                     .order_by(AuditEvent.id)).all()
        assert actions == ["monitoring.job.queued", "monitoring.job.done"]


@pytest.mark.browser
def test_the_report_job_page_bar_follows_the_rendering_in_chromium(app, month, web, live_server, page, monkeypatch,
                                                                   tmp_path):
    from playwright.sync_api import expect

    from jof.monitoring import report
    from tests.conftest import TEST_PASSWORD

    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "JOF_JOBS_IN_BACKGROUND", True)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    real = report.render_pdf

    def slow(html):
        time.sleep(2)
        return real(html)

    monkeypatch.setattr(report, "render_pdf", slow)
    page.goto(f"{live_server}/login")
    page.fill("#email", MANAGER)
    page.fill("#password", TEST_PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.goto(f"{live_server}/monitoring/?start=2026-11-01&end=2026-11-30")
    page.get_by_role("button", name="Prepare the monthly report (PDF)").click()
    expect(page).to_have_url(re.compile(r"/monitoring/jobs/\d+$"))
    expect(page.locator("#job-bar")).to_be_visible()
    # the bar takes the job's steps without the page reloading, then the finished page offers the PDF
    expect(page.locator("#job-bar")).to_have_attribute("max", "3", timeout=20000)
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=30000)
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "done")


def test_a_report_button_pressed_twice_starts_one_job(app, month, web, in_process):
    """The report forms carry the one-time token: a second press lands on the first job."""
    manager = web(MANAGER)
    page = manager.get("/monitoring/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/monitoring/reports/monthly_report".*?</form>', page, re.S).group(0)
    once = re.search(r'name="_once" value="([^"]+)"', form).group(1)
    data = {"csrf_token": csrf_from(page), "_once": once, "month": "2026-11"}
    first, second = (manager.post("/monitoring/reports/monthly_report", data=data) for _ in range(2))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 1


@pytest.mark.parametrize("kind,text", [("monthly_report", "9999-12"), ("monthly_report", "0001-01"),
                                       ("board_pack", "9999-12"), ("board_pack", "1999-12")])
def test_a_month_out_of_range_comes_back_to_the_dashboard_and_starts_nothing(app, month, web, in_process, kind, text):
    manager = web(MANAGER)
    token = csrf_from(manager.get("/monitoring/").get_data(as_text=True))
    r = manager.post(f"/monitoring/reports/{kind}", data={"csrf_token": token, "month": text, "months": "2"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Give a month as YYYY-MM, from 2000-01 to" in html and f'value="{text}"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0
