"""Billing pages: the manager's period close, invoices, payments and credit notes; the
agencies' invoices and statements. Each page loads, calls services with the acting user
(they decide who may) and renders."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from jof.billing import (
    access,
    balances,
    documents,
    exports,
    invoices,
    jobs,
    lists,
    pricing,
    services,
    statements,
    words,
)
from jof.core import authz, listing
from jof.core import jobs as core_jobs
from jof.core.calendar import local_today, parse_month, previous_month
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from jof.core.templating import money

bp = Blueprint("billing", __name__, url_prefix="/billing", template_folder="templates")

#: Invoices per page of the list (seven agencies: a year of months on two pages).
PER_PAGE = 50


@bp.route("/")
def invoice_list():
    user = authz.require_user()
    try:
        period = parse_month(request.args["period"]) if request.args.get("period") else None
    except ValidationFailed:
        period = None
    stmt = invoices.invoices_query(user, period=period, agency_code=request.args.get("agency"),
                                   status=request.args.get("status")).options(*lists.ROW_LOADS)
    return listing.respond(lists.INVOICES, stmt, "billing/invoices.html", _("Invoices"), PER_PAGE,
                           standing=balances.standing, balance=balances.balance,
                           period=request.args.get("period", ""),
                           follows_periods=access.follows_periods(user))


#: The field the confirmation page posts with a close: without it nothing is closed.
CONFIRM_FIELD = "confirmed"


def _period_action(user, action: str | None, month) -> Response:
    if action == "close" and request.form.get(CONFIRM_FIELD) != "yes":
        raise ValidationFailed({"action": [_("Not closed: closing a period cannot be undone, so it is done only from "
                                             "its confirmation page, which shows what it will invoice.")]},
                               _("Not closed: closing a period cannot be undone, so it is done only from its "
                                 "confirmation page, which shows what it will invoice."))
    if action in ("close", "render"):
        job = jobs.start(user, "close_period" if action == "close" else "render_period", month)
        if job.status == "queued":
            flash(_("Job #%(id)s queued: a worker runs it; this page shows its progress.", id=job.id), "info")
            return redirect(url_for("billing.job", job_id=job.id))
        flash(words.job_outcome(job), "success" if job.status == "done" else "danger")
    elif action == "issue":
        expected = request.form.get("first_number")
        if expected is None:
            message = _("Not issued: issuing gives the drafts their numbers for good, so it is done only from "
                        "its confirmation page, which names the numbers.")
            raise ValidationFailed({"action": [message]}, message)
        if invoices.issue_plan(user, month).first != (expected or None):
            raise Conflict(_("The invoice numbers changed since you confirmed (someone issued invoices "
                             "meanwhile). Review the confirmation again."))
        issued = invoices.issue_period(user, month)
        flash(_("%(n)s invoice(s) issued.", n=len(issued)), "success")
    else:
        abort(400)
    return redirect(url_for("billing.periods", period=f"{month:%Y-%m}"))


@bp.route("/periods", methods=["GET", "POST"])
def periods():
    user = authz.require_user()
    text = request.values.get("period") or previous_month(local_today()).strftime("%Y-%m")
    try:
        month = parse_month(text, "period")
    except ValidationFailed as exc:
        return render_template("billing/periods.html", period=text, errors=exc.errors, preview=None,
                               jobs=[], periods=[], invoices=[], message=None, zip_ready=False), 422
    message, status = None, 200
    if request.method == "POST":
        try:
            return _period_action(user, request.form.get("action"), month)
        except DomainError as exc:  # shown on the page, which only the facility's people see
            message, status = exc.detail, exc.status
    preview = services.preview(user, month)
    return render_template("billing/periods.html", period=text, errors={}, preview=preview, message=message,
                           jobs=db.session.scalars(jobs.jobs_query(user, month).limit(10)).all(),
                           periods=db.session.scalars(services.periods_query(user).limit(24)).all(),
                           invoices=db.session.scalars(invoices.invoices_query(user, period=month)).all(),
                           standing=balances.standing, zip_ready=documents.zip_path(month).is_file(),
                           is_manager=access.may_manage(user)), status


#: The period actions that cannot be undone, and so are confirmed first.
CONFIRMED_ACTIONS = ("close", "issue")


@bp.route("/periods/<period>/confirm/<action>")
def confirm_period_action(period, action):
    """Says what closing the month, or issuing its drafts, will do before the manager
    does it: a page whose form posts the action (it works without JavaScript)."""
    user = authz.require_user()
    if action not in CONFIRMED_ACTIONS:
        abort(404)
    access.ensure_manager(user, _("Only the facility manager closes periods and issues invoices."))
    month = parse_month(period, "period")
    context = {"period": f"{month:%Y-%m}", "action": action, "preview": None, "plan": None}
    if action == "close":
        context["preview"] = services.preview(user, month)
    else:
        context["plan"] = invoices.issue_plan(user, month)
    return render_template("billing/confirm.html", **context)


@bp.route("/periods/<period>.zip")
def period_zip(period):
    path = jobs.zip_file(authz.require_user(), parse_month(period, "period"))
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


@bp.route("/jobs/<int:job_id>")
def job(job_id: int):
    job = jobs.get(authz.require_user(), job_id)
    response = make_response(render_template(
        "billing/job.html", job=job,
        zip_ready=job.kind == "render_period" and job.status == "done" and documents.zip_path(job.period).is_file()))
    return response


@bp.route("/jobs/<int:job_id>.json")
def job_progress(job_id: int):
    """What the job page polls (jof/static/progress.js) to move its progress bar."""
    return jsonify(core_jobs.progress_json(jobs.get(authz.require_user(), job_id)))


def _invoice_page(inv, errors=None, message=None, status=200, form=None):
    user = authz.current_user()
    return render_template("billing/invoice.html", inv=inv, status=balances.standing(inv),
                           balance=balances.balance(inv), credited=balances.credited(inv),
                           paid=balances.paid(inv), groups=documents.grouped_lines(inv),
                           errors=errors or {}, message=message, form=request.form if form is None else form,
                           facility=documents.facility(),
                           is_manager=access.may_manage(user)), status


@bp.route("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    return _invoice_page(invoices.get_invoice(authz.require_user(), invoice_id))


@bp.route("/invoices/<int:invoice_id>.pdf")
def invoice_pdf(invoice_id: int):
    inv = invoices.get_invoice(authz.require_user(), invoice_id)
    return Response(documents.invoice_pdf(inv), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{documents.filename(inv)}"'})


@bp.route("/invoices/<int:invoice_id>/confirm/credit-note")
def confirm_credit_note(invoice_id: int):
    """The page that names the credit note about to be issued (number range, amount, agency);
    its form issues it. The reason and the amount are checked first, in one round."""
    user = authz.require_user()
    inv = invoices.get_invoice(user, invoice_id)
    access.ensure_manager(user, "Only the facility manager issues credit notes.")
    reason = request.args.get("reason", "").strip()
    raw = request.args.get("credit_amount", "").strip()
    creditable = inv.total_usd - balances.credited(inv)
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why the invoice is corrected.")]
    try:
        amount = creditable if raw == "" else Decimal(raw.replace(",", ""))
        if not amount.is_finite() or not 0 < amount <= creditable:
            raise InvalidOperation
    except InvalidOperation:
        errors["credit_amount"] = [_("At most %(amount)s can still be credited on %(number)s.",
                                     amount=money(creditable), number=inv.number)]
    if errors:
        return _invoice_page(inv, errors=errors, status=422, form={"reason": reason, "credit_amount": raw})
    return render_template(
        "core/confirm.html", heading=_("Issue a credit note on %(number)s", number=inv.number),
        consequence=_("Issue a credit note of %(amount)s on invoice %(number)s of %(agency)s: it takes the next "
                      "credit-note number, lowers what the agency owes and cannot be withdrawn.",
                      amount=money(amount), number=inv.number, agency=f"{inv.agency.name} ({inv.agency.code})"),
        action=url_for("billing.invoice_action", invoice_id=inv.id, action="credit-note"),
        hidden={"reason": reason, "credit_amount": raw}, comment=None,
        confirm=_("Yes, issue the credit note"), back_url=url_for("billing.invoice", invoice_id=inv.id),
        back=_("Keep the invoice as it is"))


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
    cn = invoices.get_credit_note(authz.require_user(), credit_note_id)
    return Response(documents.credit_note_pdf(cn), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{cn.number}.pdf"'})


@bp.route("/statements/<code>")
def statement(code: str):
    agency, entries = statements.statement(authz.require_user(), code)
    return render_template("billing/statement.html", agency=agency, entries=entries)


@bp.route("/statements/<code>.pdf")
def statement_pdf(code: str):
    agency, entries = statements.statement(authz.require_user(), code)
    return Response(documents.statement_pdf(agency, entries), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="statement-{agency.code}.pdf"'})


@bp.route("/statements/<code>.csv")
def statement_csv(code: str):
    agency, entries = statements.statement(authz.require_user(), code)
    return Response(exports.statement_csv(agency, entries), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.csv"'})


@bp.route("/statements/<code>.xlsx")
def statement_xlsx(code: str):
    agency, entries = statements.statement(authz.require_user(), code)
    return Response(exports.statement_xlsx(agency, entries), mimetype=exports.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.xlsx"'})


@bp.route("/price-list")
def price_list():
    authz.require_user()
    return render_template("billing/price_list.html", current=pricing.in_force(local_today()),
                           versions=pricing.versions())
