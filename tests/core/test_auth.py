"""Authentication: password hashing, the login limit, sessions, cookies, API tokens (DESIGN §9)."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from jof.core import auth
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.people import ApiToken, LoginAttempt, User
from jof.core.timeutil import utcnow
from tests.conftest import TEST_PASSWORD, csrf_from

REQUESTER = "requester@undp.jof.example"
NEW_PASSWORD = "a-much-longer-secret-42"


def _login(client, email=REQUESTER, password=TEST_PASSWORD, next_=None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def _logged_in(response) -> bool:
    return response.status_code == 200


def _bounced_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _user(app, email=REQUESTER) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


# --- passwords -------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_at_the_asvs_parameters(app):
    with app.app_context():
        hashed = auth.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct horse battery" not in hashed
    user = User(email="x@example.org", name="X", password_hash=hashed)
    assert auth.check_password(user, "correct horse battery")
    assert not auth.check_password(user, "correct horse battery!")
    assert not auth.check_password(None, "correct horse battery")


def test_demo_users_are_stored_with_argon2id(app, demo):
    assert _user(app).password_hash.startswith("$argon2id$")


# --- login form and limit --------------------------------------------------------------


def test_login_without_csrf_token_is_refused(client, demo):
    r = client.post("/login", data={"email": REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 400
    assert _bounced_to_login(client.get("/"))


def test_wrong_password_answers_401_and_counts_in_the_database(app, client, demo):
    r = _login(client, password="wrong-password-1")
    assert r.status_code == 401
    assert b"Wrong e-mail or password" in r.data
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))
                                 .where(LoginAttempt.email == REQUESTER)) == 1


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _retry_after(response) -> int:
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    return seconds


def test_five_failures_throttle_that_address_even_for_the_right_password_but_not_the_owner_elsewhere(app, client, demo):
    for _ in range(5):
        assert _login(client, password="wrong-password-1").status_code == 401
    r = _login(client)
    assert r.status_code == 429
    assert b"Too many failed logins" in r.data
    assert 14 * 60 <= _retry_after(r) <= 15 * 60
    assert _bounced_to_login(client.get("/"))
    # the limit lives in the database, so a fresh client (another worker) from the same
    # address sees it too ...
    assert _login(app.test_client()).status_code == 429
    # ... while the owner, from another address, logs in
    elsewhere = app.test_client()
    elsewhere.environ_base.update(OWNER)
    assert _login(elsewhere).status_code == 302


def test_the_limit_counts_per_account(client, demo):
    for _ in range(5):
        _login(client, password="wrong-password-1")
    r = _login(client, email="head@undp.jof.example")
    assert r.status_code == 302


def test_failures_older_than_the_window_do_not_count(app, client, demo):
    with app.app_context():
        old = utcnow() - timedelta(minutes=16)
        db.session.add_all(LoginAttempt(email=REQUESTER, at=old, remote_addr="127.0.0.1") for _ in range(5))
        recent = utcnow() - timedelta(minutes=14)
        db.session.add_all(LoginAttempt(email=REQUESTER, at=recent, remote_addr="127.0.0.1") for _ in range(4))
        db.session.commit()
    assert _login(client).status_code == 302


def test_failures_inside_the_window_do_count(app, client, demo):
    with app.app_context():
        recent = utcnow() - timedelta(minutes=14)
        db.session.add_all(LoginAttempt(email=REQUESTER, at=recent, remote_addr="127.0.0.1") for _ in range(5))
        db.session.commit()
    r = _login(client)
    assert r.status_code == 429
    assert 30 <= _retry_after(r) <= 61  # the oldest failure leaves the window in about a minute


def test_login_limit_is_shared_with_the_token_endpoint(client, demo):
    for _ in range(3):
        r = client.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "nope-nope-nope"})
        assert r.status_code == 401
    for _ in range(2):
        assert _login(client, password="wrong-password-1").status_code == 401
    r = client.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 429
    body = r.get_json()
    assert body["status"] == 429 and "Too many failed logins" in body["detail"]
    _retry_after(r)


def test_101_failed_logins_for_admin_from_one_address_do_not_stop_a_correct_login_from_another(app, demo):
    """Issue 11, acceptance: the attacker is throttled (429 + Retry-After), the owner is not."""
    attacker = app.test_client()
    attacker.environ_base.update(ATTACKER)
    codes = []
    for i in range(101):
        r = attacker.post("/api/v1/auth/token", json={"email": "admin@jof.example",
                                                      "password": f"guess-{i}"})
        codes.append(r.status_code)
        if r.status_code == 429:
            _retry_after(r)
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 96
    owner = app.test_client()
    owner.environ_base.update(OWNER)
    r = owner.post("/api/v1/auth/token", json={"email": "admin@jof.example", "password": TEST_PASSWORD})
    assert r.status_code == 201, r.get_json()
    # the owner's success does not clear the attacker's throttle
    r = attacker.post("/api/v1/auth/token", json={"email": "admin@jof.example", "password": TEST_PASSWORD})
    assert r.status_code == 429


def test_a_throttled_attempt_verifies_nothing_and_writes_nothing(app, demo):
    from jof.core.audit import AuditEvent

    attacker = app.test_client()
    attacker.environ_base.update(ATTACKER)
    for _ in range(5):
        attacker.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "wrong-password-1"})
    with app.app_context():
        rows = db.session.scalar(select(func.count(LoginAttempt.id)))
        events = db.session.scalar(select(func.count(AuditEvent.id)))
    for _ in range(20):
        r = attacker.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "wrong-password-1"})
        assert r.status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == rows
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_one_address_spraying_many_accounts_is_throttled_for_all(app, demo):
    app.config["JOF_LOGIN_MAX_FAILURES_PER_ADDRESS"], limit = 12, app.config["JOF_LOGIN_MAX_FAILURES_PER_ADDRESS"]
    try:
        sprayer = app.test_client()
        sprayer.environ_base.update(ATTACKER)
        for i in range(12):
            r = sprayer.post("/api/v1/auth/token", json={"email": f"user{i}@undp.jof.example",
                                                         "password": "Summer2026!"})
            assert r.status_code == 401
        r = sprayer.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD})
        assert r.status_code == 429 and "network address" in r.get_json()["detail"]
        _retry_after(r)
        other = app.test_client()
        other.environ_base.update(OWNER)
        assert other.post("/api/v1/auth/token", json={"email": REQUESTER,
                                                      "password": TEST_PASSWORD}).status_code == 201
    finally:
        app.config["JOF_LOGIN_MAX_FAILURES_PER_ADDRESS"] = limit


def test_an_account_guessed_from_many_addresses_slows_down_but_never_locks(app, demo):
    """Past 10 failures from anywhere, each attempt waits 1, 2, 4 ... s (at most 60 s)
    after the last failure; once that has passed, the right password gets in."""
    free = app.config["JOF_LOGIN_ACCOUNT_FREE_FAILURES"]
    with app.app_context():
        now = utcnow()
        db.session.add_all(LoginAttempt(email=REQUESTER, at=now - timedelta(seconds=1),
                                        remote_addr=f"203.0.113.{i}") for i in range(free + 10))
        db.session.commit()
    owner = app.test_client()
    owner.environ_base.update(OWNER)
    r = owner.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 429
    assert 50 <= _retry_after(r) <= 60  # 2**10 s capped at a minute, from the last failure
    with app.app_context():
        for row in db.session.scalars(select(LoginAttempt)):
            row.at = row.at - timedelta(seconds=61)
        db.session.commit()
    r = owner.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD})
    assert r.status_code == 201


def test_failed_logins_for_unknown_accounts_write_no_audit_event(app, client, demo):
    from jof.core.audit import AuditEvent

    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    for i in range(3):
        r = client.post("/api/v1/auth/token", json={"email": f"nobody{i}@jof.example", "password": "x"})
        assert r.status_code == 401
    assert _login(client, email="nobody@jof.example").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 4  # the throttle still counts


def test_an_audited_failure_is_sealed_by_the_next_commit_without_taking_the_chain_lock(app, client, demo):
    from jof.core import audit
    from jof.core.audit import AuditEvent

    assert _login(client, password="wrong-password-1").status_code == 401
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        assert event.seq is None and event.object_id == REQUESTER
        assert event.after == {"remote_addr": "127.0.0.1"}
        assert audit.verify().ok  # waiting to be sealed is not tampering
    assert _login(client).status_code == 302  # a login writes an event: the seal takes the failure along
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        login = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
        assert event.seq is not None and event.seq < login.seq
        assert audit.verify().ok


@pytest.mark.postgres_only
def test_failed_logins_go_through_while_another_transaction_holds_the_chain_lock(app, demo):
    """A failure's audit event is deferred: it does not wait for the chain lock."""
    from sqlalchemy import create_engine

    codes: list[int] = []

    def guesses():
        c = app.test_client()
        for _ in range(3):
            codes.append(c.post("/api/v1/auth/token", json={"email": REQUESTER,
                                                            "password": "wrong-password-1"}).status_code)

    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.begin() as conn:
            conn.execute(text("SELECT value FROM counter WHERE key = 'audit_chain' FOR UPDATE"))
            worker = threading.Thread(target=guesses)
            worker.start()
            worker.join(30)
            finished_under_the_lock = not worker.is_alive()
        worker.join(30)
    finally:
        other.dispose()
    assert finished_under_the_lock and codes == [401, 401, 401]


