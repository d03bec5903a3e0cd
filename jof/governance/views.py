"""Board pages: open decisions and ballots, a decision, the register, pools, allocation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from jof.core import authz
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, ValidationFailed, flatten_field_errors
from jof.core.paging import html_page
from jof.core.pdf import render_pdf
from jof.core.people import Facility, Role
from jof.governance import services
from jof.governance.api import send_attachment
from jof.governance.models import CHOICES, KINDS, POOL_CATEGORIES, QUORUM_RULES, THRESHOLDS
from jof.governance.schemas import DecisionIn

bp = Blueprint("governance", __name__, url_prefix="/governance", template_folder="templates")


@bp.route("/")
def board():
    user = authz.require_user()
    open_rows = db.session.scalars(services.decisions_query("open")).all()
    drafts = db.session.scalars(services.decisions_query("draft")).all() if user.has_role(Role.MANAGER, Role.AGENCY_HEAD) else []
    ballots = {d.id: services.current_vote(d, user.agency_id) for d in open_rows}
    can_vote = {d.id: services.may_vote(user, d) for d in open_rows}
    return render_template("governance/board.html", open_rows=open_rows, drafts=drafts,
                           ballots=ballots, can_vote=can_vote, choices=CHOICES)


@bp.route("/decisions/new", methods=["GET", "POST"])
def new_decision():
    user = authz.require_user()
    form = request.form.to_dict() if request.method == "POST" else {"kind": "general", "threshold": "simple_majority", "quorum_rule": "more_than_half"}
    errors: dict = {}
    if request.method == "POST":
        try:
            decision = services.propose(user, _decision_form(form))
            db.session.flush()
            flash(_("Draft saved. Open it for voting when it is ready."), "success")
            return redirect(url_for("governance.decision", decision_id=decision.id))
        except ValidationFailed as exc:
            errors = exc.errors
    payload_invalid = any(name == "payload" or name.startswith("payload.") for name in errors)
    status = 422 if errors else 200
    return render_template("governance/new.html", form=form, errors=errors, payload_invalid=payload_invalid,
                           kinds=KINDS, thresholds=THRESHOLDS, quorum_rules=QUORUM_RULES), status


def _decision_form(form: dict) -> dict:
    """The form's fields loaded like the API's body (DecisionIn); the effect is JSON."""
    data = {"title": form.get("title", "")}
    data.update({k: form[k] for k in ("text", "kind", "threshold", "quorum_rule") if form.get(k)})
    payload_text = form.get("payload", "").strip()
    if payload_text:
        try:
            data["payload"] = json.loads(payload_text)
        except (ValueError, RecursionError):
            raise ValidationFailed({"payload": [_("The effect must be valid JSON.")]}) from None
    try:
        return DecisionIn().load(data)
    except ma.ValidationError as exc:
        raise ValidationFailed(flatten_field_errors(exc.messages)) from None


@bp.route("/decisions/<int:decision_id>")
def decision(decision_id: int, errors: dict | None = None, message: str | None = None, status: int = 200):
    user = authz.require_user()
    d = services.get_decision(decision_id)
    ballot = services.current_vote(d, user.agency_id)
    voted = {v.agency.code for v in d.votes}
    return render_template("governance/decision.html", d=d, ballot=ballot, voted=voted,
                           can_vote=services.may_vote(user, d), choices=CHOICES,
                           errors=errors or {}, message=message, form=request.form), status


@bp.route("/decisions/<int:decision_id>/vote", methods=["POST"])
def vote(decision_id: int):
    user = authz.require_user()
    try:
        services.cast_vote(user, decision_id, request.form.get("choice", ""), request.form.get("statement", ""))
    except ValidationFailed as exc:
        return decision(decision_id, errors=exc.errors, status=422)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    flash(_("Your agency's vote is recorded. You can change it until the decision closes."), "success")
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/attachments", methods=["POST"])
def attach(decision_id: int):
    user = authz.require_user()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return decision(decision_id, errors={"file": [_("Choose a file to attach.")]}, status=422)
    try:
        services.add_attachment(user, services.get_decision(decision_id), upload.filename,
                                upload.stream.read(services.MAX_ATTACHMENT_BYTES + 1))
    except ValidationFailed as exc:
        return decision(decision_id, errors=exc.errors, status=422)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    flash(_("The document is attached."), "success")
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/attachments/<int:attachment_id>")
def attachment(decision_id: int, attachment_id: int):
    authz.require_user()
    return send_attachment(services.get_attachment(services.get_decision(decision_id), attachment_id))


@bp.route("/decisions/<int:decision_id>/open", methods=["POST"])
def open_decision(decision_id: int):
    user = authz.require_user()
    raw = request.form.get("closes_at", "")
    try:
        tz = ZoneInfo(_facility_tz())
        closes_at = datetime.fromisoformat(raw).replace(tzinfo=tz).astimezone(UTC)
    except ValueError:
        return decision(decision_id, errors={"closes_at": [_("Give the closing date and time.")]}, status=422)
    try:
        services.open_decision(user, services.get_decision(decision_id), closes_at)
    except ValidationFailed as exc:
        return decision(decision_id, errors=exc.errors, status=422)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    flash(_("The decision is open; the agency heads were notified."), "success")
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/close", methods=["POST"])
def close_decision(decision_id: int):
    user = authz.require_user()
    authz.require_roles(user, Role.MANAGER)
    try:
        services.close(decision_id, user)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    return redirect(url_for("governance.decision", decision_id=decision_id))


def _facility_tz() -> str:
    facility = db.session.get(Facility, 1)
    return facility.time_zone if facility else "UTC"


@bp.route("/resolutions")
def resolutions():
    authz.require_user()
    pager = html_page(services.resolutions_query(), 20)
    rows = pager["items"]
    return render_template("governance/resolutions.html", rows=rows, pager=pager)


@bp.route("/resolutions/<int:decision_id>.pdf")
def resolution_pdf(decision_id: int):
    authz.require_user()
    d = services.get_decision(decision_id)
    if d.status != "closed":
        raise Conflict(_("Only a closed decision has a resolution to print."))
    facility = db.session.get(Facility, 1)
    html = render_template("governance/resolution_pdf.html", d=d, facility=facility)
    return Response(render_pdf(html), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{d.resolution_number}.pdf"'})


@bp.route("/costs", methods=["GET", "POST"])
def costs():
    user = authz.require_user()
    period_text = request.values.get("period") or datetime.now(UTC).strftime("%Y-%m")
    errors: dict = {}
    message = None
    form = request.form
    status = 200
    try:
        period = services.parse_period(period_text)
    except ValidationFailed as exc:
        period, errors, status = None, exc.errors, 422
    if request.method == "POST" and period is not None:
        try:
            _costs_action(user, period, period_text)
            return redirect(url_for("governance.costs", period=period_text))
        except ValidationFailed as exc:
            errors, status = exc.errors, 422
        except DomainError as exc:
            message, status = exc.detail, exc.status
    pools = services.pools_of(period) if period else []
    key = previews = digest = None
    recorded = services.recorded_allocation(period) if period else None
    if period and pools:
        try:
            key, previews = services.preview(period)
            digest = services.preview_digest(period)
        except DomainError as exc:
            message = message or exc.detail
    return render_template("governance/costs.html", period=period_text, pools=pools, key=key,
                           previews=previews, digest=digest, recorded=recorded, errors=errors,
                           message=message, form=form, categories=POOL_CATEGORIES,
                           is_manager=user.has_role(Role.MANAGER)), status


def _costs_action(user, period, period_text: str) -> None:
    action = request.form.get("action")
    if action == "record":
        if request.form.get("confirm") != "yes":
            raise ValidationFailed({"confirm": [_("Tick the box to confirm you checked the preview.")]})
        services.record_allocation(user, period, request.form.get("digest", ""))
        flash(_("The allocation of %(period)s is recorded.", period=period_text), "success")
    elif action in ("edit", "delete"):
        pool_id = request.form.get("pool_id", 0, type=int) or 0
        pool = services.get_cost_pool(pool_id if 0 < pool_id < 2**31 else 0)
        if pool.period != period:
            raise ValidationFailed({"pool_id": [_("That pool belongs to another month.")]})
        if action == "delete":
            services.delete_cost_pool(user, pool)
            flash(_("Cost pool removed."), "success")
        else:
            services.update_cost_pool(user, pool, {"amount": request.form.get("amount", ""),
                                                   "description": request.form.get("description", "")})
            flash(_("Cost pool updated."), "success")
    else:
        services.add_cost_pool(user, period, request.form.get("category", ""),
                               request.form.get("amount", ""), request.form.get("description", ""))
        flash(_("Cost pool added."), "success")
