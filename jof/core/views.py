"""Core pages: login, dashboard, the queue, a request, notifications, admin, audit.

Handlers stay thin: read the form, validate it with the marshmallow schemas the API
uses, call a service, then redirect (success) or render the same page again with the
field messages and the user's input (failure, 422). The request boundary in
:mod:`jof.web` commits below 400 and rolls back otherwise.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import marshmallow as ma
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import (
    actions,
    audit,
    auth,
    authz,
    home,
    listing,
    lists,
    plugin,
    services,
    waiting,
    workflow,
)
from jof.core import schemas as s
from jof.core.db import db
from jof.core.errors import (
    DomainError,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    flatten_field_errors,
)
from jof.core.money import ExchangeRate
from jof.core.notifications import Notification, mark_read
from jof.core.paging import html_page
from jof.core.people import SERVICE_LINES, Agency, Membership, Role, User

bp = Blueprint("core", __name__, template_folder="templates")

RATE_READERS = (Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.RESIDENT_COORDINATOR)
AUDIT_READERS = (Role.AUDITOR, Role.ADMIN, Role.MANAGER, Role.RESIDENT_COORDINATOR)
#: The user list's agency filter value for facility staff (who have no agency).
FACILITY = "_facility"


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return url_for("core.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.dashboard")
    return target


@bp.before_app_request
def _login_wall():
    if request.path.startswith(("/api/", "/static/", "/bootstrap/")):
        return None
    if request.endpoint in {"core.login", "core.health"} or g.get("user") is not None \
            or request.endpoint in plugin.PUBLIC_ENDPOINTS:
        return None
    return redirect(url_for("core.login", next=request.full_path.rstrip("?")))


# --- helpers ----------------------------------------------------------------------------


def _load(schema: ma.Schema, data: dict) -> tuple[dict | None, dict[str, list[str]]]:
    try:
        return schema.load(data), {}
    except ma.ValidationError as exc:
        return None, flatten_field_errors(exc.messages)


def _query_args(*names: str) -> dict[str, str]:
    """The non-empty query arguments among ``names``, stripped."""
    out = {}
    for name in names:
        value = request.args.get(name, "").strip()
        if value:
            out[name] = value
    return out


def _require_admin(user: User) -> None:
    authz.require_roles(user, Role.ADMIN, why=_("Only an administrator may open this page."))


def _failed(exc: DomainError) -> tuple[dict[str, list[str]], int]:
    """Field messages and status of a service refusal, for re-rendering a form."""
    db.session.rollback()  # whatever the service began must not leak into the page
    return (exc.errors or {"_schema": [exc.detail]}), exc.status


# --- session ----------------------------------------------------------------------------


@bp.route("/health")
def health():
    return {"status": "ok"}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = {"email": request.form.get("email", "")}
    if request.method == "POST":
        try:
            user = auth.authenticate(form["email"], request.form.get("password", ""),
                                     request.remote_addr or "")
        except Unauthorized as exc:
            g.commit_on_error = True  # the failure must count even though the page says no
            return render_template("core/login.html", form=form, error=exc.detail), 401
        except TooManyRequests as exc:
            return render_template("core/login.html", form=form, error=exc.detail), 429, exc.headers()
        auth.start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("core/login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
def logout():
    auth.end_session(g.get("user"))
    return redirect(url_for("core.login"))


@bp.route("/language", methods=["POST"])
def language():
    user = authz.require_user()
    services.set_locale(user, request.form.get("locale", ""), current_app.config["JOF_LANGUAGES"])
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/password", methods=["GET", "POST"])
def password():
    user = authz.require_user()
    if request.method == "POST":
        new = request.form.get("new_password", "")
        try:
            if new != request.form.get("confirm_password", ""):
                raise ValidationFailed({"confirm_password": [_("The two new passwords differ.")]})
            auth.change_password(user, request.form.get("current_password", ""), new)
        except ValidationFailed as exc:
            errors, status = _failed(exc)
            return render_template("core/password.html", errors=errors), status
        # change_password ended every session of this user, this one included.
        session.clear()
        flash(_("Your password was changed. Log in again with the new password."), "success")
        return redirect(url_for("core.login"))
    return render_template("core/password.html", errors={})


# --- requests ---------------------------------------------------------------------------


@bp.route("/")
def dashboard():
    user = authz.require_user()
    if user.is_facility_staff:
        stmt = waiting.queue_query(user, waiting.QueueFilter(open_only=True))
    else:
        stmt = waiting.queue_query(user, waiting.QueueFilter())
    return render_template("core/dashboard.html", user=user, p=html_page(stmt),
                           waiting=home.waiting_for(user), panels=home.panels(user),
                           new_requests=home.new_requests(user),
                           partner_head=home.is_partner_head(user))


def _status_choices() -> list[str]:
    seen: list[str] = []
    for rt in workflow.registered_types():
        for state in rt.states:
            if state not in seen:
                seen.append(state)
    return seen


@bp.route("/queue")
def queue():
    user = authz.require_user()
    args = _query_args("line", "agency", "status", "min_age_days", "sla_breached")
    if not user.is_facility_staff:
        args.pop("agency", None)  # an agency user only ever sees their own agency
    data, errors = _load(s.RequestQuery(only=("line", "agency", "status", "min_age_days",
                                              "sla_breached")), args)
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all() \
        if user.is_facility_staff else []
    context = dict(q=args, errors=errors, agencies=agencies, types=workflow.registered_types(),
                   lines=SERVICE_LINES, statuses=_status_choices())
    title = _("Queue") if user.is_facility_staff else _("Our requests")
    if errors:
        return render_template("core/queue.html", p={"items": [], "total": 0, "page": 1, "pages": 1},
                               sorted=listing.requested_sort(lists.QUEUE), **context), 422
    stmt = waiting.queue_query(user, waiting.QueueFilter(**(data or {})))
    return listing.respond(lists.QUEUE, stmt, "core/queue.html", title, **context)


def _render_request(user: User, sr: workflow.ServiceRequest, status: int = 200, *,
                    error: str | None = None, errors: dict | None = None, form: dict | None = None):
    return render_template(
        "core/request.html", sr=sr, actions=actions.page_actions(user, sr),
        error=error, errors=errors or {}, form=form or {},
    ), status


@bp.route("/requests/<reference>")
def request_page(reference):
    user = authz.require_user()
    return _render_request(user, workflow.get_by_reference(user, reference))


#: Moves that end a request for good: the request page asks before making them.
FINAL_ACTIONS = ("cancel", "reject")


@bp.route("/requests/<reference>/confirm/<action>")
def confirm_transition(reference, action):
    """The page that names what cancelling or rejecting will do; its form makes the move."""
    user = authz.require_user()
    sr = workflow.get_by_reference(user, reference)
    move = next((t for t in workflow.available_transitions(user, sr) if t.action == action), None)
    if action not in FINAL_ACTIONS or move is None:  # the request as it is now, and why
        return _render_request(user, sr, error=_("That action is not open to you on this request now."))
    return render_template("core/confirm_transition.html", sr=sr, t=move,
                           comment=request.args.get("comment", ""))


@bp.route("/requests/<reference>/transitions", methods=["POST"])
def request_transition(reference):
    user = authz.require_user()
    sr = workflow.get_by_reference(user, reference)
    form = {"action": request.form.get("action", ""), "comment": request.form.get("comment", "")}
    try:
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            raise ValidationFailed({"version": [_("The form lost the request's version; reload the page.")]}) from None
        workflow.perform(user, sr, form["action"], form["comment"], version)
    except DomainError as exc:
        errors, status = _failed(exc)
        sr = workflow.get_by_reference(user, reference)
        detail = exc.detail
        if status == 422:
            others = [m for field, msgs in errors.items() if field != "comment" for m in msgs]
            detail = " ".join(others) or _("The form has errors; see the messages below.")
        return _render_request(user, sr, status, error=detail, errors=errors, form=form)
    flash(_("%(reference)s is now %(status)s.", reference=sr.reference,
            status=_status_text(sr.status)), "success")
    return redirect(url_for("core.request_page", reference=sr.reference))


def _status_text(status: str) -> str:
    from jof.core.templating import status_label

    return status_label(status)


# --- notifications ----------------------------------------------------------------------


@bp.route("/notifications")
def notifications():
    user = authz.require_user()
    unread = request.args.get("unread") == "1"
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return listing.respond(lists.NOTIFICATIONS, stmt, "core/notifications.html", _("Notifications"),
                           unread=unread)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def notification_read(notification_id):
    user = authz.require_user()
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        raise NotFound(_("No such notification."))
    mark_read(user, notification)
    return redirect(_safe_next(request.form.get("next") or url_for("core.notifications")))


# --- administration: agencies -----------------------------------------------------------


@bp.route("/admin/agencies")
def admin_agencies():
    user = authz.require_user()
    _require_admin(user)
    membership = request.args.get("membership", "").strip()
    membership = membership if membership in {m.value for m in Membership} else ""
    stmt = select(Agency).where(Agency.membership == membership) if membership else select(Agency)
    return listing.respond(lists.AGENCIES, stmt, "core/admin_agencies.html", _("Agencies"),
                           membership=membership, memberships=[m.value for m in Membership])


_AGENCY_FORM = ("name", "country", "membership", "joined_on", "left_on", "approval_limit_usd",
                "address", "alternate_email")
#: Optional on edit: an empty field clears the value.
_AGENCY_CLEARABLE = ("left_on", "alternate_email")


def _agency_data(form, creating: bool) -> dict:
    """The schema's input from the form's strings (empty means "not given" or "clear")."""
    data: dict = {}
    if creating:
        data["code"] = form.get("code", "").strip().upper()
    for key in _AGENCY_FORM:
        if key == "alternate_email" and creating:
            continue  # a new agency has no users to name yet
        value = form.get(key, "").strip()
        if key == "country":
            value = value.upper()
        if value == "" and key != "address":
            if key in _AGENCY_CLEARABLE and not creating:
                data[key] = None
            if creating or key in _AGENCY_CLEARABLE or key == "membership":
                continue
        data[key] = value
    # The year comes filled in with the current one; only a typed headcount says "set it".
    year, headcount = form.get("headcount_year", "").strip(), form.get("headcount", "").strip()
    if headcount:
        data["headcounts"] = [{"year": year, "headcount": headcount}]
    return data


def _agency_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Put the nested headcount messages next to the two headcount fields."""
    out: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        if key.startswith("headcounts"):
            key = "headcount_year" if key.endswith(".year") else "headcount"
        out.setdefault(key, []).extend(msgs)
    return out