def test_trusted_proxies_give_the_client_address_from_x_forwarded_for(database_url, demo):
    from jof import create_app

    behind = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k", "TESTING": True,
                         "TRUSTED_PROXIES": 1})
    c = behind.test_client()
    for _ in range(5):
        r = c.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "wrong-password-1"},
                   headers={"X-Forwarded-For": "203.0.113.66"})
        assert r.status_code == 401
    r = c.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD},
               headers={"X-Forwarded-For": "203.0.113.66"})
    assert r.status_code == 429
    r = c.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD},
               headers={"X-Forwarded-For": "198.51.100.7"})
    assert r.status_code == 201
    with behind.app_context():
        assert set(db.session.scalars(select(LoginAttempt.remote_addr))) == {"203.0.113.66"}


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, demo):
    """Anyone can send the header: believing it would let an attacker pick a fresh
    address for every guess."""
    for i in range(5):
        r = client.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "wrong-password-1"},
                        headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"email": REQUESTER, "password": TEST_PASSWORD},
                    headers={"X-Forwarded-For": "203.0.113.99"})
    assert r.status_code == 429


def _parallel_wrong_guesses(app, n: int, send) -> list[int]:
    barrier = threading.Barrier(n)
    codes: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guess(i):
        try:
            c = app.test_client()
            barrier.wait(30)
            code = send(c, i)
            with lock:
                codes.append(code)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return codes


