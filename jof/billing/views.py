"""Billing pages: the manager's period close, invoices, payments and credit notes; the
agencies' invoices and statements."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from jof.billing import exports, invoices, jobs, pricing, services
from jof.billing.models import CreditNote, PriceList
from jof.core import authz
from jof.core.db import db
from jof.core.errors import DomainError, NotFound, ValidationFailed
from jof.core.people import Role

bp = Blueprint("billing", __name__, url_prefix="/billing", template_folder="templates")


def _previous_month() -> date:
    today = invoices.today().replace(day=1)
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


@bp.route("/")
def invoice_list():
    user = authz.require_user()
    period = None
    if request.args.get("period"):
        try:
            period = services.parse_period(request.args["period"])
        except ValidationFailed:
            period = None
    rows = db.session.scalars(invoices.invoices_query(user, period=period,
                                                      agency_code=request.args.get("agency"),
                                                      status=request.args.get("status")).limit(200)).all()
    return render_template("billing/invoices.html", rows=rows, status_of=invoices.status_of,
                           balance=invoices.balance, period=request.args.get("period", ""))


@bp.route("/periods", methods=["GET", "POST"])
def periods():
    user = authz.require_user()
    authz.require_roles(user, Role.MANAGER, Role.AUDITOR, Role.ADMIN)
    text = request.values.get("period") or _previous_month().strftime("%Y-%m")
    try:
        month = services.parse_period(text)
    except ValidationFailed as exc:
        return render_template("billing/periods.html", period=text, errors=exc.errors, preview=None,
                               jobs=[], periods=[], invoices=[], message=None, zip_ready=False), 422
    message, status = None, 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action in ("close", "render"):
                job = jobs.start(user, "close_period" if action == "close" else "render_period", month)
                if job.status == "queued":
                    flash(_("Job #%(id)s queued: a worker runs it; this page shows its progress.", id=job.id),
                          "info")
                    return redirect(url_for("billing.job", job_id=job.id))
                flash(job.message, "success" if job.status == "done" else "danger")
            elif action == "issue":
                issued = invoices.issue_period(user, month)
                flash(_("%(n)s invoice(s) issued.", n=len(issued)), "success")
            else:
                abort(400)
            return redirect(url_for("billing.periods", period=text))
        except DomainError as exc:
            message, status = exc.detail, exc.status
    preview = services.preview(month)
    period_invoices = db.session.scalars(invoices.invoices_query(user, period=month)).all()
    return render_template("billing/periods.html", period=text, errors={}, preview=preview, message=message,
                           jobs=db.session.scalars(jobs.jobs_query(month).limit(10)).all(),
                           periods=db.session.scalars(services.periods_query().limit(24)).all(),
                           invoices=period_invoices, status_of=invoices.status_of,
                           zip_ready=jobs.zip_path(month).is_file(),
                           is_manager=user.has_role(Role.MANAGER)), status


@bp.route("/periods/<period>.zip")
def period_zip(period):
    user = authz.require_user()
    authz.require_roles(user, Role.MANAGER, Role.AUDITOR, Role.ADMIN)
    path = jobs.zip_path(services.parse_period(period))
    if not path.is_file():
        raise NotFound(_("Render the period's PDFs first."))
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


@bp.route("/jobs/<int:job_id>")
def job(job_id: int):
    user = authz.require_user()
    authz.require_roles(user, Role.MANAGER, Role.AUDITOR, Role.ADMIN)
    job = jobs.get(job_id)
    response = make_response(render_template(
        "billing/job.html", job=job,
        zip_ready=job.kind == "render_period" and job.status == "done" and jobs.zip_path(job.period).is_file()))
    if job.status in ("queued", "running"):
        response.headers["Refresh"] = "2"  # the browser reloads until the job ends
    return response


def _invoice_page(inv, errors=None, message=None, status=200):
    user = authz.current_user()
    return render_template("billing/invoice.html", inv=inv, status=invoices.status_of(inv),
                           balance=invoices.balance(inv), credited=invoices.credited(inv),
                           paid=invoices.paid(inv), groups=invoices.grouped_lines(inv),
                           errors=errors or {}, message=message, form=request.form,
                           is_manager=user.has_role(Role.MANAGER)), status


@bp.route("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    return _invoice_page(invoices.get_invoice(authz.require_user(), invoice_id))


@bp.route("/invoices/<int:invoice_id>.pdf")
def invoice_pdf(invoice_id: int):
    inv = invoices.get_invoice(authz.require_user(), invoice_id)
    return Response(invoices.invoice_pdf(inv), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{invoices.filename(inv)}"'})


@bp.route("/invoices/<int:invoice_id>/<action>", methods=["POST"])
def invoice_action(invoice_id: int, action: str):
    user = authz.require_user()
    inv = invoices.get_invoice(user, invoice_id)
    try:
        if action == "issue":
            invoices.issue(user, inv.id)
            flash(_("Invoice issued."), "success")
        elif action == "payment":
            invoices.record_payment(user, inv, paid_on=request.form.get("paid_on", ""),
                                    amount=request.form.get("amount", ""),
                                    reference=request.form.get("reference", ""))
            flash(_("Payment recorded."), "success")
        elif action == "credit-note":
            invoices.credit_note(user, inv, reason=request.form.get("reason", ""),
                                 amount=request.form.get("credit_amount") or None)
            flash(_("Credit note issued."), "success")
        else:
            raise NotFound("No such action.")
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        if action == "credit-note" and "amount" in errors:
            errors["credit_amount"] = errors.pop("amount")
        return _invoice_page(inv, errors=errors, status=422)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _invoice_page(inv, message=exc.detail, status=exc.status)
    return redirect(url_for("billing.invoice", invoice_id=inv.id))


@bp.route("/credit-notes/<int:credit_note_id>.pdf")
def credit_note_pdf(credit_note_id: int):
    user = authz.require_user()
    cn = db.session.get(CreditNote, credit_note_id)
    if cn is None:
        raise NotFound("No such credit note.")
    authz.ensure_visible(user, cn.invoice.agency_id, "credit note")
    return Response(invoices.credit_note_pdf(cn), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{cn.number}.pdf"'})


@bp.route("/statements/<code>")
def statement(code: str):
    agency, entries = invoices.statement(authz.require_user(), code)
    return render_template("billing/statement.html", agency=agency, entries=entries)


@bp.route("/statements/<code>.pdf")
def statement_pdf(code: str):
    agency, entries = invoices.statement(authz.require_user(), code)
    return Response(invoices.statement_pdf(agency, entries), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="statement-{agency.code}.pdf"'})


@bp.route("/statements/<code>.csv")
def statement_csv(code: str):
    agency, entries = invoices.statement(authz.require_user(), code)
    return Response(invoices.statement_csv(agency, entries), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.csv"'})


@bp.route("/statements/<code>.xlsx")
def statement_xlsx(code: str):
    agency, entries = invoices.statement(authz.require_user(), code)
    return Response(exports.statement_xlsx(agency, entries), mimetype=exports.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.xlsx"'})


@bp.route("/price-list")
def price_list():
    authz.require_user()
    current = pricing.in_force(invoices.today())
    versions = db.session.scalars(select(PriceList).order_by(PriceList.version.desc())).all()
    return render_template("billing/price_list.html", current=current, versions=versions)