def _agency_form_values(agency: Agency) -> dict:
    year = date.today().year
    return {
        "code": agency.code, "name": agency.name, "country": agency.country,
        "membership": agency.membership, "joined_on": agency.joined_on.isoformat(),
        "left_on": agency.left_on.isoformat() if agency.left_on else "",
        "approval_limit_usd": f"{agency.approval_limit_usd:.2f}", "address": agency.address or "",
        "alternate_email": agency.alternate.email if agency.alternate else "",
        "headcount_year": str(year), "headcount": str(agency.headcount_for(year) or ""),
    }


def _agency_form(agency: Agency | None, form: dict, errors: dict, status: int = 200):
    return render_template("core/agency_form.html", agency=agency, form=form,
                           errors=_agency_errors(errors),
                           memberships=[m.value for m in Membership]), status


@bp.route("/admin/agencies/new", methods=["GET", "POST"])
def admin_agency_new():
    user = authz.require_user()
    _require_admin(user)
    if request.method == "GET":
        return _agency_form(None, {"membership": Membership.MEMBER.value,
                                   "approval_limit_usd": "10000.00"}, {})
    data, errors = _load(s.AgencyIn(), _agency_data(request.form, creating=True))
    status = 422
    if not errors:
        try:
            agency = services.create_agency(user, data)
        except DomainError as exc:
            errors, status = _failed(exc)
        else:
            flash(_("Agency %(code)s created.", code=agency.code), "success")
            return redirect(url_for("core.admin_agencies"))
    return _agency_form(None, request.form.to_dict(), errors, status)