@pytest.mark.postgres_only
def test_thirty_parallel_wrong_guesses_from_one_address_get_exactly_five_401s_and_the_owner_still_gets_in(app, demo):
    def send(c, i):
        return c.post("/api/v1/auth/token", json={"email": REQUESTER,
                                                  "password": f"wrong-password-{i}"}).status_code

    codes = _parallel_wrong_guesses(app, 30, send)
    assert sorted(set(codes)) == [401, 429], codes
    assert codes.count(401) == 5, codes
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))
                                 .where(LoginAttempt.email == REQUESTER)) == 5
    owner = app.test_client()
    owner.environ_base.update(OWNER)
    assert owner.post("/api/v1/auth/token", json={"email": REQUESTER,
                                                  "password": TEST_PASSWORD}).status_code == 201


@pytest.mark.postgres_only
def test_parallel_wrong_guesses_on_the_login_page_hold_the_limit_too(app, demo):
    def send(c, i):
        token = csrf_from(c.get("/login").get_data(as_text=True))
        return c.post("/login", data={"email": REQUESTER, "password": f"wrong-password-{i}",
                                      "csrf_token": token}).status_code

    codes = _parallel_wrong_guesses(app, 12, send)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes


def test_a_failed_login_is_committed_by_the_request_boundary_not_the_handler():
    """House style: one commit per request, made in jof.web (the 401 asks it to keep the
    counted failure); no handler commits on its own."""
    import inspect

    from jof.core import api as core_api
    from jof.core import views as core_views

    for module in (core_api, core_views):
        assert "db.session.commit()" not in inspect.getsource(module), module.__name__


