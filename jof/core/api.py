"""Core API: tokens, the caller, agencies, users, rates, requests, notifications, audit.

Handlers are thin: authenticate (the blueprint does it before parsing), authorize,
call a service, answer. Services check roles and agency scope themselves, so the same
rules hold from the HTML pages and the command line.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from jof.core import audit, auth, authz, lists, services, waiting, workflow
from jof.core import schemas as s
from jof.core.apikit import Blueprint, if_match, page_schema, public
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.money import ExchangeRate
from jof.core.notifications import Notification, mark_read
from jof.core.paging import PaginationQuery, page_of
from jof.core.people import Agency, Role, User

blp = Blueprint("core_api", __name__, url_prefix="/api/v1",
                description="Tokens, people, exchange rates, the request spine, notifications, audit")

#: The trail is for oversight: the auditor, the administrator and the facility manager.
READERS_OF_AUDIT = (Role.AUDITOR, Role.ADMIN, Role.MANAGER, Role.RESIDENT_COORDINATOR)


# --- tokens and the caller ----------------------------------------------------------------


@blp.route("/auth/token", methods=["POST"])
@public
@blp.arguments(s.TokenIn)
@blp.response(201, s.TokenOut)
@blp.errors(401, 429)
def create_token(data):
    """Exchange e-mail and password for a bearer token.

    Wrong passwords count against the same throttle as the login page: after 5 failures
    for one account from one address in 15 minutes that address answers 429 for it,
    even to the right password, until the window passes (the owner elsewhere still gets
    in); 30 failures from one address throttle it for every account; many failures on
    one account from anywhere make each attempt wait up to a minute. Every 429 carries
    ``Retry-After``. The token lasts 30 days unless revoked.
    """
    try:
        user = auth.authenticate(data["email"], data["password"], request.remote_addr or "")
    except auth.Unauthorized:
        g.commit_on_error = True  # the failed attempt must count even though we answer 401
        raise
    token, row = auth.issue_token(user, data["name"])
    return {"token": token, "expires_at": row.expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with; later calls with it answer 401."""
    auth.revoke_token(authz.require_user(), g.api_token)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, s.UserOut)
    def get(self):
        """The caller: agency, roles and service lines."""
        return authz.require_user()

    @blp.arguments(s.MeUpdate)
    @blp.response(200, s.UserOut)
    def patch(self, data):
        """Change the caller's own settings (language); open to every role."""
        user = authz.require_user()
        with if_match(user, s.UserOut):
            services.set_locale(user, data["locale"], current_app.config["JOF_LANGUAGES"])
        return user


# --- agencies -----------------------------------------------------------------------------


@blp.route("/agencies")
class Agencies(MethodView):
    @blp.arguments(PaginationQuery, location="query")
    @blp.response(200, page_schema(s.AgencyOut, "AgencyPage"))
    def get(self, q):
        """Member and partner agencies (every signed-in user may read the list)."""
        authz.require_user()
        # Each item shows its headcounts and its alternate's e-mail: loaded per page, not per row.
        stmt = select(Agency).options(selectinload(Agency.headcounts),
                                      joinedload(Agency.alternate).lazyload(User.role_rows))
        return page_of(stmt.order_by(Agency.code), q["page"], q["per_page"])

    @blp.arguments(s.AgencyIn)
    @blp.response(201, s.AgencyOut)
    def post(self, data):
        """Add an agency (administrator)."""
        return services.create_agency(authz.require_user(), data)


@blp.route("/agencies/<code>")
class AgencyItem(MethodView):
    @blp.response(200, s.AgencyOut)
    @blp.errors(404)
    def get(self, code):
        """One agency by its code, e.g. UNDP."""
        authz.require_user()
        return services.get_agency(code)

    @blp.arguments(s.AgencyUpdate)
    @blp.response(200, s.AgencyOut)
    @blp.errors(404)
    def patch(self, data, code):
        """Change an agency: limit, membership, dates, alternate, headcounts (administrator)."""
        user = authz.require_user()
        authz.ensure_can_change(user)
        agency = services.get_agency(code)
        with if_match(agency, s.AgencyOut):
            return services.update_agency(user, agency, data)


# --- users --------------------------------------------------------------------------------


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(PaginationQuery, location="query")
    @blp.response(200, page_schema(s.UserOut, "UserPage"))
    def get(self, q):
        """Users the caller may see: all for facility staff, their own agency's otherwise."""
        user = authz.require_user()
        return page_of(services.users_query(user).options(*lists.USER_LOADS), q["page"], q["per_page"])

    @blp.arguments(s.UserIn)
    @blp.response(201, s.UserOut)
    def post(self, data):
        """Create an account (administrator). Agency staff get agency roles only, facility
        staff facility roles only; officers name their service lines."""
        actor = authz.require_user()
        authz.ensure_can_change(actor)
        return services.create_user(actor, data)


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, s.UserOut)
    @blp.errors(404)
    def get(self, user_id):
        """One user (a user of another agency is 404 to agency staff)."""
        actor = authz.require_user()
        return services.get_user(actor, user_id)

    @blp.arguments(s.UserUpdate)
    @blp.response(200, s.UserOut)
    @blp.errors(404, 409)
    def patch(self, data, user_id):
        """Change a user: name, roles, lines, language, active, password (administrator).
        Deactivating or setting a password ends the user's sessions."""
        actor = authz.require_user()
        authz.ensure_can_change(actor)
        target = services.get_user(actor, user_id)
        with if_match(target, s.UserOut):
            return services.update_user(actor, target, data)


