"""Settings from the environment and the instance folder.

There is no fallback ``SECRET_KEY``: when none is configured one is generated into the
instance folder on first run, so a fresh checkout is safe and restarts keep sessions.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from jof.core.keyfile import instance_key as _secret_key


def database_url(url: str) -> str:
    """``postgresql://`` and Heroku-style ``postgres://`` mean psycopg 3, the driver JOF
    installs (SQLAlchemy would otherwise pick psycopg2, which is not installed)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(app, overrides: dict | None = None) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    cfg = app.config
    production = os.environ.get("JOF_ENV", "development") == "production"
    cfg.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'jof.db'}",
        # No ping on every checkout: jof.core.db pings connections idle for 30 s only.
        SQLALCHEMY_ENGINE_OPTIONS={},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        #: HTTPS only: HSTS on every response (jof/web.py).
        JOF_PRODUCTION=production,
        #: Bodies larger than this are refused with 413 before they are read (issue 11).
        MAX_CONTENT_LENGTH=1024 * 1024,
        #: The routes that receive files (attachments, CSV imports): the attachment limit
        #: of 5 MB plus room for the multipart envelope.
        JOF_MAX_UPLOAD_LENGTH=5 * 1024 * 1024 + 64 * 1024,
        SESSION_COOKIE_NAME="jof_session",
        #: DESIGN §9: idle timeout 30 min, absolute 12 h.
        JOF_IDLE_TIMEOUT=timedelta(minutes=30),
        JOF_ABSOLUTE_TIMEOUT=timedelta(hours=12),
        #: The browser drops the cookie no later than the absolute timeout.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        #: Login throttling (jof/core/throttle.py): failures of one account from one
        #: address inside the window before that address gets 429 for that account ...
        JOF_LOGIN_MAX_FAILURES=5,
        JOF_LOGIN_WINDOW=timedelta(minutes=15),
        #: ... failures from one address, any account, before it gets 429 for all ...
        JOF_LOGIN_MAX_FAILURES_PER_ADDRESS=30,
        #: ... and failures of one account, any address, before each next attempt waits
        #: 1, 2, 4 ... seconds after the last failure, at most JOF_LOGIN_MAX_DELAY.
        JOF_LOGIN_ACCOUNT_FREE_FAILURES=10,
        JOF_LOGIN_MAX_DELAY=timedelta(seconds=60),
        #: Reverse proxies in front of JOF that append to X-Forwarded-For (0: none, the
        #: headers are ignored). The documented nginx site is one.
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES", "0") or 0),
        JOF_PASSWORD_MIN_LENGTH=12,
        JOF_API_TOKEN_TTL=timedelta(days=30),
        #: Once-only submission (jof/core/once.py): how long a used form token or
        #: Idempotency-Key, and the answer it got, are kept.
        JOF_ONCE_TTL=timedelta(days=1),
        #: HR (jof/hr/purge.py): `jof hr purge` removes the personal data of candidates not
        #: selected this many months after their recruitment ended.
        JOF_HR_PURGE_MONTHS=24,
        #: Without REDIS_URL, jobs (jof.core.jobs) run in a thread of the web process after the
        #: request that started them (True), or inside that request (False: its answer
        #: waits for the whole batch).
        JOF_JOBS_IN_BACKGROUND=True,
        WTF_CSRF_TIME_LIMIT=None,  # bound by the session lifetime instead
        BOOTSTRAP_SERVE_LOCAL=True,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE="UTC",
        JOF_LANGUAGES={"en": "English", "pt_BR": "Português (Brasil)"},
        API_TITLE="JOF API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        PER_PAGE_DEFAULT=25,
        PER_PAGE_MAX=200,
        #: Of the root logger; INFO also shows every library's chatter on each command.
        LOG_LEVEL="WARNING",
        #: E-mail (jof/core/mail.py, docs/alerts.md): nothing is sent while MAIL_SERVER is unset.
        MAIL_SERVER=os.environ.get("MAIL_SERVER") or None,
        MAIL_PORT=int(os.environ.get("MAIL_PORT", "25") or 25),
        MAIL_USERNAME=os.environ.get("MAIL_USERNAME") or None,
        MAIL_PASSWORD=os.environ.get("MAIL_PASSWORD") or None,
        MAIL_USE_TLS=os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes", "on"),
        MAIL_DEFAULT_SENDER=os.environ.get("MAIL_DEFAULT_SENDER") or "jof@localhost",
        MAIL_TIMEOUT=int(os.environ.get("MAIL_TIMEOUT", "10") or 10),
    )
    config_file = os.environ.get("JOF_CONFIG")
    if config_file:
        cfg.from_pyfile(config_file)
    if overrides:
        cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if not cfg.get("AUDIT_KEY") and os.environ.get("AUDIT_KEY"):
        cfg["AUDIT_KEY"] = os.environ["AUDIT_KEY"]
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(instance)