@bp.route("/admin/agencies/<code>", methods=["GET", "POST"])
def admin_agency_edit(code):
    user = authz.require_user()
    _require_admin(user)
    agency = services.get_agency(code)
    if request.method == "GET":
        return _agency_form(agency, _agency_form_values(agency), {})
    data, errors = _load(s.AgencyUpdate(), _agency_data(request.form, creating=False))
    status = 422
    if not errors:
        try:
            services.update_agency(user, agency, data)
        except DomainError as exc:
            errors, status = _failed(exc)
            agency = services.get_agency(code)
        else:
            flash(_("Agency %(code)s saved.", code=agency.code), "success")
            return redirect(url_for("core.admin_agencies"))
    return _agency_form(agency, {**request.form.to_dict(), "code": agency.code}, errors, status)


# --- administration: users --------------------------------------------------------------


@bp.route("/admin/users")
def admin_users():
    user = authz.require_user()
    _require_admin(user)
    agency = request.args.get("agency", "").strip()
    stmt = services.users_query(user)
    if agency == FACILITY:
        stmt = stmt.where(User.agency_id.is_(None))
    elif agency:
        stmt = stmt.join(Agency, Agency.id == User.agency_id).where(Agency.code == agency.upper())
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    return listing.respond(lists.USERS, stmt.options(*lists.USER_LOADS), "core/admin_users.html", _("Users"),
                           agency=agency, agencies=agencies, facility=FACILITY)


