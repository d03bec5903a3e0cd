"""Core API: tokens, the caller, agencies, users, rates, requests, notifications, audit."""

from __future__ import annotations

from datetime import date

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from jof.api import Blueprint, page_of, page_schema
from jof.core import audit, auth, authz, services, workflow
from jof.core import schemas as s
from jof.core.db import db
from jof.core.errors import NotFound
from jof.core.money import ExchangeRate
from jof.core.notifications import Notification, mark_read
from jof.core.people import Agency, Role

blp = Blueprint("core_api", __name__, url_prefix="/api/v1", description="People, requests, audit")

READERS_OF_AUDIT = (Role.AUDITOR, Role.ADMIN, Role.MANAGER)


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(s.TokenIn)
@blp.response(201, s.TokenOut)
@blp.doc(security=[])
def create_token(data):
    """Exchange e-mail and password for a bearer token (counted against the login limit)."""
    try:
        user = auth.authenticate(data["email"], data["password"])
    except auth.Unauthorized:
        db.session.commit()  # the failed attempt must count even though we answer 401
        raise
    token, row = auth.issue_token(user, data["name"])
    return {"token": token, "expires_at": row.expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with."""
    user = authz.require_user()
    auth.revoke_token(user, g.api_token)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.UserOut)
    def get(self):
        return authz.require_user()

    @blp.arguments(s.MeUpdate)
    @blp.response(200, s.UserOut)
    def patch(self, data):
        user = authz.require_user()
        services.set_locale(user, data["locale"], {"en": 1, "pt_BR": 1})
        return user


@blp.route("/agencies")
class Agencies(MethodView):
    @blp.arguments(s.RateQuery(only=("page", "per_page")), location="query")
    @blp.response(200, page_schema(s.AgencyOut, "AgencyPage"))
    def get(self, q):
        """Member and partner agencies (every signed-in user may read the list)."""
        authz.require_user()
        return page_of(select(Agency).order_by(Agency.code), q["page"], q["per_page"])

    @blp.arguments(s.AgencyIn)
    @blp.response(201, s.AgencyOut)
    def post(self, data):
        return services.create_agency(authz.require_user(), data)


@blp.route("/agencies/<code>")
class AgencyItem(MethodView):
    @blp.response(200, s.AgencyOut)
    def get(self, code):
        authz.require_user()
        return services.get_agency(code)

    @blp.arguments(s.AgencyUpdate)
    @blp.response(200, s.AgencyOut)
    def patch(self, data, code):
        user = authz.require_user()
        authz.ensure_can_change(user)
        return services.update_agency(user, services.get_agency(code), data)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(s.RateQuery(only=("page", "per_page")), location="query")
    @blp.response(200, page_schema(s.UserOut, "UserPage"))
    def get(self, q):
        """Users the caller may see: all for facility staff, their own agency's otherwise."""
        user = authz.require_user()
        return page_of(services.users_query(user), q["page"], q["per_page"])

    @blp.arguments(s.UserIn)
    @blp.response(201, s.UserOut)
    def post(self, data):
        actor = authz.require_user()
        authz.ensure_can_change(actor)
        return services.create_user(actor, data)


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, s.UserOut)
    def get(self, user_id):
        actor = authz.require_user()
        return services.get_user(actor, user_id)

    @blp.arguments(s.UserUpdate)
    @blp.response(200, s.UserOut)
    def patch(self, data, user_id):
        actor = authz.require_user()
        authz.ensure_can_change(actor)
        return services.update_user(actor, services.get_user(actor, user_id), data)


