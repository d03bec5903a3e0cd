"""Monitoring pages: the dashboard (filters in the URL, charts beside their tables, CSV
and XLSX exports of every table) and the service-level agreements.

Thin handlers: the filters go through the API's schema, :func:`dashboard.build` scopes
and computes, the templates show; a refused agreement re-renders the form with its
messages and the input kept (422).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import authz, forms
from jof.core import jobs as core_jobs
from jof.core.db import db
from jof.core.errors import DomainError, NotFound, ValidationFailed
from jof.core.people import Agency, Role
from jof.monitoring import agreements, dashboard, exports, jobs, report
from jof.monitoring import schemas as s
from jof.monitoring.api import send_document
from jof.monitoring.charts import stylesheet
from jof.monitoring.targets import KINDS

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring", template_folder="templates")

FILTERS = ("start", "end", "line", "agency")


def _query() -> dict:
    raw = {k: request.args[k].strip() for k in FILTERS if request.args.get(k, "").strip()}
    return forms.load(s.DashboardQuery(), raw)


@bp.route("/")
def dashboard_page():
    return _dashboard(authz.require_user())


def _dashboard(user, report_errors: dict | None = None, report_form: dict | None = None, status: int = 200):
    """The dashboard; a report that could not start comes back to it with its messages and
    what was typed (``report_errors``, ``report_form``)."""
    try:
        query = _query()
    except ValidationFailed as exc:
        return render_template("monitoring/dashboard.html", board=None, errors=exc.errors,
                               form=request.args.to_dict()), 422
    board = dashboard.build(user, query)
    args = {k: v for k, v in request.args.items() if k in FILTERS}
    return render_template("monitoring/dashboard.html", board=board, errors={}, args=args,
                           can_report=report.can_read_report(user), can_pack=report.can_read_pack(user),
                           report_errors=report_errors or {}, report_form=report_form or {},
                           report_jobs=jobs.recent(user),
                           form={"start": board.filters.start.isoformat(), "end": board.filters.end.isoformat(),
                                 "line": board.filters.line or "",
                                 "agency": board.agency.code if board.agency else ""}), status


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _months() -> int:
    raw = request.args.get("months", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 12:
        raise ValidationFailed({"months": [_("From 1 to 12 months.")]})
    return int(raw)


@bp.route("/report.pdf")
def report_pdf():
    """The monthly report of ``?month=YYYY-MM`` (rendered in the request: see ``report``)."""
    user = authz.require_user()
    report.require_report(user)
    month = report.parse_month(request.args.get("month", ""))
    return _pdf(report.monthly_pdf(user, month), f"jof-monthly-report-{month:%Y-%m}.pdf")


@bp.route("/board-pack.pdf")
def board_pack_pdf():
    """The board pack of the ``months`` (1–12) ending with ``?month=YYYY-MM``."""
    user = authz.require_user()
    report.require_pack(user)
    month, months = report.parse_month(request.args.get("month", "")), _months()
    return _pdf(report.board_pack_pdf(user, month, months), f"jof-board-pack-{month:%Y-%m}-{months}m.pdf")


@bp.route("/reports/<kind>", methods=["POST"])
def start_report(kind):
    """Start the monthly report or the board pack as a job, then show its progress."""
    user = authz.require_user()
    if kind not in jobs.KINDS:
        raise NotFound("No such report.")
    try:
        job = jobs.start(user, kind, request.form.get("month", ""), request.form.get("months"))
    except ValidationFailed as exc:
        return _dashboard(user, {f"{kind}.{k}": v for k, v in exc.errors.items()},
                          {k: request.form.get(k, "") for k in ("month", "months")} | {"kind": kind}, 422)
    return redirect(url_for("monitoring.report_job", job_id=job.id))


@bp.route("/jobs/<int:job_id>")
def report_job(job_id: int):
    job = jobs.get(authz.require_user(), job_id)
    return render_template("monitoring/job.html", job=job, ready=job.status == "done" and jobs.pdf_path(job).is_file())


@bp.route("/jobs/<int:job_id>.json")
def report_job_progress(job_id: int):
    """What the job page polls (jof/static/progress.js) to move its progress bar."""
    return jsonify(core_jobs.progress_json(jobs.get(authz.require_user(), job_id)))


@bp.route("/jobs/<int:job_id>.pdf")
def report_job_pdf(job_id: int):
    path, name = jobs.pdf_file(authz.require_user(), job_id)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0)


@bp.route("/charts.css")
def charts_css():
    return Response(stylesheet(), mimetype="text/css")


@bp.route("/export/<key>.<fmt>")
def export(key, fmt):
    user = authz.require_user()
    if fmt not in ("csv", "xlsx"):
        raise NotFound("No such export.")
    board = dashboard.build(user, _query())
    table = board.tables.get(key)
    if table is None:
        raise NotFound("No such table.")
    name = f"jof-{key}-{board.filters.start.isoformat()}-{board.filters.end.isoformat()}"
    if board.agency:
        name += f"-{board.agency.code}"
    if fmt == "csv":
        return Response(exports.table_csv(table), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(exports.table_xlsx(board, table), mimetype=exports.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@bp.route("/slas")
def sla_list():
    user = authz.require_user()
    return render_template("monitoring/slas.html", slas=agreements.listing(user), kinds=KINDS,
                           can_record=user.has_role(Role.MANAGER))


def _agency_options():
    return [("", _("Facility-wide default"))] + [
        (a.id, f"{a.code} — {a.name}") for a in db.session.scalars(select(Agency).order_by(Agency.code))]


def _sla_form(form: dict, errors: dict, status: int = 200):
    return render_template("monitoring/sla_form.html", form=form, errors=errors, kinds=KINDS,
                           agencies=_agency_options()), status


@bp.route("/slas/new", methods=["GET", "POST"])
def sla_new():
    user = authz.require_user()
    authz.require_roles(user, Role.MANAGER, why=_("Only the facility manager records service-level agreements."))
    if request.method == "GET":
        return _sla_form({}, {})
    form = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    data = {k: form[k] for k in ("valid_from", "valid_to", "reference", "notes") if form.get(k)}
    if form.get("agency_id"):
        data["agency_id"] = form["agency_id"]
    targets, errors = {}, {}
    for kind in KINDS:
        value = form.get(f"target_{kind}", "")
        if value:
            if not value.isdigit():
                errors[f"target_{kind}"] = [_("A whole number of working days or hours.")]
            else:
                targets[kind] = int(value)
    upload = request.files.get("document")
    document = None
    if upload is not None and upload.filename:
        document = (upload.filename, upload.stream.read(agreements.MAX_DOCUMENT_BYTES + 1))
    try:
        if errors:
            raise ValidationFailed(errors)
        if "agency_id" in data:
            if not data["agency_id"].isdigit():
                raise ValidationFailed({"agency_id": [_("No such agency.")]})
            data["agency_id"] = int(data["agency_id"])
        loaded = forms.load(s.SlaIn(), {**data, "targets": targets})
        sla = agreements.record(user, loaded, document)
    except DomainError as exc:
        errors, status = forms.refused(exc)
        for key in list(errors):
            if key.startswith("targets"):
                errors.setdefault("targets", []).extend(errors.pop(key) if key != "targets" else [])
        return _sla_form(form, errors, status)
    flash(_("Service-level agreement recorded."), "success")
    return redirect(url_for("monitoring.sla_list", _anchor=f"sla-{sla.id}"))


@bp.route("/slas/<int:sla_id>/document")
def sla_document(sla_id):
    return send_document(agreements.get(authz.require_user(), sla_id))


def cell(value):
    """A dashboard table's cell as people read numbers: grouped in their locale, with the
    decimals the figure carries (``11.00`` hours stay ``11.00``; the exports keep the
    plain figures) and dates in their format."""
    from datetime import date, datetime
    from decimal import Decimal

    from babel.numbers import format_decimal
    from flask_babel import get_locale

    from jof.core.formatting import local_date, local_dt

    if isinstance(value, datetime):
        return local_dt(value)
    if isinstance(value, date):
        return local_date(value)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return value
    places = max(0, -value.as_tuple().exponent) if isinstance(value, Decimal) else 0
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=str(get_locale() or "en"))