def _user_data(form, creating: bool) -> dict:
    data = {
        "name": form.get("name", "").strip(),
        "roles": form.getlist("roles"),
        "service_lines": form.getlist("service_lines"),
        "locale": form.get("locale") or "en",
    }
    if creating:
        data["email"] = form.get("email", "").strip()
        data["agency"] = form.get("agency", "").strip() or None
        data["password"] = form.get("password", "")
    else:
        data["active"] = form.get("active") == "on"
        if form.get("password"):
            data["password"] = form["password"]
    return data


def _user_form(target: User | None, form: dict, errors: dict, status: int = 200):
    from jof.core.templating import line_label, role_label

    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    return render_template("core/user_form.html", target=target, form=form, errors=errors,
                           agencies=agencies,
                           role_options=[(r, role_label(r)) for r in s.ROLES],
                           line_options=[(line, line_label(line)) for line in SERVICE_LINES]), status


def _form_with_lists(form) -> dict:
    values = form.to_dict()
    values["roles"] = form.getlist("roles")
    values["service_lines"] = form.getlist("service_lines")
    values.pop("password", None)  # never echo a password back into the page
    return values


@bp.route("/admin/users/new", methods=["GET", "POST"])
def admin_user_new():
    actor = authz.require_user()
    _require_admin(actor)
    if request.method == "GET":
        return _user_form(None, {"roles": [], "service_lines": [], "locale": "en"}, {})
    data, errors = _load(s.UserIn(), _user_data(request.form, creating=True))
    status = 422
    if not errors:
        try:
            created = services.create_user(actor, data)
        except NotFound as exc:  # an agency code that does not exist
            db.session.rollback()
            errors = {"agency": [exc.detail]}
        except DomainError as exc:
            errors, status = _failed(exc)
        else:
            flash(_("User %(email)s created.", email=created.email), "success")
            return redirect(url_for("core.admin_users"))
    return _user_form(None, _form_with_lists(request.form), errors, status)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def admin_user_edit(user_id):
    actor = authz.require_user()
    _require_admin(actor)
    target = services.get_user(actor, user_id)
    if request.method == "GET":
        return _user_form(target, {"name": target.name, "roles": sorted(target.roles),
                                   "service_lines": sorted(target.service_lines),
                                   "locale": target.locale, "active": target.active}, {})
    data, errors = _load(s.UserUpdate(), _user_data(request.form, creating=False))
    status = 422
    if not errors and target.active and not data["active"] \
            and request.form.get("confirm_deactivate") != "yes":
        errors = {"confirm_deactivate": [
            _("Deactivating ends this person's access at once: tick \u201cI confirm\u201d to go ahead.")]}
    if not errors:
        try:
            services.update_user(actor, target, data)
        except DomainError as exc:
            errors, status = _failed(exc)
            target = services.get_user(actor, user_id)
        else:
            flash(_("User %(email)s saved.", email=target.email), "success")
            return redirect(url_for("core.admin_users"))
    values = _form_with_lists(request.form)
    values["active"] = request.form.get("active") == "on"
    return _user_form(target, values, errors, status)


