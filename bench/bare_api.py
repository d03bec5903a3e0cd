"""The baseline of the API benchmark: a bare Flask + SQLAlchemy app serving the same JSON
as ``GET /api/v1/requests`` and ``GET /api/v1/requests/<ref>`` for the same query, on
JOF's own tables: the bearer token looked up by its SHA-256 digest in ``api_token`` (with
its user, expiry and revocation checked), the same columns, the same order and pagination.

What it leaves out is what JOF adds around the same work: marshmallow schemas, the
OpenAPI layer, per-object authorisation, the audit request id, security headers. The
actions open to the caller are the facility manager's on a submitted request (the only
caller and state the benchmark asks about).

``gunicorn 'bench.bare_api:create_app()'`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, request
from sqlalchemy import create_engine, text

FIELDS = ("reference", "request_type", "title", "description", "status", "amount_usd", "created_at",
          "submitted_at", "certified_at", "approved_at", "started_at", "completed_at", "closed_at",
          "sla_due_at", "version")
LINES = {"test": "procurement", "travel": "travel", "procurement": "procurement", "ict_ticket": "ict",
         "ict_subscription": "ict"}
MANAGER_ACTIONS = {"submitted": ["approve", "reject", "cancel"]}
COLUMNS = ", ".join(f"r.{f}" for f in FIELDS)
SELECT = (f"SELECT r.id, {COLUMNS}, a.code AS agency, a.approval_limit_usd, u.email AS requester "
          "FROM service_request r JOIN agency a ON a.id = r.agency_id JOIN \"user\" u ON u.id = r.requester_id")


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _row(r) -> dict:
    out = {f: getattr(r, f) for f in FIELDS}
    for f in FIELDS:
        if f.endswith("_at"):
            out[f] = _iso(out[f])
    out["amount_usd"] = None if r.amount_usd is None else f"{r.amount_usd:.2f}"
    out["agency"] = r.agency
    out["requester"] = r.requester
    out["service_line"] = LINES.get(r.request_type, r.request_type)
    out["needs_certification"] = r.amount_usd is not None and r.amount_usd > r.approval_limit_usd
    end = r.completed_at or r.closed_at or datetime.now(UTC).replace(tzinfo=None)
    due = r.sla_due_at.replace(tzinfo=None) if r.sla_due_at is not None and r.sla_due_at.tzinfo else r.sla_due_at
    end = end.replace(tzinfo=None) if end.tzinfo else end
    out["sla_breached"] = due is not None and end > due
    return out


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=5)

    def caller(conn) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            abort(401)
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        row = conn.execute(text(
            "SELECT t.expires_at, t.revoked_at, u.active FROM api_token t JOIN \"user\" u ON u.id = t.user_id "
            "WHERE t.token_hash = :h"), {"h": digest}).first()
        now = datetime.now(UTC)
        expires = row.expires_at if row is not None else None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if row is None or row.revoked_at is not None or expires <= now or not row.active:
            abort(401)

    @app.get("/api/v1/requests")
    def requests_page():
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(200, max(1, int(request.args.get("per_page", 25))))
        with engine.connect() as conn:
            caller(conn)
            total = conn.execute(text("SELECT count(*) FROM service_request")).scalar()
            rows = conn.execute(text(SELECT + " ORDER BY r.created_at DESC, r.id DESC LIMIT :l OFFSET :o"),
                                {"l": per_page, "o": (page - 1) * per_page}).all()
        return jsonify({"items": [_row(r) for r in rows], "total": total, "page": page, "per_page": per_page})

    @app.get("/api/v1/requests/<reference>")
    def request_detail(reference):
        with engine.connect() as conn:
            caller(conn)
            r = conn.execute(text(SELECT + " WHERE r.reference = :ref"), {"ref": reference}).first()
            if r is None:
                abort(404)
            timeline = conn.execute(text(
                "SELECT t.at, t.action, t.from_status, t.to_status, t.comment, u.email AS actor "
                "FROM timeline_entry t LEFT JOIN \"user\" u ON u.id = t.actor_id WHERE t.request_id = :id "
                "ORDER BY t.id"), {"id": r.id}).all()
        out = _row(r)
        out["timeline"] = [{"at": _iso(t.at), "action": t.action, "from_status": t.from_status,
                            "to_status": t.to_status, "comment": t.comment, "actor": t.actor} for t in timeline]
        out["allowed_actions"] = MANAGER_ACTIONS.get(r.status, [])
        return jsonify(out)

    return app