def test_a_failed_login_writes_its_audit_event_with_the_count(app, client, demo):
    from jof.core.audit import AuditEvent

    assert _login(client, password="wrong-password-1").status_code == 401
    r = client.post("/api/v1/auth/token", json={"email": REQUESTER, "password": "nope-nope-nope"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 2
        assert db.session.scalar(select(func.count(AuditEvent.id))
                                 .where(AuditEvent.action == "auth.login_failed")) == 2


def test_a_long_email_still_counts_its_failures(app, client, demo):
    long_email = "a" * 90 + "@undp.jof.example"  # beyond the audit trail's object id column
    for _ in range(5):
        r = client.post("/api/v1/auth/token", json={"email": long_email, "password": "nope-nope-nope"})
        assert r.status_code == 401, r.get_json()
    r = client.post("/api/v1/auth/token", json={"email": long_email, "password": "nope-nope-nope"})
    assert r.status_code == 429


def test_email_is_matched_case_insensitively_for_login_and_limit(client, demo):
    for _ in range(5):
        _login(client, email=REQUESTER.upper(), password="wrong-password-1")
    assert _login(client).status_code == 429


def test_deactivated_user_cannot_log_in(app, client, demo):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == REQUESTER)).active = False
        db.session.commit()
    assert _login(client).status_code == 401


def test_login_never_redirects_off_site(client, demo):
    r = _login(client, next_="//evil.example/x")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    r = _login(client, next_="/queue")
    assert r.headers["Location"] == "/queue"


# --- sessions --------------------------------------------------------------------------


def test_login_starts_a_new_session(client, demo):
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
        sess["uid"] = 999999
    assert _login(client).status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["uid"] == _user(client.application).id


