"""The request boundary: who is asking, one commit per request, errors, headers.

Handlers and services never commit. A response below 400 commits the unit of work here;
anything else rolls it back, so a failed request writes nothing (and audit events only
ever describe changes that happened).
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from jof.core import audit, auth, authz
from jof.core.db import db, write_intent
from jof.core.errors import DomainError, Forbidden, problem
from jof.core.money import MoneyError

log = logging.getLogger("jof")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: What a read-only user (the auditor) may still post: their own session and settings.
READ_ONLY_MAY_POST = {
    "core_api.create_token", "core_api.revoke_token", "core_api.Me",
    "core.login", "core.logout", "core.password", "core.language",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.before_request
    def _begin():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or audit.new_request_id()
        g._write_token = write_intent.set(request.method not in SAFE_METHODS)
        g.user = None
        g.api_token = None
        if is_api_request():
            header = request.headers.get("Authorization", "")
            if header.startswith("Bearer "):
                found = auth.user_from_token(header[7:].strip())
                if found:
                    g.user, g.api_token = found
        else:
            g.user = auth.user_from_session()
        if (g.user is not None and request.method not in SAFE_METHODS
                and request.endpoint not in READ_ONLY_MAY_POST and authz.is_read_only(g.user)):
            raise Forbidden(_("Your role allows reading only; it cannot change anything."))

    @app.after_request
    def _commit(response):
        if response.status_code < 400:
            try:
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                return _error_response(409, _("Someone else changed this at the same time. Reload and try again."))
            except IntegrityError as exc:
                db.session.rollback()
                log.info("integrity error at commit: %s", exc.orig)
                return _error_response(409, _("This conflicts with data that already exists."))
        else:
            db.session.rollback()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        if g.get("user") is not None or is_api_request():
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _end(_exc):
        token = g.pop("_write_token", None)
        if token is not None:
            write_intent.reset(token)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return _error_response(exc.status, exc.detail, exc.errors, **exc.extra)

    @app.errorhandler(MoneyError)
    def _money_error(exc: MoneyError):
        return _error_response(422, str(exc), {"amount": [str(exc)]})

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return _error_response(400, _("The form expired or was not sent from JOF. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response = _error_response(exc.code or 500, exc.description or exc.name,
                                   _field_errors(exc))
        for key, value in exc.get_headers():
            if key.lower() != "content-type":
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error (request %s)", g.get("request_id"))
        db.session.rollback()
        return _error_response(500, _("Something went wrong on our side. The error was logged "
                                      "with request id %(rid)s.", rid=g.get("request_id", "")))


def _field_errors(exc: HTTPException) -> dict:
    from jof.core.errors import flatten_field_errors

    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return {}
    # webargs nests by location ("json", "query"); the field names are what users need.
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files", "headers", "view_args"}:
        merged = {}
        for sub in messages.values():
            if isinstance(sub, dict):
                merged.update(sub)
            else:
                merged.setdefault("_schema", []).extend(sub if isinstance(sub, list) else [sub])
        messages = merged
    return flatten_field_errors(messages)


def _error_response(status: int, detail: str, errors: dict | None = None, **extra):
    if is_api_request() or request.accept_mimetypes.best == "application/json":
        response = jsonify(problem(status, detail, errors, **extra))
        response.status_code = status
        return response
    # A Response object either way, so callers can add headers (Allow on a 405).
    response = make_response(render_template("error.html", status=status, detail=detail,
                                             errors=errors or {}))
    response.status_code = status
    return response
