"""HR pages, second slice (under /hr): importing applications from a CSV export, the
assessment panel, the recommendation report and the statistics. Thin handlers, as in
:mod:`jof.hr.views`."""

from __future__ import annotations

from babel import Locale
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import authz, forms
from jof.core.db import db
from jof.core.errors import DomainError
from jof.core.people import Agency, Role
from jof.hr import imports, panels, recommendation, recruitments, states, statistics
from jof.hr.public import GENDER_LABELS

bp = Blueprint("hr_officer", __name__, url_prefix="/hr", template_folder="templates")


def _import_page(rec, status=200, *, text="", errors=None, rejected=None):
    return render_template("hr/import.html", rec=rec, sr=rec.request, text=text, errors=errors or {},
                           rejected=rejected or [], columns=imports.COLUMNS,
                           optional=imports.OPTIONAL_COLUMNS), status


@bp.route("/recruitments/<reference>/import", methods=["GET", "POST"])
def import_applications(reference):
    user = authz.require_user()
    rec = recruitments.get_recruitment(user, reference)
    recruitments.ensure_sees_candidates(user, rec)
    if request.method == "GET":
        return _import_page(rec)
    text = request.form.get("csv", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        text = upload.read().decode("utf-8-sig", errors="replace")
    try:
        report = imports.import_applications_csv(user, rec, text)
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _import_page(recruitments.get_recruitment(user, reference), status, text=text, errors=errors)
    if report.rejected:
        db.session.rollback()
        return _import_page(recruitments.get_recruitment(user, reference), 422, text=text, errors={"csv": [
            _("%(n)d line(s) rejected; nothing was imported.", n=len(report.rejected))]}, rejected=report.rejected)
    flash(_("%(n)d application(s) imported and screened.", n=report.imported), "success")
    return redirect(url_for("hr.recruitment_page", reference=reference))


@bp.route("/recruitments/<reference>/recommendation.pdf")
def recommendation_pdf(reference):
    """The recommendation report, rendered from the table frozen when recommending."""
    user = authz.require_user()
    report = recommendation.latest_report(user, recruitments.get_recruitment(user, reference))
    return Response(recommendation.report_pdf(report), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{reference}-recommendation.pdf"'})


def _country(code: str) -> str:
    name = Locale.parse(str(get_locale() or "en")).territories.get(code)
    return f"{name} ({code})" if name else code


@bp.route("/statistics")
def statistics_page():
    """Candidates by gender and nationality, aggregates only (no count below 5)."""
    user = authz.require_user()
    year_text = request.args.get("year", "").strip()
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else None
    agency = request.args.get("agency", "").strip() or None
    errors = {}
    try:
        stats = statistics.statistics(user, year, agency)
    except DomainError as exc:
        errors, _status = forms.refused(exc)
        stats = statistics.statistics(user, year, None)
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all() if authz.sees_all_agencies(user) else []
    labels = {"gender": lambda v: str(GENDER_LABELS.get(v, v)), "nationality": _country}
    return render_template("hr/statistics.html", stats=stats, year=year_text, agency=agency, agencies=agencies,
                           errors=errors, labels=labels)


def _panel_page(user, rec, status=200, *, error=None, errors=None, form=None):
    seats = panels.panel_of(user, rec)
    return render_template("hr/panel.html", rec=rec, sr=rec.request, seats=seats, errors=errors or {},
                           form=form or {}, error=error,
                           officer=not authz.is_read_only(user) and (
                               authz.is_officer_for(user, states.SERVICE_LINE) or user.has_role(Role.MANAGER)),
                           open_=rec.request.status in panels.PANEL_STATES), status


def _panel_post(reference, act, success: str):
    def done(rec):
        flash(success, "success")
        return redirect(url_for("hr_officer.panel_page", reference=reference))

    return forms.act_on(lambda user: recruitments.get_recruitment(user, reference), act, _panel_page, done)


@bp.route("/recruitments/<reference>/panel")
def panel_page(reference):
    """The assessment panel: who sits, who left with a conflict; seating and declaring."""
    user = authz.require_user()
    return _panel_page(user, recruitments.get_recruitment(user, reference))


@bp.route("/recruitments/<reference>/panel", methods=["POST"])
def panel_add(reference):
    return _panel_post(reference, lambda user, rec, form: panels.add_member(user, rec, form.get("email", "")),
                       _("Panel member seated."))


@bp.route("/recruitments/<reference>/panel/<int:user_id>/conflict", methods=["POST"])
def panel_conflict(reference, user_id):
    return _panel_post(reference,
                       lambda user, rec, form: panels.declare_conflict(user, rec, user_id, form.get("note", "")),
                       _("The conflict of interest is recorded; the member has left the panel."))
