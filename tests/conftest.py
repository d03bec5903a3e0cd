"""The test harness every line reuses.

One pass runs on one database: SQLite by default, PostgreSQL when ``JOF_TEST_DATABASE``
is ``postgresql`` (``make test`` runs both passes when ``JOF_TEST_POSTGRES_URL`` is set).
The schema is built by the real migrations once per pass; after each test every table
is emptied, so tests may commit freely (the request boundary does) and run concurrent
writers on real connections.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as sa_inspect

from jof import create_app
from jof.core import workflow
from jof.core.db import db

TEST_PASSWORD = "test-password-123"

#: The minimal, line-independent request type the spine is proven with.
workflow.register(workflow.RequestType(
    code="test", prefix="TST", label="Test request", service_line="procurement",
    transitions=workflow.common_lifecycle(),
))


def _backend() -> str:
    return os.environ.get("JOF_TEST_DATABASE", "sqlite")


def pytest_report_header(config):
    return f"JOF test database: {_backend()}"


def pytest_collection_modifyitems(config, items):
    if _backend() != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: run with JOF_TEST_POSTGRES_URL set (make test does)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    if _backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'jof-test.db'}"
        return
    server = os.environ.get("JOF_TEST_POSTGRES_URL")
    if not server:
        pytest.exit("JOF_TEST_DATABASE=postgresql needs JOF_TEST_POSTGRES_URL", returncode=2)
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "TESTING": True,
        "SERVER_NAME": None,
        # Billing tests read a job's outcome in the answer that started it.
        "JOF_JOBS_IN_BACKGROUND": False,
    })
    # Files the app writes (rendered ZIPs) stay inside this test session.
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Empty every table after the test (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    empty_tables(request.getfixturevalue("app"))


def empty_tables(application) -> None:
    """Delete every row of every table the migrations made (the schema stays)."""
    with application.app_context():
        db.session.remove()
        # Only tables the migrations made: a model whose migration is still being
        # written must not break every other test.
        existing = set(sa_inspect(db.engine).get_table_names())
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
        with db.engine.begin() as conn, audit_guard_lifted(conn):
            if conn.dialect.name == "postgresql":
                # DELETE of a few rows is ~50x faster than TRUNCATE of every table; the
                # agency ↔ user cycle is broken first.
                if "agency" in existing:
                    conn.execute(text("UPDATE agency SET alternate_id = NULL WHERE alternate_id IS NOT NULL"))
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))
            else:
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                for t in tables:
                    conn.exec_driver_sql(f'DELETE FROM "{t}"')


@contextmanager
def audit_guard_lifted(conn):
    """Inside ``conn``'s transaction, the audit trail's append-only triggers (migration
    hard1) do not fire: for emptying tables between tests, and for tests that play a
    tamperer who owns the schema (and so can drop triggers).

    PostgreSQL: ``session_replication_role = replica`` for this transaction (the test
    server's user is a superuser). SQLite: the triggers are dropped and made again from
    their own stored SQL, in the same transaction.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        return
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'").all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


@pytest.fixture
def session(app):
    """An app context for service-level tests; the session is yours to commit."""
    with app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def demo(app):
    """The Brazil pilot demo data, every user with ``TEST_PASSWORD``."""
    from jof import demo as demo_module

    with app.app_context():
        demo_module.load(TEST_PASSWORD)
        db.session.commit()
        db.session.remove()
    return demo_module


class Factory:
    """Callable factories with sensible defaults; each commits in its own context."""

    def __init__(self, app):
        self.app = app

    def _ctx(self):
        return self.app.app_context()

    def user(self, email: str):
        from sqlalchemy import select

        from jof.core.people import User

        with self._ctx():
            return db.session.scalar(select(User).where(User.email == email))

    def request(self, requester_email: str = "requester@undp.jof.example", *,
                title: str = "Laptops for the programme team", amount_usd: str | None = "1200.00",
                status: str = "draft", request_type: str = "test") -> str:
        """File a request and walk it to ``status``; returns its reference."""
        from sqlalchemy import select

        from jof.core.people import Role, User

        path = {
            "draft": [], "submitted": ["submit"], "approved": ["submit", "approve"],
            "certified": ["submit", "certify"], "in_progress": ["submit", "approve", "start"],
            "completed": ["submit", "approve", "start", "complete"],
        }[status]
        with self._ctx():
            requester = db.session.scalar(select(User).where(User.email == requester_email))
            sr = workflow.create_request(requester, request_type, title=title,
                                         amount_usd=Decimal(amount_usd) if amount_usd else None)
            db.session.commit()
            for action in path:
                actor = {
                    "submit": requester,
                    "approve": db.session.scalar(select(User).where(User.email == "manager@jof.example")),
                    "certify": db.session.scalar(select(User).join(User.role_rows).where(
                        User.agency_id == requester.agency_id, User.role_rows.any(role=Role.AGENCY_HEAD))),
                    "start": db.session.scalar(select(User).where(User.email == "procurement@jof.example")),
                    "complete": db.session.scalar(select(User).where(User.email == "procurement@jof.example")),
                }[action]
                workflow.perform(actor, sr, action)
                db.session.commit()
            ref = sr.reference
            db.session.remove()
            return ref


@pytest.fixture
def make(app, demo) -> Factory:
    return Factory(app)


class ApiClient:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        def call(path, **kw):
            headers = {**self.headers, **kw.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kw)

        return call


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(app, demo):
    """``api("requester@undp.jof.example").get(...)``: an authenticated API client."""

    def for_user(email: str, password: str = TEST_PASSWORD) -> ApiClient:
        c = app.test_client()
        r = c.post("/api/v1/auth/token", json={"email": email, "password": password})
        assert r.status_code == 201, r.get_json()
        return ApiClient(c, r.get_json()["token"])

    return for_user


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def web(app, demo):
    """``web("manager@jof.example")``: a browser-like client logged in through the form."""

    def for_user(email: str, password: str = TEST_PASSWORD):
        c = app.test_client()
        token = csrf_from(c.get("/login").get_data(as_text=True))
        r = c.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return c

    return for_user


# --- live server and browser ----------------------------------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


CHROMIUM = os.environ.get("JOF_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def _browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("JOF_REQUIRE_BROWSER") == "1":
            pytest.fail(f"JOF_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ])
        yield browser
        browser.close()


@pytest.fixture
def page(_browser):
    context = _browser.new_context(locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


# --- concurrency ------------------------------------------------------------------------


def race(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results
