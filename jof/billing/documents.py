"""The printed forms of billing: invoice, credit note and statement PDFs, and a period's
ZIP of invoice PDFs with where it is kept (DESIGN §7).

Both the invoice services (which drop a ZIP gone stale) and the batch jobs (which render
it) use this module; it uses neither, so billing has no import cycle.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

from flask import current_app, has_request_context, render_template
from sqlalchemy import select

from jof.billing import balances
from jof.billing.models import CreditNote, Invoice
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.pdf import render_pdf, render_pdfs
from jof.core.people import Agency, Facility


def facility() -> Facility | None:
    return db.session.get(Facility, 1)


def payment_instructions() -> str:
    return current_app.config.get(
        "JOF_PAYMENT_INSTRUCTIONS",
        "Please pay in USD by bank transfer to the facility's account within the due date, "
        "quoting the invoice number as the payment reference.")


def grouped_lines(inv: Invoice) -> list[tuple[str, list]]:
    groups: list[tuple[str, list]] = []
    for line in inv.lines:
        if not groups or groups[-1][0] != line.service_line:
            groups.append((line.service_line, []))
        groups[-1][1].append(line)
    return groups


def _render(template: str, **context) -> str:
    """Render in the current request, or in a bare one for jobs and the command line."""
    if has_request_context():
        return render_template(template, **context)
    with current_app.test_request_context():
        return render_template(template, **context)


def invoice_html(inv: Invoice, credit: CreditNote | None = None) -> str:
    return _render("billing/invoice_pdf.html", inv=inv, cn=credit, facility=facility(),
                   groups=grouped_lines(inv),
                   shares=[ln for ln in inv.lines if ln.kind == "cost_share"],
                   instructions=payment_instructions(), local_total=balances.local_total(inv))


def invoice_pdf(inv: Invoice) -> bytes:
    return render_pdf(invoice_html(inv))


def credit_note_pdf(cn: CreditNote) -> bytes:
    return render_pdf(invoice_html(cn.invoice, cn))


def statement_pdf(agency: Agency, entries: list) -> bytes:
    return render_pdf(_render("billing/statement_pdf.html", agency=agency, entries=entries,
                              facility=facility(), on=local_today()))


def filename(inv: Invoice) -> str:
    return f"{inv.number or f'draft-{inv.agency.code}-{inv.period:%Y-%m}'}.pdf"


# --- a period's ZIP ---------------------------------------------------------------------------


def zip_path(month: date) -> Path:
    return Path(current_app.instance_path) / "billing" / f"invoices-{month:%Y-%m}.zip"


def render_invoices(invoices: list[Invoice], progress=None) -> list[bytes]:
    """The invoices' PDFs, in order: the HTML is made here (it reads the database), the
    PDFs on every core at once, with ``progress(done, total)`` as they come back."""
    return render_pdfs([invoice_html(inv) for inv in invoices], progress=progress)


def period_zip(month: date, progress=None) -> bytes:
    """Every invoice of the month as PDFs in one ZIP (drafts named as drafts)."""
    invoices = db.session.scalars(select(Invoice).join(Agency).where(Invoice.period == month)
                                  .order_by(Agency.code)).all()
    buf = io.BytesIO()
    pdfs = render_invoices(invoices, progress)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for inv, pdf in zip(invoices, pdfs, strict=True):
            zf.writestr(filename(inv), pdf)
    return buf.getvalue()


def drop_stale_zip(month: date) -> None:
    """The period's rendered ZIP no longer matches once an invoice of it is issued,
    credited or paid: remove it, so it is rendered again before it is downloaded."""
    zip_path(month).unlink(missing_ok=True)