@blp.route("/exchange-rates")
class Rates(MethodView):
    @blp.arguments(s.RateQuery, location="query")
    @blp.response(200, page_schema(s.RateOut, "RatePage"))
    def get(self, q):
        """UN operational rates of exchange, units of currency per USD, per month."""
        authz.require_user()
        stmt = select(ExchangeRate).order_by(ExchangeRate.month.desc(), ExchangeRate.currency)
        if q.get("currency"):
            stmt = stmt.where(ExchangeRate.currency == q["currency"].upper())
        return page_of(stmt, q["page"], q["per_page"])

    @blp.arguments(s.RateIn)
    @blp.response(201, s.RateOut)
    def post(self, data):
        """Set (or correct) one month's rate for a currency."""
        actor = authz.require_user()
        authz.ensure_can_change(actor)
        year, month = (int(x) for x in data["month"].split("-"))
        return services.set_rate(actor, data["currency"], date(year, month, 1), data["units_per_usd"])


@blp.route("/exchange-rates/import", methods=["POST"])
@blp.arguments(s.RateImportIn)
@blp.response(200, s.RateImportOut)
@blp.alt_response(422, description="Rows were rejected; nothing was imported")
def import_rates(data):
    """Import rates from CSV, all or nothing; the report names each rejected line."""
    actor = authz.require_user()
    authz.ensure_can_change(actor)
    report = services.import_rates_csv(actor, data["csv"])
    if report.rejected:
        from jof.core.errors import ValidationFailed

        raise ValidationFailed({f"line {r['line']}": [f"{k}: {', '.join(v)}" for k, v in r["errors"].items()]
                                for r in report.rejected},
                               f"{len(report.rejected)} row(s) rejected; nothing was imported.",
                               rejected=report.rejected)
    return report


@blp.route("/requests")
@blp.arguments(s.RequestQuery, location="query")
@blp.response(200, page_schema(s.RequestOut, "RequestPage"))
def list_requests(q):
    """Requests of every line the caller may see, with the queue's filters."""
    user = authz.require_user()
    f = workflow.QueueFilter(**{k: q[k] for k in ("line", "agency", "status", "min_age_days",
                                                  "sla_breached", "open_only") if k in q})
    return page_of(workflow.queue_query(user, f), q["page"], q["per_page"])


def _detail(user, sr):
    data = s.RequestDetailOut().dump(sr)
    data["allowed_actions"] = workflow.allowed_actions(user, sr)
    return data


@blp.route("/requests/<reference>")
@blp.response(200, s.RequestDetailOut)
def get_request(reference):
    user = authz.require_user()
    sr = workflow.get_by_reference(user, reference)
    return _detail(user, sr)


@blp.route("/requests/<reference>/transitions", methods=["POST"])
@blp.arguments(s.TransitionIn)
@blp.response(200, s.RequestDetailOut)
@blp.alt_response(409, description="Stale version, or an action not open in this state (lists allowed_actions)")
def transition(data, reference):
    """Move a request through its workflow: submit, certify, approve, reject, start, …"""
    user = authz.require_user()
    sr = workflow.get_by_reference(user, reference)
    workflow.perform(user, sr, data["action"], data["comment"], data["version"])
    return _detail(user, sr)


@blp.route("/notifications")
@blp.arguments(s.RateQuery(only=("page", "per_page")), location="query")
@blp.response(200, page_schema(s.NotificationOut, "NotificationPage"))
def notifications(q):
    user = authz.require_user()
    stmt = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    return page_of(stmt, q["page"], q["per_page"])


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, s.NotificationOut)
def notification_read(notification_id):
    user = authz.require_user()
    n = db.session.get(Notification, notification_id)
    if n is None:
        raise NotFound("No such notification.")
    mark_read(user, n)
    return n


@blp.route("/audit")
@blp.arguments(s.AuditQuery, location="query")
@blp.response(200, page_schema(s.AuditOut, "AuditPage"))
def audit_events(q):
    """The audit trail, newest first (auditor, administrator, manager)."""
    user = authz.require_user()
    authz.require_roles(user, *READERS_OF_AUDIT)
    stmt = audit.events_query(**{k: q.get(k) for k in ("actor", "action", "object_type",
                                                       "object_id", "since", "until")})
    return page_of(stmt, q["page"], q["per_page"])
