"""Billing batch jobs: period close and the period's PDFs, in-process (no REDIS_URL) and on
a real RQ queue in Redis run by rq's SimpleWorker in burst mode (issue 7, Build: batch work
off the request path)."""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import pytest
from sqlalchemy import func, select

from jof.billing import documents, invoices, services
from jof.billing.models import Invoice
from jof.core import jobs as core_jobs
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.jobs import Job as BillingJob
from jof.governance import cost_sharing as governance
from tests.billing.conftest import MONTH, close, record, user
from tests.conftest import csrf_from

MANAGER = "manager@jof.example"
PERIOD = f"{MONTH:%Y-%m}"
REDIS_URL = os.environ.get("JOF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def in_process(app, monkeypatch, tmp_path):
    """No REDIS_URL (whatever the environment says): jobs run inside the request."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)
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
    name = f"jof-test-billing-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOF_JOB_QUEUE", name)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    from rq import Queue

    queue = Queue(name, connection=conn)
    yield queue
    queue.empty()
    queue.delete(delete_jobs=True)
    conn.close()


def burst(app, queue) -> None:
    """What `jof billing worker` does, in this process: run every waiting job, then stop."""
    from rq import SimpleWorker

    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def job_row(app, job_id: int) -> BillingJob:
    with app.app_context():
        job = db.session.get(BillingJob, job_id)
        db.session.expunge(job)
        return job


def period_state(app) -> tuple[bool, int, int]:
    with app.app_context():
        return (services.is_closed(MONTH),
                db.session.scalar(select(func.count(Invoice.id)).where(Invoice.period == MONTH)),
                len(governance.recorded_shares(MONTH)))


# --- in-process (the embedded default) -----------------------------------------------------------


def test_in_process_jobs_close_and_render_with_progress_and_result(app, api, month, in_process, tmp_path):
    manager = api(MANAGER)
    r = manager.post("/api/v1/billing/jobs", json={"kind": "close_period", "period": PERIOD})
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["status"] == "done" and job["kind"] == "close_period" and job["period"] == PERIOD
    assert job["result"]["changed"] is True and job["result"]["invoices"] == 7
    assert job["result"]["total_usd"] == str(month.fees + month.pass_through + month.pools)
    assert job["done"] == job["total"] == 7 and "closed: 7 draft invoice(s)" in job["message"]
    assert job["requested_by"] == MANAGER and job["started_at"] and job["finished_at"]
    assert period_state(app)[:2] == (True, 7)
    assert manager.get(f"/api/v1/billing/jobs/{job['id']}").get_json() == job

    r = manager.post("/api/v1/billing/jobs", json={"kind": "render_period", "period": PERIOD})
    render = r.get_json()
    assert r.status_code == 202 and render["status"] == "done", render
    assert render["done"] == render["total"] == 7
    assert render["result"]["zip"] == f"invoices-{PERIOD}.zip" and render["result"]["invoices"] == 7
    names = zipfile.ZipFile(tmp_path / "billing" / f"invoices-{PERIOD}.zip").namelist()
    assert len(names) == 7 and all(n.startswith("draft-") and n.endswith(".pdf") for n in names)
    listed = manager.get("/api/v1/billing/jobs").get_json()
    assert [j["id"] for j in listed["items"]] == [render["id"], job["id"]]


def test_in_process_job_rights_and_input(app, api, month, in_process):
    manager = api(MANAGER)
    assert manager.post("/api/v1/billing/jobs", json={"kind": "melt", "period": PERIOD}).status_code == 422
    assert manager.post("/api/v1/billing/jobs", json={"kind": "close_period", "period": "2026-13"}).status_code == 422
    assert api("auditor@jof.example").post("/api/v1/billing/jobs",
                                           json={"kind": "close_period", "period": PERIOD}).status_code == 403
    undp = api("head@undp.jof.example")
    assert undp.post("/api/v1/billing/jobs", json={"kind": "close_period", "period": PERIOD}).status_code == 403
    job_id = manager.post("/api/v1/billing/jobs", json={"kind": "close_period", "period": PERIOD}).get_json()["id"]
    assert undp.get(f"/api/v1/billing/jobs/{job_id}").status_code == 403
    assert undp.get("/api/v1/billing/jobs").status_code == 403
    assert api("auditor@jof.example").get(f"/api/v1/billing/jobs/{job_id}").status_code == 200
    assert manager.get("/api/v1/billing/jobs/999999").status_code == 404


def test_in_process_render_before_close_fails_and_says_why(app, api, month, in_process, tmp_path):
    r = api(MANAGER).post("/api/v1/billing/jobs", json={"kind": "render_period", "period": PERIOD})
    job = r.get_json()
    assert r.status_code == 202 and job["status"] == "failed"
    assert "no invoices to render; close it first" in job["message"] and job["result"] is None
    assert not (tmp_path / "billing").exists()


def test_in_process_failed_close_records_the_reason_and_changes_nothing(app, web, month, in_process):
    with app.app_context():
        record("UNEP", "X-unpriced", "mystery_service", "procurement")
        db.session.commit()
    browser = web(MANAGER)
    token = csrf_from(browser.get(f"/billing/periods?period={PERIOD}").get_data(as_text=True))
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": PERIOD, "action": "close", "confirmed": "yes"})
    assert r.status_code == 302
    assert period_state(app) == (False, 0, 0)
    with app.app_context():
        job = db.session.scalar(select(BillingJob))
        assert job.status == "failed" and "mystery_service" in job.message and job.finished_at
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == str(job.id),
                                                                 AuditEvent.object_type == "job")) \
            == "billing.job.failed"
    page = browser.get(f"/billing/jobs/{job.id}").get_data(as_text=True)
    assert "failed" in page and "the period is as it was" in page and "mystery_service" in page


# --- on RQ with Redis ----------------------------------------------------------------------------


def test_rq_close_job_is_queued_then_run_by_the_worker(app, web, api, month, rq_queue):
    browser = web(MANAGER)
    token = csrf_from(browser.get(f"/billing/periods?period={PERIOD}").get_data(as_text=True))
    r = browser.post("/billing/periods", data={"csrf_token": token, "period": PERIOD, "action": "close", "confirmed": "yes"})
    assert r.status_code == 302 and "/billing/jobs/" in r.headers["Location"]
    job_id = int(r.headers["Location"].rsplit("/", 1)[1])
    # nothing ran on the request path: the job waits in Redis, the period is still open
    assert job_row(app, job_id).status == "queued" and rq_queue.count == 1
    assert period_state(app) == (False, 0, 0)
    page = browser.get(f"/billing/jobs/{job_id}")
    html = page.get_data(as_text=True)
    # the page polls the job (and, without JavaScript, refreshes itself) while it waits
    assert f'data-poll-url="/billing/jobs/{job_id}.json"' in html and 'http-equiv="refresh"' in html
    assert "queued" in html

    burst(app, rq_queue)

    job = job_row(app, job_id)
    assert job.status == "done", job.message
    assert job.result == {"changed": True, "invoices": 7,
                          "total_usd": str(month.fees + month.pass_through + month.pools)}
    assert job.done == job.total == 7 and "closed: 7 draft invoice(s)" in job.message
    assert job.created_at <= job.started_at <= job.finished_at
    assert period_state(app)[:2] == (True, 7) and rq_queue.count == 0
    body = api(MANAGER).get(f"/api/v1/billing/jobs/{job_id}").get_json()
    assert body["status"] == "done" and body["result"]["invoices"] == 7 and body["requested_by"] == MANAGER
    page = browser.get(f"/billing/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert "data-poll-url" not in html and 'http-equiv="refresh"' not in html
    assert "closed: 7 draft invoices, total USD" in html  # the page words the record for its reader


def test_rq_render_job_records_progress_and_the_zip_through_the_worker_command(app, api, web, month, rq_queue):
    with app.app_context():
        from jof.core.people import User

        services.close_period(db.session.scalar(select(User).where(User.email == MANAGER)), MONTH)
        db.session.commit()
    manager = api(MANAGER)
    r = manager.post("/api/v1/billing/jobs", json={"kind": "render_period", "period": PERIOD})
    assert r.status_code == 202 and r.get_json()["status"] == "queued" and r.get_json()["done"] == 0
    job_id = r.get_json()["id"]

    out = app.test_cli_runner().invoke(args=["billing", "worker", "--burst", "--simple"])
    assert out.exit_code == 0, out.output

    body = manager.get(f"/api/v1/billing/jobs/{job_id}").get_json()
    assert body["status"] == "done" and body["done"] == body["total"] == 7, body
    assert body["result"]["zip"] == f"invoices-{PERIOD}.zip" and body["result"]["bytes"] > 0
    z = web(MANAGER).get(f"/billing/periods/{PERIOD}.zip")  # the page serves the worker's file
    assert z.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(z.data)).namelist()) == 7


def test_rq_failing_job_leaves_the_period_open_and_records_why(app, api, month, rq_queue):
    with app.app_context():
        record("UNEP", "X-unpriced", "mystery_service", "procurement")
        db.session.commit()
    r = api(MANAGER).post("/api/v1/billing/jobs", json={"kind": "close_period", "period": PERIOD})
    assert r.status_code == 202 and r.get_json()["status"] == "queued"
    job_id = r.get_json()["id"]

    burst(app, rq_queue)

    job = job_row(app, job_id)
    assert job.status == "failed" and job.result is None and job.finished_at is not None
    assert "mystery_service" in job.message and "no price" in job.message
    assert period_state(app) == (False, 0, 0)  # no invoices, no allocation, still open
    body = api(MANAGER).get(f"/api/v1/billing/jobs/{job_id}").get_json()
    assert body["status"] == "failed" and "mystery_service" in body["message"]


def test_rq_unreachable_queue_is_503_and_records_nothing(app, api, month, rq_queue, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    r = api(MANAGER).post("/api/v1/billing/jobs", json={"kind": "close_period", "period": PERIOD})
    assert r.status_code == 503 and "unreachable" in r.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count(BillingJob.id))) == 0


def test_worker_skips_a_job_whose_request_never_committed(app, rq_queue, monkeypatch):
    monkeypatch.setitem(app.config, "JOF_JOB_ROW_WAIT_SECONDS", 0)
    with app.app_context():
        assert core_jobs.execute(424242) == "skipped"


def test_worker_command_needs_redis_url(app, in_process):
    out = app.test_cli_runner().invoke(args=["billing", "worker", "--burst"])
    assert out.exit_code == 2 and "REDIS_URL is not set" in out.output


def test_issuing_paying_or_crediting_drops_the_rendered_period_zip(app, month):
    ids = close(app, month)
    with app.app_context():
        manager = user(MANAGER)
        path = documents.zip_path(month.period)
        for step in ("issue", "pay", "credit"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"PK stale")
            inv = db.session.get(Invoice, ids["UNDP"])
            if step == "issue":
                invoices.issue(manager, inv.id)
            elif step == "pay":
                invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount="1.00", reference="BB-9")
            else:
                invoices.credit_note(manager, inv, reason="Seat counted twice", amount="1.00")
            db.session.commit()
            assert not path.exists(), step