def test_session_cookie_is_httponly_and_samesite_lax(client, demo):
    r = _login(client)
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("jof_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development (tests): plain http on 127.0.0.1


def test_session_cookie_is_secure_when_configured_for_production(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    r = _login(client)
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("jof_session="))
    assert "Secure" in cookie


@pytest.mark.parametrize("env, secure", [("production", True), ("development", False), (None, False)])
def test_config_sets_secure_cookie_only_in_production(tmp_path, monkeypatch, env, secure):
    from jof import config

    monkeypatch.delenv("JOF_CONFIG", raising=False)
    if env is None:
        monkeypatch.delenv("JOF_ENV", raising=False)
    else:
        monkeypatch.setenv("JOF_ENV", env)
    flask_app = Flask("jof_config_probe", instance_path=str(tmp_path / "instance"))
    config.load(flask_app, {"SECRET_KEY": "k"})
    assert flask_app.config["SESSION_COOKIE_SECURE"] is secure
    assert flask_app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert flask_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert flask_app.config["JOF_IDLE_TIMEOUT"] == timedelta(minutes=30)
    assert flask_app.config["JOF_ABSOLUTE_TIMEOUT"] == timedelta(hours=12)


def test_secret_key_is_generated_into_the_instance_folder_once(tmp_path, monkeypatch):
    from jof import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JOF_CONFIG", raising=False)
    first = Flask("jof_config_probe", instance_path=str(tmp_path / "instance"))
    config.load(first)
    second = Flask("jof_config_probe", instance_path=str(tmp_path / "instance"))
    config.load(second)
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_workers_starting_together_all_get_the_same_secret_key(tmp_path):
    from jof import config

    for round_ in range(10):
        instance = tmp_path / f"instance{round_}"
        instance.mkdir()
        barrier = threading.Barrier(8)
        keys: list[str] = []

        def start(barrier=barrier, keys=keys, instance=instance):
            barrier.wait(10)
            keys.append(config._secret_key(instance))

        threads = [threading.Thread(target=start) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        stored = (instance / "secret_key").read_text()
        assert len(keys) == 8 and set(keys) == {stored} and len(stored) >= 40
        assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
        assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file left


@pytest.mark.parametrize("given, used", [
    ("postgresql://jof:pw@db:5432/jof", "postgresql+psycopg://jof:pw@db:5432/jof"),
    ("postgres://jof@db/jof", "postgresql+psycopg://jof@db/jof"),
    ("postgresql+psycopg://jof@db/jof", "postgresql+psycopg://jof@db/jof"),
    ("sqlite:////srv/jof/jof.db", "sqlite:////srv/jof/jof.db"),
])
def test_a_postgresql_url_without_driver_uses_psycopg_3(tmp_path, monkeypatch, given, used):
    from jof import config

    monkeypatch.delenv("JOF_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", given)
    flask_app = Flask("jof_config_probe", instance_path=str(tmp_path / "instance"))
    config.load(flask_app, {"SECRET_KEY": "k"})
    assert flask_app.config["SQLALCHEMY_DATABASE_URI"] == used


def test_the_command_line_prints_no_library_info_lines_by_default(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("JOF_CONFIG", "LOG_LEVEL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'jof.db'}", SECRET_KEY="k")
    jof = Path(sys.executable).with_name("jof")
    r = subprocess.run([str(jof), "routes"], env=env, capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    assert "/api/v1/requests/<reference>" in r.stdout
    assert "INFO" not in r.stderr, r.stderr[:500]


def test_logout_invalidates_the_session_server_side(client, demo):
    _login(client)
    assert _logged_in(client.get("/"))
    stolen = client.get_cookie("jof_session").value
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _bounced_to_login(client.get("/"))
    # an old copy of the cookie, replayed after logout, is refused
    client.set_cookie("jof_session", stolen)
    assert _bounced_to_login(client.get("/"))


def test_logout_needs_post_with_csrf(client, demo):
    _login(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert _logged_in(client.get("/"))


def _age_session(client, **ago):
    now = int(utcnow().timestamp())
    with client.session_transaction() as sess:
        for key, delta in ago.items():
            sess[key] = now - int(delta.total_seconds())


def test_idle_session_times_out_after_30_minutes(client, demo):
    _login(client)
    _age_session(client, seen=timedelta(minutes=29))
    assert _logged_in(client.get("/"))  # activity renews the idle clock
    _age_session(client, seen=timedelta(minutes=31))
    assert _bounced_to_login(client.get("/"))
    assert _bounced_to_login(client.get("/"))


def test_session_ends_12_hours_after_login_however_active(client, demo):
    _login(client)
    _age_session(client, iat=timedelta(hours=11, minutes=59), seen=timedelta(minutes=1))
    assert _logged_in(client.get("/"))
    _age_session(client, iat=timedelta(hours=12, minutes=1), seen=timedelta(minutes=1))
    assert _bounced_to_login(client.get("/"))


def test_password_change_requires_12_characters_and_the_current_password(app, demo):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REQUESTER))
        with pytest.raises(ValidationFailed) as short:
            auth.change_password(user, TEST_PASSWORD, "elevenchars")
        assert "new_password" in short.value.errors
        with pytest.raises(ValidationFailed) as wrong:
            auth.change_password(user, "not-my-password", NEW_PASSWORD)
        assert "current_password" in wrong.value.errors
        auth.change_password(user, TEST_PASSWORD, "twelve-chars")
        db.session.commit()


def test_password_change_ends_other_sessions(app, web, client):
    other = web(REQUESTER)
    assert _logged_in(other.get("/"))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REQUESTER))
        auth.change_password(user, TEST_PASSWORD, NEW_PASSWORD)
        db.session.commit()
    assert _bounced_to_login(other.get("/"))
    assert _login(client).status_code == 401
    assert _login(client, password=NEW_PASSWORD).status_code == 302


# --- API tokens ------------------------------------------------------------------------


def _token(client, email=REQUESTER, password=TEST_PASSWORD) -> str:
    r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def test_api_token_is_stored_only_as_its_sha256(app, client, demo):
    token = _token(client)
    with app.app_context():
        rows = db.session.scalars(select(ApiToken)).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in (r.token_hash + r.name) for r in rows)
        assert rows[0].expires_at > utcnow() + timedelta(days=29)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["email"] == REQUESTER


