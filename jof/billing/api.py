"""Billing API under /api/v1/billing (DESIGN §10, the billing row). Each handler loads,
calls a service with the acting user (which decides who may) and responds."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from sqlalchemy.orm import joinedload, selectinload

from jof.billing import documents, exports, invoices, jobs, pricing, services, statements
from jof.billing import schemas as s
from jof.billing.models import Charge, CreditNote, Invoice
from jof.core import authz
from jof.core.apikit import Blueprint, page_schema
from jof.core.calendar import local_today, parse_month
from jof.core.db import db
from jof.core.errors import NotFound
from jof.core.jobs import Job
from jof.core.paging import PaginationQuery, page_of

blp = Blueprint("billing_api", __name__, url_prefix="/api/v1/billing",
                description="Price list, charges, period close, invoices, credit notes, statements")


@blp.route("/price-list")
@blp.arguments(s.PriceListQuery, location="query")
@blp.response(200, s.PriceListOut)
def price_list(q):
    """The price-list version in force on a date (default today)."""
    authz.require_user()
    pl = pricing.in_force(q["on"] or local_today())
    if pl is None:
        raise NotFound("No price list is in force on that date.")
    return pl


@blp.route("/price-list/versions")
@blp.response(200, s.PriceListOut(many=True))
def price_list_versions():
    """Every version the board adopted, newest first."""
    authz.require_user()
    return pricing.versions()


@blp.route("/charges")
@blp.arguments(s.ChargeQuery, location="query")
@blp.response(200, page_schema(s.ChargeOut, "ChargePage"))
def charges(q):
    """Priced charges; an agency sees its own only."""
    stmt = services.charges_query(authz.require_user(), agency_code=q["agency"], period=q["period"])
    return page_of(stmt.options(selectinload(Charge.agency)), q["page"], q["per_page"])


@blp.route("/periods")
@blp.response(200, s.PeriodOut(many=True))
def periods():
    return db.session.scalars(services.periods_query(authz.require_user())).all()


@blp.route("/periods/<period>/close", methods=["POST"])
@blp.response(200, s.CloseOut)
def close(period):
    """Close the month (manager); closing a closed month changes nothing (changed: false)."""
    user = authz.require_user()
    return services.close_period(user, parse_month(period, "period"))


#: What an invoice's representation reads (its lines, payments and credit notes for the
#: balance), loaded for a whole page in a fixed number of statements.
INVOICE_LOADS = (joinedload(Invoice.agency), selectinload(Invoice.lines), selectinload(Invoice.payments),
                 selectinload(Invoice.credit_notes))


@blp.route("/invoices")
@blp.arguments(s.InvoiceQuery, location="query")
@blp.response(200, page_schema(s.InvoiceOut, "InvoicePage"))
def invoice_list(q):
    """Invoices; an agency sees its own issued invoices only."""
    stmt = invoices.invoices_query(authz.require_user(), period=q["period"], agency_code=q["agency"],
                                   status=q["status"]).options(*INVOICE_LOADS)
    return page_of(stmt, q["page"], q["per_page"])


@blp.route("/invoices/<number>")
@blp.response(200, s.InvoiceOut)
def invoice(number):
    """An invoice by number (or a draft by id, for the facility)."""
    return invoices.get_invoice(authz.require_user(), number)


@blp.route("/invoices/<number>.pdf")
@blp.response(200, description="The invoice as PDF", content_type="application/pdf")
def invoice_pdf(number):
    inv = invoices.get_invoice(authz.require_user(), number)
    return Response(documents.invoice_pdf(inv), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{documents.filename(inv)}"'})


@blp.route("/invoices/<number>/issue", methods=["POST"])
@blp.response(200, s.InvoiceOut)
def issue(number):
    """Issue a draft (manager): it gets its number and due date and never changes again."""
    user = authz.require_user()
    return invoices.issue(user, invoices.get_invoice(user, number).id)


@blp.route("/invoices/<number>/payments")
class Payments(MethodView):
    @blp.response(200, s.PaymentOut(many=True))
    def get(self, number):
        return invoices.get_invoice(authz.require_user(), number).payments

    @blp.arguments(s.PaymentIn)
    @blp.response(201, s.PaymentOut)
    def post(self, data, number):
        """Record a (partial) payment (manager)."""
        user = authz.require_user()
        return invoices.record_payment(user, invoices.get_invoice(user, number), **data)


@blp.route("/credit-notes")
class CreditNotes(MethodView):
    @blp.arguments(s.InvoiceQuery(only=("page", "per_page")), location="query")
    @blp.response(200, page_schema(s.CreditNoteOut, "CreditNotePage"))
    def get(self, q):
        return page_of(invoices.credit_notes_query(authz.require_user())
                       .options(joinedload(CreditNote.invoice).joinedload(Invoice.agency)), q["page"], q["per_page"])

    @blp.arguments(s.CreditNoteIn)
    @blp.response(201, s.CreditNoteOut)
    def post(self, data):
        """Credit an issued invoice, fully (no amount) or partly (manager)."""
        user = authz.require_user()
        inv = invoices.get_invoice(user, data["invoice"])
        return invoices.credit_note(user, inv, reason=data["reason"], amount=data["amount"])


@blp.route("/statements/<code>")
@blp.response(200, s.StatementOut)
def statement(code):
    """Invoices, credit notes and payments of an agency with the running balance."""
    agency, entries = statements.statement(authz.require_user(), code)
    return {"agency": agency.code, "entries": entries,
            "balance": entries[-1].balance if entries else "0.00"}


@blp.route("/statements/<code>.xlsx")
@blp.response(200, description="The statement of account as a workbook", content_type=exports.XLSX_MIMETYPE)
def statement_xlsx(code):
    """The statement as XLSX: amounts are numbers (to the cent, formatted #,##0.00), dates are dates."""
    agency, entries = statements.statement(authz.require_user(), code)
    return Response(exports.statement_xlsx(agency, entries), mimetype=exports.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.xlsx"'})


@blp.route("/statements/<code>.csv")
@blp.response(200, description="The statement of account as CSV", content_type="text/csv")
def statement_csv(code):
    agency, entries = statements.statement(authz.require_user(), code)
    return Response(exports.statement_csv(agency, entries), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="statement-{agency.code}.csv"'})


# --- batch jobs ------------------------------------------------------------------------------


@blp.route("/jobs")
class Jobs(MethodView):
    @blp.arguments(PaginationQuery, location="query")
    @blp.response(200, page_schema(s.JobOut, "BillingJobPage"))
    def get(self, q):
        """Period closes and PDF renderings, newest first (facility staff)."""
        return page_of(jobs.jobs_query(authz.require_user()).options(joinedload(Job.requested_by)),
                       q["page"], q["per_page"])

    @blp.arguments(s.JobIn)
    @blp.response(202, s.JobOut)
    def post(self, data):
        """Start a job (manager): on the RQ queue when REDIS_URL is set (poll it), else run here."""
        user = authz.require_user()
        return jobs.start(user, data["kind"], data["period"])


@blp.route("/jobs/<int:job_id>")
@blp.response(200, s.JobOut)
def job(job_id):
    """A job's status, progress and result."""
    return jobs.get(authz.require_user(), job_id)