# --- exchange rates ---------------------------------------------------------------------


def _rates_page(form: dict, errors: dict, status: int = 200, report=None, import_errors=None):
    user = g.user
    currency = request.args.get("currency", "").strip().upper()
    stmt = select(ExchangeRate).order_by(ExchangeRate.month.desc(), ExchangeRate.currency)
    if currency:
        stmt = stmt.where(ExchangeRate.currency == currency)
    return render_template("core/rates.html", p=html_page(stmt), currency=currency, form=form,
                           errors=errors, report=report, import_errors=import_errors or {},
                           can_edit=user.has_role(Role.ADMIN)), status


@bp.route("/rates", methods=["GET", "POST"])
def rates():
    user = authz.require_user()
    authz.require_roles(user, *RATE_READERS, why=_("Exchange rates are for the facility's "
                                                   "administrator, manager and auditor."))
    if request.method == "GET":
        return _rates_page({}, {})
    _require_admin(user)
    form = {k: request.form.get(k, "").strip() for k in ("currency", "month", "units_per_usd")}
    form["currency"] = form["currency"].upper()
    data, errors = _load(s.RateIn(), form)
    status = 422
    if not errors:
        try:
            services.set_rate(user, data["currency"], data["month"], data["units_per_usd"])
        except DomainError as exc:
            errors, status = _failed(exc)
        else:
            flash(_("Rate for %(currency)s in %(month)s saved.", currency=data["currency"],
                    month=data["month"]), "success")
            return redirect(url_for("core.rates"))
    return _rates_page(form, errors, status)


@bp.route("/rates/import", methods=["POST"])
def rates_import():
    user = authz.require_user()
    _require_admin(user)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": [_("Choose a CSV file to import.")]})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed({"file": [_("The file is not UTF-8 text.")]}) from None
        report = services.import_rates_csv(user, text)
    except DomainError as exc:
        errors, status = _failed(exc)
        return _rates_page({}, {}, status, import_errors=errors)
    if report.rejected:
        db.session.rollback()  # all or nothing: the service wrote nothing, keep it so
        return _rates_page({}, {}, 422, report=report)
    flash(_("%(count)d rate(s) imported.", count=report.imported), "success")
    return redirect(url_for("core.rates"))


# --- audit trail ------------------------------------------------------------------------


@bp.route("/audit")
def audit_page():
    user = authz.require_user()
    authz.require_roles(user, *AUDIT_READERS, why=_("The audit trail is for the auditor, the "
                                                    "administrator and the manager."))
    fields = ("actor", "action", "object_type", "object_id", "since", "until")
    args = _query_args(*fields)
    data, errors = _load(s.AuditQuery(only=fields), args)
    if errors:
        page = {"items": [], "total": 0, "page": 1, "pages": 1}
        return render_template("core/audit.html", p=page, q=args, errors=errors,
                               sorted=listing.requested_sort(lists.AUDIT)), 422
    return listing.respond(lists.AUDIT, audit.events_query(**{k: data.get(k) for k in fields}),
                           "core/audit.html", _("Audit trail"), q=args, errors={})


__all__ = ["bp"]
