"""The request boundary: who is asking, one commit per request, errors, headers.

Handlers and services never commit. A response below 400 commits the unit of work here;
anything else rolls it back, so a failed request writes nothing (and audit events only
ever describe changes that happened). The one exception is asked for explicitly: a
handler that sets ``g.commit_on_error`` (the login, whose counted failure is a 401)
has its writes committed whatever the status.
"""

from __future__ import annotations

import csv
import logging

from flask import Flask, Request, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from jof.core import audit, auth, authz, once, safejson
from jof.core.db import db, write_intent
from jof.core.errors import DomainError, Forbidden, ValidationFailed, problem
from jof.core.money import MoneyError

log = logging.getLogger("jof")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: What a read-only user (the auditor) may still post: their own session and settings.
READ_ONLY_MAY_POST = {
    "core_api.create_token", "core_api.revoke_token", "core_api.Me",
    "core.login", "core.logout", "core.password", "core.language", "profile.profile",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


#: The largest id a primary key holds (a 32-bit INTEGER on PostgreSQL).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` that no longer matches numbers beyond any primary key (→ 404).

    Werkzeug's converter takes any run of digits; 99999999999 then reaches the database,
    where PostgreSQL refuses it as out of range for ``integer`` and SQLite's driver
    overflows beyond 64 bits, both a 500 for what is just a missing object.
    """

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (\\x00)."


def _nul_fields(value, prefix: str = "") -> list[str]:
    """Where a NUL hides in a JSON value (keys, strings, nested): ``a.0.b`` paths."""
    found = []
    if isinstance(value, str):
        if NUL in value:
            found.append(prefix or "_body")
    elif isinstance(value, dict):
        for key, sub in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                found.append(name)
            else:
                found += _nul_fields(sub, name)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            found += _nul_fields(sub, f"{prefix}.{i}" if prefix else str(i))
    return found


def refuse_nul_characters() -> None:
    """No text JOF stores or looks up may hold ``\\x00``: PostgreSQL refuses it in any
    string (a 500 deep in a query), and no person types one. Refused at the door, in the
    path (400), in the query, the form and JSON bodies (422 naming the field)."""
    if NUL in request.path:
        raise DomainError(_("The address contains a NUL character (\\x00)."))
    fields: list[str] = []
    # The API reads JSON only (a form body there is refused as not JSON, and parsing it
    # here would consume the body that refusal reads).
    for multi in (request.args,) if is_api_request() else (request.args, request.form):
        for key, values in multi.lists():
            if NUL in key or any(NUL in v for v in values):
                fields.append(key)
    if request.is_json:
        fields += _nul_fields(_strict_json_body())
    if fields:
        raise ValidationFailed({f.replace(NUL, "\\x00"): [NUL_MESSAGE] for f in fields},
                               _("The data sent contains a NUL character (\\x00)."))


def _strict_json_body():
    """The JSON body parsed strictly (:mod:`jof.core.safejson`), or None when it is not
    JSON at all (the API's parser answers that with its own 422).

    Hostile but well-formed JSON (a lone surrogate, a number of thousands of digits,
    deep nesting) is refused here, before any handler, with a 422 naming the place.
    """
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return safejson.loads(raw)
    except safejson.UnsafeJSON as exc:
        raise ValidationFailed({exc.where: [exc.message]}, exc.message) from None
    except ValueError:
        return None


#: Endpoints that receive files or CSV imports: they may send up to the attachment limit.
UPLOAD_ENDPOINTS = frozenset({
    "governance_api.Attachments", "governance.attach",
    "core_api.import_rates", "core.rates_import",
    "travel_api.import_rates", "travel.import_rates",
    "monitoring_api.SlaDocument", "monitoring.sla_new",
    "hr_public.apply_page", "hr_officer_api.import_applications", "hr_officer.import_applications",
    "hr_api.Terms", "hr.terms_upload",
})


class JofRequest(Request):
    """A request whose body limit follows its endpoint: the upload and CSV-import routes
    take up to the attachment limit, everything else ``MAX_CONTENT_LENGTH``. It is a
    property of the request, not set by a hook, because the CSRF check reads a form
    before any of JOF's own hooks run."""

    @property
    def max_content_length(self) -> int | None:
        if self.endpoint in UPLOAD_ENDPOINTS:
            return current_app.config["JOF_MAX_UPLOAD_LENGTH"]
        return current_app.config.get("MAX_CONTENT_LENGTH")


def limit_body_size(app: Flask) -> None:
    """Refuse a body over the limit on its declared length, before a byte is read.

    Werkzeug enforces ``request.max_content_length`` when the body is read (also for a
    chunked body, which declares no length); checking the declared length first means a
    100 MB body is refused without being received, parsed or held in memory.
    """
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(_("The request body is too large: at most %(kb)s KB.", kb=limit // 1024))


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; the scheme name is
    case-insensitive (RFC 9110 §11.1), so ``bearer`` works too."""
    scheme, _sep, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def init_app(app: Flask) -> None:
    # Before any blueprint adds its rules: every <int:...> is bounded.
    app.url_map.converters["int"] = IdConverter
    app.request_class = JofRequest
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind that many reverse proxies, each appending to X-Forwarded-For: the client
        # address (which the login throttle counts by) is the one the nearest trusted
        # proxy saw. Without the setting the headers are ignored, since anyone can send them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.json = safejson.StrictJSONProvider(app)

    @app.before_request
    def _begin():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or audit.new_request_id()
        g._write_token = write_intent.set(request.method not in SAFE_METHODS)
        g.user = None
        g.api_token = None
        limit_body_size(app)
        if is_api_request():
            token = bearer_token()
            if token:
                found = auth.user_from_token(token)
                if found:
                    g.user, g.api_token = found
        else:
            g.user = auth.user_from_session()
        refuse_nul_characters()
        if (g.user is not None and request.method not in SAFE_METHODS
                and request.endpoint not in READ_ONLY_MAY_POST and authz.is_read_only(g.user)):
            raise Forbidden(_("Your role allows reading only; it cannot change anything."))
        # Last, once the caller is known and allowed: a form token or Idempotency-Key
        # seen before answers what its first use answered (jof.core.once).
        return once.begin(g.user, is_api=is_api_request())

    @app.after_request
    def _commit(response):
        if not g.get("once_replayed"):
            once.stamp_forms(response)
            once.remember(response)
        # A handler may ask to keep what it wrote although it answers an error (a failed
        # login must count, yet the answer is 401): g.commit_on_error = True.
        if response.status_code < 400 or g.get("commit_on_error"):
            try:
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                return _error_response(409, _("Someone else changed this at the same time. Reload and try again."))
            except IntegrityError as exc:
                db.session.rollback()
                log.info("integrity error at commit: %s", exc.orig)
                return _error_response(409, _("This conflicts with data that already exists."))
            except StatementError as exc:
                db.session.rollback()
                refusal = _database_refusal(exc)
                if refusal is None:
                    raise
                return refusal
        else:
            db.session.rollback()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if response.status_code == 429:
            # Every 429 says when to come back; the throttles set the exact time.
            response.headers.setdefault("Retry-After", "60")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        if app.config["JOF_PRODUCTION"]:
            # Production is served over HTTPS only (the session cookie is Secure): tell the
            # browser never to try plain HTTP for a year.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
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
        response = _error_response(exc.status, exc.detail, exc.errors, **exc.extra)
        response.headers.update(exc.headers())
        return response

    @app.errorhandler(csv.Error)
    def _unreadable_csv(exc: csv.Error):
        """An imported CSV that Python's reader cannot read (e.g. a bare carriage return
        inside a field): the sender's file is at fault, not the server."""
        db.session.rollback()
        message = _("The CSV cannot be read: %(reason)s.", reason=str(exc))
        return _error_response(422, message, {"csv": [message]})

    @app.errorhandler(MoneyError)
    def _money_error(exc: MoneyError):
        return _error_response(422, str(exc), {"amount": [str(exc)]})

    @app.errorhandler(StatementError)
    def _statement_error(exc: StatementError):
        """The backstop for input that validation let through and the database refused."""
        db.session.rollback()
        refusal = _database_refusal(exc)
        if refusal is None:
            return _unexpected(exc)
        return refusal

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


def _database_refusal(exc: StatementError):
    """A 409/422 for a statement the database (or a column type) refused, else None.

    Validation should have caught each of these; when it did not, the caller still gets
    a 4xx naming the problem, and the log says what slipped through.
    """
    if isinstance(exc, IntegrityError):
        log.info("integrity error (request %s): %s", g.get("request_id"), exc.orig)
        return _error_response(409, _("This conflicts with data that already exists."))
    if isinstance(exc, DataError):
        log.warning("data refused by the database (request %s): %s", g.get("request_id"), exc.orig)
        return _error_response(422, _("A value sent is out of range or malformed for the database."))
    if isinstance(exc.orig, MoneyError):
        log.warning("amount refused by its column (request %s): %s", g.get("request_id"), exc.orig)
        return _error_response(422, str(exc.orig), {"amount": [str(exc.orig)]})
    return None


def _field_errors(exc: HTTPException) -> dict:
    from jof.core.apikit import merge_locations

    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return {}
    # webargs nests by location ("json", "query"); the field names are what users need.
    return merge_locations(messages)


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