# --- exchange rates -----------------------------------------------------------------------


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
        """Set (or correct) one month's rate for a currency (administrator)."""
        return services.set_rate(authz.require_user(), data["currency"], data["month"], data["units_per_usd"])


@blp.route("/exchange-rates/import", methods=["POST"])
@blp.arguments(s.RateImportIn)
@blp.response(200, s.RateImportOut)
def import_rates(data):
    """Import rates from CSV, all or nothing (administrator).

    When any line is wrong nothing is written and the 422 names each rejected line:
    ``errors`` has one entry per line (``"line 3": ["month: Expected a month as YYYY-MM, from 2000-01 to 2099-12."]``) and
    ``rejected`` the same report as data.
    """
    actor = authz.require_user()
    authz.ensure_can_change(actor)
    report = services.import_rates_csv(actor, data["csv"])
    if report.rejected:
        raise ValidationFailed(
            {f"line {r['line']}": [f"{k}: {msg}" for k, msgs in r["errors"].items() for msg in msgs]
             for r in report.rejected},
            f"{len(report.rejected)} line(s) rejected; nothing was imported.",
            rejected=report.rejected,
        )
    return report


# --- the request spine --------------------------------------------------------------------


@blp.route("/requests")
@blp.arguments(s.RequestQuery, location="query")
@blp.response(200, page_schema(s.RequestOut, "RequestPage"))
def list_requests(q):
    """Requests of every line the caller may see (their agency's, or all for facility
    staff), newest first, with the queue's filters."""
    user = authz.require_user()
    f = waiting.QueueFilter(**{k: q[k] for k in ("line", "agency", "status", "min_age_days",
                                                  "sla_breached", "open_only") if k in q})
    if f.agency:
        f.agency = f.agency.upper()
    # Plain rows, not requests: the list shows columns, and loading fifty requests with
    # their agencies and requesters into the session cost more than the rest of the call.
    return page_of(waiting.queue_query(user, f, rows=True), q["page"], q["per_page"], rows=waiting.RequestRow)


class _ForCaller:
    """A request as one caller sees it: its fields plus the actions open to them."""

    def __init__(self, sr, allowed_actions: list[str]):
        self._sr = sr
        self.allowed_actions = allowed_actions

    def __getattr__(self, name):
        return getattr(self._sr, name)


def _for_caller(user, sr) -> _ForCaller:
    return _ForCaller(sr, workflow.allowed_actions(user, sr))


@blp.route("/requests/<reference>")
@blp.response(200, s.RequestDetailOut)
@blp.errors(404)
def get_request(reference):
    """One request with its timeline and the actions open to the caller (another
    agency's request is 404)."""
    user = authz.require_user()
    return _for_caller(user, workflow.get_by_reference(user, reference, detail=True))


@blp.route("/requests/<reference>/transitions", methods=["POST"])
@blp.arguments(s.TransitionIn)
@blp.response(200, s.RequestDetailOut)
@blp.errors(404, 409)
def transition(data, reference):
    """Move a request through its workflow: submit, certify, approve, reject, start, …

    Send the ``version`` you last read. 409 when it is stale (``current_version`` says
    the current one), when the action is not open in this state (``allowed_actions``
    lists what is), or when a guard refuses (e.g. a request above the agency's limit
    that its head has not certified); 403 when your role may not take the action; 422
    when a required reason (``comment``) is missing or the ``payload`` does not fit
    the action.
    """
    user = authz.require_user()
    sr = workflow.get_by_reference(user, reference)
    workflow.perform(user, sr, data["action"], data["comment"], data["version"], payload=data["payload"])
    return _for_caller(user, sr)


# --- notifications ------------------------------------------------------------------------


@blp.route("/notifications")
@blp.arguments(s.NotificationQuery, location="query")
@blp.response(200, page_schema(s.NotificationOut, "NotificationPage"))
def notifications(q):
    """The caller's in-app notifications, newest first."""
    user = authz.require_user()
    stmt = select(Notification).where(Notification.user_id == user.id)
    if q["unread_only"]:
        stmt = stmt.where(Notification.read_at.is_(None))
    return page_of(stmt.order_by(Notification.id.desc()), q["page"], q["per_page"])


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, s.NotificationOut)
@blp.errors(404)
def notification_read(notification_id):
    """Mark one of the caller's notifications read (someone else's is 404)."""
    user = authz.require_user()
    n = db.session.get(Notification, notification_id)
    if n is None:
        raise NotFound("No such notification.")
    mark_read(user, n)
    return n


# --- audit --------------------------------------------------------------------------------


@blp.route("/audit")
@blp.arguments(s.AuditQuery, location="query")
@blp.response(200, page_schema(s.AuditOut, "AuditPage"))
@blp.errors(403)
def audit_events(q):
    """The audit trail, newest first (auditor, administrator, manager)."""
    user = authz.require_user()
    authz.require_roles(user, *READERS_OF_AUDIT)
    stmt = audit.events_query(**{k: q.get(k) for k in ("actor", "action", "object_type",
                                                       "object_id", "since", "until")})
    return page_of(stmt, q["page"], q["per_page"])
