"""Travel pages: the request form with its DSA estimate, the request page with the
calculation table and the facility's steps, the ticketing queue, the DSA rate table.

Thin handlers: read the form, validate with the API's schemas, call a service, redirect
on success or render the page again with the messages and the input kept (422). The
estimate is computed on the server: a "Calculate" button works without JavaScript, and
``static/travel-estimate.js`` (a file: the CSP allows no inline script) posts the legs to
``/travel/estimate.json`` as they change, with the session and the CSRF token.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from jof.core import authz, calendar, field_messages, forms, listing, templating, workflow
from jof.core.db import db
from jof.core.errors import DomainError, ValidationFailed
from jof.core.formatting import money
from jof.core.paging import html_page
from jof.core.people import Role
from jof.travel import claims, dsa, itinerary, lists, ticketing, trips
from jof.travel import rates as rate_table
from jof.travel import schemas as s
from jof.travel.models import TICKETED_STAGES, Stage
from jof.travel.states import SERVICE_LINE, TYPE

bp = Blueprint("travel", __name__, url_prefix="/travel", template_folder="templates")

PER_PAGE = 25
#: Rows the forms offer (empty rows are ignored).
LEG_ROWS = 4

#: The words a reader sees for each stage (translatable, like the statuses of the spine).
STAGE_LABELS = {Stage.NONE: _l("started"), Stage.QUOTED: _l("quoted"), Stage.TICKETED: _l("ticketed"),
                Stage.TRAVELLED: _l("travelled"), Stage.CLAIMED: _l("claim filed"),
                Stage.SETTLED: _l("claim settled")}


def register_labels() -> None:
    """The words for this line's own steps and request type (the core knows only the
    spine's; without these a Portuguese page would show English codes). Called by
    ``jof.travel.install``."""
    field_messages.FIELD_LABELS.update({
        "travel_class": _l("Class of travel"), "traveller_name": _l("Traveller"), "legs": _l("Legs"),
        "origin_city": _l("From (city)"), "origin_country": _l("From (country)"),
        "destination_city": _l("To (city)"), "destination_country": _l("To (country)"),
        "depart_at": _l("Departure"), "arrive_at": _l("Arrival"), "needs_dsa": _l("Claims DSA"),
        "needs_ticket": _l("Needs a ticket"), "needs_visa": _l("Needs a visa"), "fare": _l("Fare"),
        "carrier": _l("Carrier"), "booking_reference": _l("Booking reference"),
        "cancellation_fee": _l("Airline cancellation fee"), "usd_per_night": _l("USD per night"),
        "room_pct": _l("Room percentage"), "provisions": _l("Meals and lodging provided")})
    templating.ACTION_LABELS.update({
        "quote": _l("Record quote"), "ticket": _l("Issue ticket"), "mark_travelled": _l("Mark travelled"),
        "claim": _l("File claim"), "settle": _l("Settle claim"),
    })
    templating.ACTION_DONE_LABELS.update({
        "quote": _l("Quote recorded"), "ticket": _l("Ticket issued"), "mark_travelled": _l("Marked travelled"),
        "claim": _l("Claim filed"), "settle": _l("Claim settled"),
    })
    templating.TYPE_LABELS.update({TYPE: _l("Travel request")})


PROVISION_ROWS = 2
LEG_FIELDS = ("origin_city", "origin_country", "destination_city", "destination_country", "depart_at", "arrive_at")
PROVISION_FIELDS = ("from_night", "to_night")
FLAGS = ("needs_ticket", "needs_visa", "needs_dsa", "advance_requested")


def _is_desk(user) -> bool:
    return authz.is_officer_for(user, SERVICE_LINE) or user.has_role(Role.MANAGER, Role.AUDITOR, Role.RESIDENT_COORDINATOR)


@bp.app_template_filter("travel_input_dt")
def _input_dt(value: datetime | None) -> str:
    """A UTC time as a ``datetime-local`` input value in the facility's time zone."""
    if value is None:
        return ""
    return value.astimezone(calendar.facility_zone()).strftime("%Y-%m-%dT%H:%M")


@bp.app_template_filter("travel_pct")
def _pct(value) -> str:
    """``Decimal("100.0000")`` → ``100``, ``Decimal("37.50")`` → ``37.5`` (never ``1E+2``)."""
    return f"{value.normalize():f}"


@bp.app_template_filter("travel_stage")
def _stage(value: str) -> str:
    label = STAGE_LABELS.get(value or "")
    return str(label) if label is not None else value


@bp.route("/")
def home():
    user = authz.require_user()
    status = request.args.get("status") or None
    stmt = trips.travel_query(user, status).options(*lists.ROW_LOADS)
    return listing.respond(lists.TRAVEL, stmt, "travel/home.html", _("Travel requests"), PER_PAGE,
                           status=status, is_desk=_is_desk(user),
                           can_file=user.has_role(Role.REQUESTER) and not authz.is_read_only(user),
                           statuses=workflow.get_type("travel").states)


# --- the request form --------------------------------------------------------------------


