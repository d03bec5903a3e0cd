"""Board pages: open decisions and ballots, a decision, the register, pools, allocation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import authz, listing
from jof.core.calendar import facility_zone
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, Forbidden, ValidationFailed, flatten_field_errors
from jof.core.money import to_decimal
from jof.core.pdf import render_pdf
from jof.core.people import Agency, Facility, Role
from jof.core.templating import money
from jof.governance import attachments, cost_sharing, decisions, effect_forms, lists, votes
from jof.governance.api import send_attachment
from jof.governance.lists import BOARD_LABELS, DECISION_STATUS_LABELS, EFFECT_STATUS_LABELS
from jof.governance.models import (
    CHOICES,
    EFFECT_KINDS,
    KINDS,
    POOL_CATEGORIES,
    QUORUM_RULES,
    THRESHOLDS,
    Decision,
)
from jof.governance.schemas import DecisionIn
from jof.governance.states import DecisionStatus, Outcome

bp = Blueprint("governance", __name__, url_prefix="/governance", template_folder="templates")

#: Rows a page of the decisions and the register shows.
PER_PAGE = 20

@bp.context_processor
def _status_labels() -> dict:
    return {"decision_status_label": lambda s: str(DECISION_STATUS_LABELS.get(s, s)),
            "effect_status_label": lambda s: str(EFFECT_STATUS_LABELS.get(s, s)),
            "board_label": lambda group, code: str(BOARD_LABELS[group].get(code, code)) if code else "—",
            "pct": lambda value: format_decimal(value, "#,##0.00"),
            "usd": lambda value: current_app.jinja_env.filters["money"](to_decimal(value))}


@bp.route("/")
def board():
    user = authz.require_user()
    open_rows = db.session.scalars(decisions.decisions_query(DecisionStatus.OPEN)).all()
    drafts = decisions.drafts_shown_to(user)
    ballots = {d.id: votes.current_vote(d, user.agency_id) for d in open_rows}
    can_vote = {d.id: votes.may_vote(user, d) for d in open_rows}
    return render_template("governance/board.html", open_rows=open_rows, drafts=drafts,
                           ballots=ballots, can_vote=can_vote, choices=CHOICES)


@bp.route("/decisions/new", methods=["GET", "POST"])
def new_decision():
    """The kind's sub-form builds the effect's payload; "Show the fields" (or the page's
    script, at once) switches the sub-form without saving."""
    user = authz.require_user()
    if request.method == "POST":
        form = request.form.to_dict()
    else:
        form = {"kind": request.args.get("kind") if request.args.get("kind") in KINDS else "general",
                "threshold": "simple_majority", "quorum_rule": "more_than_half"}
        for kind in EFFECT_KINDS:
            form.update(effect_forms.initial_fields(kind))
    action = form.get("action", "save")
    errors: dict = {}
    if request.method == "POST" and action == "save":
        try:
            decision = decisions.propose(user, _decision_form(form))
            db.session.flush()
            flash(_("Draft saved. Open it for voting when it is ready."), "success")
            return redirect(url_for("governance.decision", decision_id=decision.id))
        except ValidationFailed as exc:
            errors = effect_forms.form_errors(form.get("kind", ""), form, exc.errors)
    rows = effect_forms.item_rows(form) + (effect_forms.BLANK_ROWS if request.method == "GET" else 0)
    rows += 1 if action == "add_row" else 0
    shares, preview_notes = effect_forms.safe_key_preview(form)
    return render_template("governance/new.html", form=form, errors=errors, kinds=KINDS, thresholds=THRESHOLDS,
                           quorum_rules=QUORUM_RULES, effect_kinds=EFFECT_KINDS, item_rows=max(rows, 1),
                           key_methods=effect_forms.KEY_METHODS, key_agencies=effect_forms.key_agencies(),
                           manual_labels=effect_forms.MANUAL_LABELS, item_labels=effect_forms.ITEM_LABELS,
                           agencies=_current_agencies(), shares=shares, preview_notes=preview_notes,
                           preview_month=effect_forms.preview_month()), 422 if errors else 200


def _current_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.left_on.is_(None)).order_by(Agency.code)))


def _decision_form(form: dict) -> dict:
    """The form's fields loaded like the API's body (DecisionIn); the chosen kind's
    sub-form gives the payload. Every message is gathered for one round."""
    data = {"title": form.get("title", "")}
    data.update({k: form[k] for k in ("text", "kind", "threshold", "quorum_rule") if form.get(k)})
    errors: dict = {}
    try:
        payload = effect_forms.payload_from_form(form.get("kind", ""), form)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    else:
        if payload is not None:
            data["payload"] = payload
    try:
        loaded = DecisionIn().load(data)
    except ma.ValidationError as exc:
        errors.update(flatten_field_errors(exc.messages))
    if errors:
        raise ValidationFailed(errors)
    return loaded


@bp.route("/decisions/key-preview.json")
def key_preview():
    """Each member's share under the key typed so far (the form's fields in the query)."""
    authz.require_user()
    shares, notes = effect_forms.safe_key_preview(request.args.to_dict())
    return jsonify({"month": f"{effect_forms.preview_month():%Y-%m}", "errors": notes,
                    "shares": [{"code": s.code, "percent": format_decimal(s.percent, "#,##0.00")} for s in shares],
                    "total": format_decimal(sum((s.percent for s in shares), Decimal(0)), "#,##0.00")})


@bp.route("/decisions/<int:decision_id>")
def decision(decision_id: int, errors: dict | None = None, message: str | None = None, status: int = 200):
    user = authz.require_user()
    d = decisions.get_decision(decision_id)
    ballot = votes.current_vote(d, user.agency_id)
    voted = {v.agency.code for v in d.votes}
    return render_template("governance/decision.html", d=d, ballot=ballot, voted=voted,
                           can_vote=votes.may_vote(user, d), choices=CHOICES, key_shares=_key_shares(d),
                           key_methods=effect_forms.KEY_METHODS, manual_labels=effect_forms.MANUAL_LABELS,
                           preview_month=effect_forms.preview_month(),
                           errors=errors or {}, message=message, form=request.form), status


def _key_shares(d) -> list:
    """A key decision's shares on the latest month's figures (none if it cannot split them)."""
    if d.kind != "cost_sharing_key" or not d.payload:
        return []
    try:
        return effect_forms.key_preview(d.payload.get("components") or {})
    except ValidationFailed:
        return []


@bp.route("/decisions/<int:decision_id>/vote", methods=["POST"])
def vote(decision_id: int):
    user = authz.require_user()
    try:
        votes.cast_vote(user, decision_id, request.form.get("choice", ""), request.form.get("statement", ""))
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
        attachments.add_attachment(user, decisions.get_decision(decision_id), upload.filename,
                                upload.stream.read(attachments.MAX_ATTACHMENT_BYTES + 1))
    except ValidationFailed as exc:
        return decision(decision_id, errors=exc.errors, status=422)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    flash(_("The document is attached."), "success")
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/attachments/<int:attachment_id>")
def attachment(decision_id: int, attachment_id: int):
    authz.require_user()
    return send_attachment(attachments.get_attachment(decisions.get_decision(decision_id), attachment_id))


@bp.route("/decisions/<int:decision_id>/open", methods=["POST"])
def open_decision(decision_id: int):
    user = authz.require_user()
    raw = request.form.get("closes_at", "")
    try:
        closes_at = datetime.fromisoformat(raw).replace(tzinfo=facility_zone()).astimezone(UTC)
    except ValueError:
        return decision(decision_id, errors={"closes_at": [_("Give the closing date and time.")]}, status=422)
    try:
        decisions.open_decision(user, decisions.get_decision(decision_id), closes_at)
    except ValidationFailed as exc:
        return decision(decision_id, errors=exc.errors, status=422)
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    flash(_("The decision is open; the agency heads were notified."), "success")
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/close", methods=["GET", "POST"])
def close_decision(decision_id: int):
    """GET asks first (the page names what closing does); its form posts the close."""
    user = authz.require_user()
    if request.method == "GET":
        authz.require_roles(user, *decisions.CHAIRS,
                            why=_("Only the facility manager or the Resident Coordinator closes decisions by hand."))
        d = decisions.get_decision(decision_id)
        return render_template("governance/confirm_close.html", d=d, voted=len({v.agency_id for v in d.votes}))
    try:
        decisions.close_by_hand(user, decision_id)
    except Forbidden:
        raise  # the access-denied page, like any other refused page
    except DomainError as exc:
        return decision(decision_id, message=exc.detail, status=exc.status)
    return redirect(url_for("governance.decision", decision_id=decision_id))


@bp.route("/decisions")
def decisions_page():
    """Every decision, drafts to closed (governance is transparent to every signed-in user)."""
    authz.require_user()
    status = request.args.get("status", "").strip()
    status = status if status in {st.value for st in DecisionStatus} else ""
    return listing.respond(lists.DECISIONS, decisions.decisions_query(status or None), "governance/decisions.html",
                           _("Decisions"), PER_PAGE, status=status, statuses=[st.value for st in DecisionStatus])


@bp.route("/resolutions")
def resolutions():
    authz.require_user()
    outcome = request.args.get("outcome", "").strip()
    outcome = outcome if outcome in {o.value for o in Outcome} else ""
    stmt = decisions.resolutions_query()
    if outcome:
        stmt = stmt.where(Decision.outcome == outcome)
    return listing.respond(lists.RESOLUTIONS, stmt, "governance/resolutions.html", _("Resolutions"), PER_PAGE,
                           outcome=outcome, outcomes=[o.value for o in Outcome])


@bp.route("/resolutions/<int:decision_id>.pdf")
def resolution_pdf(decision_id: int):
    authz.require_user()
    d = decisions.get_decision(decision_id)
    if d.status != DecisionStatus.CLOSED:
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
        period = cost_sharing.parse_period(period_text)
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
    pools = cost_sharing.pools_of(period) if period else []
    key = previews = digest = None
    recorded = cost_sharing.recorded_allocation(period) if period else None
    if period and pools:
        try:
            key, previews = cost_sharing.preview(period)
            digest = cost_sharing.preview_digest(period)
        except DomainError as exc:
            message = message or exc.detail
    return render_template("governance/costs.html", period=period_text, pools=pools, key=key,
                           previews=previews, digest=digest, recorded=recorded, errors=errors,
                           message=message, form=form, categories=POOL_CATEGORIES,
                           is_manager=user.has_role(Role.MANAGER)), status


@bp.route("/costs/<int:pool_id>/confirm-remove")
def confirm_remove_pool(pool_id):
    """The page that names what removing a cost pool does; its form removes it."""
    user = authz.require_user()
    if not user.has_role(Role.MANAGER):
        raise Forbidden("Only the facility manager removes cost pools.")
    pool = cost_sharing.get_cost_pool(pool_id if 0 < pool_id < 2**31 else 0)
    period_text = pool.period.strftime("%Y-%m")
    return render_template(
        "core/confirm.html", heading=_("Remove a cost pool"),
        consequence=_("Remove the pool “%(category)s” of %(amount)s from %(period)s: its cost is no longer "
                      "shared among the agencies in that month's allocation. To keep a corrected amount, "
                      "edit the pool instead.", category=str(BOARD_LABELS["category"].get(pool.category, pool.category)),
                      amount=money(pool.amount), period=period_text),
        action=url_for("governance.costs"),
        hidden={"period": period_text, "action": "delete", "pool_id": pool.id}, comment=None,
        confirm=_("Yes, remove the pool"), back_url=url_for("governance.costs", period=period_text),
        back=_("Keep the pool"))


def _costs_action(user, period, period_text: str) -> None:
    action = request.form.get("action")
    if action == "record":
        if request.form.get("confirm") != "yes":
            raise ValidationFailed({"confirm": [_("Tick the box to confirm you checked the preview.")]})
        cost_sharing.record_allocation(user, period, request.form.get("digest", ""))
        flash(_("The allocation of %(period)s is recorded.", period=period_text), "success")
    elif action in ("edit", "delete"):
        pool_id = request.form.get("pool_id", 0, type=int) or 0
        pool = cost_sharing.get_cost_pool(pool_id if 0 < pool_id < 2**31 else 0)
        if pool.period != period:
            raise ValidationFailed({"pool_id": [_("That pool belongs to another month.")]})
        if action == "delete":
            cost_sharing.delete_cost_pool(user, pool)
            flash(_("Cost pool removed."), "success")
        else:
            cost_sharing.update_cost_pool(user, pool, {"amount": request.form.get("amount", ""),
                                                   "description": request.form.get("description", "")})
            flash(_("Cost pool updated."), "success")
    else:
        cost_sharing.add_cost_pool(user, period, request.form.get("category", ""),
                               request.form.get("amount", ""), request.form.get("description", ""))
        flash(_("Cost pool added."), "success")