def test_api_needs_a_bearer_token_and_ignores_the_session_cookie(client, demo):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer jof_made-up"}).status_code == 401
    _login(client)
    # a cookie alone must not authenticate the CSRF-exempt API
    assert client.get("/api/v1/me").status_code == 401


def test_revoked_token_is_refused(client, demo):
    token = _token(client)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_token_is_refused(app, client, demo):
    token = _token(client)
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_of_a_deactivated_user_is_refused(app, client, demo):
    token = _token(client)
    with app.app_context():
        db.session.scalar(select(User).where(User.email == REQUESTER)).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_password_change_revokes_the_users_api_tokens(app, web, client):
    old_token = _token(client)
    c = web(REQUESTER)
    token = csrf_from(c.get("/password").get_data(as_text=True))
    r = c.post("/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                  "confirm_password": NEW_PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    assert client.get("/api/v1/me", headers=_bearer(old_token)).status_code == 401
    new_token = _token(client, password=NEW_PASSWORD)
    assert client.get("/api/v1/me", headers=_bearer(new_token)).status_code == 200


@pytest.mark.parametrize("change", [{"password": NEW_PASSWORD}, {"active": False}])
def test_an_admin_reset_or_deactivation_revokes_the_users_api_tokens(app, client, demo, change):
    victim = _token(client)
    other = _token(client, "head@undp.jof.example")
    admin = _token(client, "admin@jof.example")
    uid = _user(app).id
    r = client.patch(f"/api/v1/users/{uid}", json=change, headers={**_bearer(admin), "If-Match": "*"})
    assert r.status_code == 200, r.get_json()
    assert client.get("/api/v1/me", headers=_bearer(victim)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(other)).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(admin)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == uid))
        assert row.revoked_at is not None
    if change == {"active": False}:  # reactivating does not bring the old token back
        assert client.patch(f"/api/v1/users/{uid}", json={"active": True},
                            headers={**_bearer(admin), "If-Match": "*"}).status_code == 200
        assert client.get("/api/v1/me", headers=_bearer(victim)).status_code == 401


def test_tokens_look_random_and_are_unique(app, client, demo):
    first, second = _token(client), _token(client)
    assert first != second
    assert re.fullmatch(r"jof_[A-Za-z0-9_-]{40,}", first)


def test_password_change_form_refuses_short_passwords_and_needs_csrf(web):
    c = web(REQUESTER)
    assert c.post("/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                     "confirm_password": NEW_PASSWORD}).status_code == 400
    token = csrf_from(c.get("/password").get_data(as_text=True))
    r = c.post("/password", data={"current_password": TEST_PASSWORD, "new_password": "short-11chr",
                                  "confirm_password": "short-11chr", "csrf_token": token})
    assert r.status_code == 422
    assert _logged_in(c.get("/"))


def test_password_change_form_ends_every_other_session(web, client):
    this, other = web(REQUESTER), web(REQUESTER)
    token = csrf_from(this.get("/password").get_data(as_text=True))
    r = this.post("/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                     "confirm_password": NEW_PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    assert _bounced_to_login(other.get("/"))
    assert _login(client, password=NEW_PASSWORD).status_code == 302