def _rows(form, prefix: str, count: int, names: tuple[str, ...]) -> list[dict]:
    rows = []
    for i in range(count):
        row = {n: form.get(f"{prefix}.{i}.{n}", "").strip() for n in names}
        rows.append(row)
    return rows


def _form_data(form) -> tuple[dict, dict]:
    """(what the user typed, to re-render) and (the body for the schemas)."""
    kept = {k: v for k, v in form.items() if k != "csrf_token"}
    legs = [r for r in _rows(form, "legs", LEG_ROWS, LEG_FIELDS) if any(r.values())]
    provisions = []
    for i, row in enumerate(_rows(form, "provisions", PROVISION_ROWS, PROVISION_FIELDS)):
        if not row["from_night"] and not row["to_night"]:
            continue
        row = {k: v for k, v in row.items() if v}
        for meal in ("accommodation", *dsa.MEALS):
            row[meal] = bool(form.get(f"provisions.{i}.{meal}"))
        provisions.append(row)
    body = {"legs": legs, "provisions": provisions, "title": form.get("title", "").strip(),
            "purpose": form.get("purpose", "").strip(), "travel_class": form.get("travel_class") or "economy"}
    for flag in FLAGS:
        body[flag] = bool(form.get(flag))
    name = form.get("traveller_name", "").strip()
    if name:
        body["traveller_name"] = name
    return kept, body


def _new_form(form: dict, errors: dict, status: int = 200, estimate=None):
    return render_template("travel/new.html", form=form, errors=errors, estimate=estimate, leg_count=LEG_ROWS,
                           provision_rows=PROVISION_ROWS, meals=dsa.MEALS), status


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request():
    user = authz.require_user()
    if request.method == "GET":
        return _new_form({f: "on" for f in ("needs_ticket", "needs_dsa", "advance_requested")}, {})
    form, body = _form_data(request.form)
    op = request.form.get("op", "estimate")
    try:
        if op == "estimate":
            data = forms.load(s.EstimateIn(), {k: body[k] for k in ("legs", "provisions", "needs_dsa")})
            return _new_form(form, {}, 200, itinerary.estimate(data))
        body["submit"] = op == "submit"
        tr = trips.create_travel(user, forms.load(s.TravelIn(), body))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _new_form(form, errors, status)
    ref = tr.request.reference
    if body["submit"]:
        flash(_("%(reference)s submitted for approval.", reference=ref), "success")
    else:
        flash(_("%(reference)s saved as a draft.", reference=ref), "success")
    return redirect(url_for("travel.request_page", reference=ref))


@bp.route("/estimate.json", methods=["POST"])
def estimate_json():
    """The form's DSA estimate for its script: a JSON body ``{legs, provisions, needs_dsa}``
    as for ``POST /api/v1/travel/dsa-estimate``, the same service, but with the session and
    the CSRF token (header ``X-CSRFToken``) instead of a bearer token. Writes nothing.

    Answers the estimate with the labels the page shows, or 422 ``{detail, errors}``.
    """
    authz.require_user()
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict):
            raise ValidationFailed({"_schema": [_("Send the itinerary as a JSON object.")]})
        est = itinerary.estimate(forms.load(s.EstimateIn(), body))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return jsonify(detail=exc.detail, errors=errors), status
    out = s.EstimateOut().dump(est)
    for shown, line in zip(out["lines"], est["lines"], strict=True):
        terminal = line.kind == "terminal"
        shown["location_label"] = _("Terminal expenses") if terminal else line.location
        shown["dates_label"] = f"{line.first_night} – {line.last_night}" if line.first_night else ""
        shown["nights_label"] = _("%(n)d terminals", n=line.nights) if terminal else str(line.nights)
        shown["percentage_label"] = f"{_pct(line.percentage)}%"
    out["total_label"] = money(est["total"])
    out["advance_label"] = _("Advance payable before travel (if requested): %(amount)s",
                             amount=money(est["advance"]))
    return jsonify(out)


# --- the request page -------------------------------------------------------------------


def _render(user, tr, status: int = 200, *, error=None, errors=None, form=None):
    transitions = workflow.available_transitions(user, tr.request)
    return render_template(
        "travel/request.html", tr=tr, sr=tr.request, transitions=transitions,
        actions={t.action for t in transitions},
        estimate=itinerary.lines_of(tr.estimate_lines),
        claim=itinerary.lines_of(tr.claim_lines) if tr.claim_lines is not None else None,
        error=error, errors=errors or {}, form=form or {}, meals=dsa.MEALS,
        claim_prefill=[{"origin_city": leg.origin_city, "origin_country": leg.origin_country,
                        "destination_city": leg.destination_city, "destination_country": leg.destination_country,
                        "depart_at": _input_dt(leg.depart_at), "arrive_at": _input_dt(leg.arrive_at)}
                       for leg in tr.planned_legs],
        ticketed=tr.stage in TICKETED_STAGES,
    ), status


@bp.route("/requests/<reference>")
def request_page(reference):
    user = authz.require_user()
    return _render(user, trips.get_travel(user, reference))


def _version(form) -> int:
    try:
        return int(form.get("version", ""))
    except ValueError:
        raise ValidationFailed({"version": [_("The form lost the request's version; reload the page.")]}) from None


def _post(reference, act, success: str):
    def done(_tr):
        flash(success % {"reference": reference}, "success")
        return redirect(url_for("travel.request_page", reference=reference))

    return forms.act_on(lambda user: trips.get_travel(user, reference), act, _render, done)


@bp.route("/requests/<reference>/transitions", methods=["POST"])
def transition(reference):
    def act(user, tr, form):
        workflow.perform(user, tr.request, form.get("action", ""), form.get("comment", ""), _version(form))

    return _post(reference, act, _("%(reference)s updated."))


@bp.route("/requests/<reference>/quote", methods=["POST"])
def quote(reference):
    def act(user, tr, form):
        data = forms.load(s.QuoteIn(), {k: form.get(k, "") for k in ("carrier", "fare", "currency", "notes", "version")})
        ticketing.record_quote(user, tr, data)

    return _post(reference, act, _("Quote recorded on %(reference)s."))


@bp.route("/requests/<reference>/ticket", methods=["POST"])
def ticket(reference):
    def act(user, tr, form):
        data = forms.load(s.TicketIn(), {k: form.get(k, "") for k in
                                    ("carrier", "fare", "currency", "booking_reference", "version")})
        ticketing.issue_ticket(user, tr, data)

    return _post(reference, act, _("Ticket issued for %(reference)s."))


@bp.route("/requests/<reference>/claim", methods=["POST"])
def claim(reference):
    def act(user, tr, form):
        legs = [r for r in _rows(form, "legs", len(tr.planned_legs), LEG_FIELDS) if any(r.values())]
        data = forms.load(s.ClaimIn(), {"legs": legs, "version": form.get("version", ""),
                                   "comment": form.get("comment", "")})
        claims.file_claim(user, tr, data)

    return _post(reference, act, _("Claim filed on %(reference)s."))


@bp.route("/requests/<reference>/confirm/cancel")
def confirm_cancel(reference):
    """The page that names what cancelling the trip does; its form cancels."""
    user = authz.require_user()
    tr = trips.get_travel(user, reference)
    move = next((t for t in workflow.available_transitions(user, tr.request) if t.action == "cancel"), None)
    if move is None:
        return _render(user, tr, error=_("That action is not open to you on this request now."))
    return render_template("travel/confirm_cancel.html", tr=tr, sr=tr.request, t=move,
                           ticketed=tr.stage in TICKETED_STAGES,
                           form={k: request.args.get(k, "") for k in ("comment", "cancellation_fee", "currency")})


@bp.route("/requests/<reference>/cancel", methods=["POST"])
def cancel(reference):
    def act(user, tr, form):
        body = {"version": form.get("version", ""), "comment": form.get("comment", "")}
        if form.get("cancellation_fee", "").strip():
            body["cancellation_fee"] = form["cancellation_fee"].strip()
            body["currency"] = form.get("currency", "USD").strip() or "USD"
        data = forms.load(s.CancellationIn(), body)
        ticketing.cancel(user, tr, data)

    return _post(reference, act, _("%(reference)s cancelled."))


# --- the officer's queue and the rate table ------------------------------------------------


@bp.route("/queue")
def queue():
    user = authz.require_user()
    page = html_page(trips.ticketing_queue_query(user), PER_PAGE)
    return render_template("travel/queue.html", p=page)


def _rates_page(user, form: dict, errors: dict, status: int = 200, import_text: str = "", rejected=None):
    country = (request.args.get("country") or "").strip().upper()
    response = listing.respond(lists.DSA_RATES, rate_table.rates_query(country or None), "travel/rates.html",
                               _("DSA rates"), PER_PAGE, form=form, errors=errors, country=country,
                               can_edit=rate_table.can_change_rates(user), import_text=import_text,
                               rejected=rejected or [])
    return response, status


@bp.route("/dsa-rates", methods=["GET", "POST"])
def rates():
    user = authz.require_user()
    if request.method == "GET":
        return _rates_page(user, {}, {})
    form = {k: request.form.get(k, "").strip() for k in ("city", "country", "month", "usd_per_night", "room_pct")}
    try:
        data = forms.load(s.DsaRateIn(), form)
        rate_table.set_rate(user, data["city"], data["country"], data["month"], data["usd_per_night"],
                       data["room_pct"])
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _rates_page(user, form, errors, status)
    flash(_("DSA rate for %(city)s saved.", city=form["city"]), "success")
    return redirect(url_for("travel.rates"))


@bp.route("/dsa-rates/import", methods=["POST"])
def import_rates():
    user = authz.require_user()
    text = request.form.get("csv", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        text = upload.read().decode("utf-8-sig", errors="replace")
    try:
        report = rate_table.import_rates_csv(user, text)
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _rates_page(user, {}, errors, status, import_text=text)
    if report.rejected:
        db.session.rollback()
        return _rates_page(user, {}, {"csv": [_("%(n)d line(s) rejected; nothing was imported.",
                                               n=len(report.rejected))]}, 422,
                           import_text=text, rejected=report.rejected)
    flash(_("%(n)d DSA rate(s) imported.", n=report.imported), "success")
    return redirect(url_for("travel.rates"))
