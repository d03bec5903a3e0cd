"""An invoice batch through JOF (HTML from the template, PDFs on every core through
``jof.core.pdf.render_pdfs``, as a period's ZIP does) against bare WeasyPrint rendering the
very same HTML one document after another, in the same process, alternating, ``runs``
times. Wall seconds for the whole batch; lower is better."""

from __future__ import annotations

import statistics
import time
from datetime import date


def run(app, n: int, runs: int = 3) -> dict:
    from sqlalchemy import select
    from weasyprint import HTML

    from bench.billing import _bulk_charges
    from jof.billing import documents, invoices, services
    from jof.billing.models import Invoice
    from jof.core.db import db
    from jof.core.pdf import render_pdfs
    from jof.core.people import Agency, User
    from jof.governance import cost_sharing as governance

    month = date(date.today().year, 1, 1)
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.code)))
        _bulk_charges(month, 7 * 12, agencies, start=1)
        governance.add_cost_pool(manager, month, "staff", "10000.00")
        services.close_period(manager, month)
        invoices.issue_period(manager, month)
        db.session.commit()
        rows = db.session.scalars(select(Invoice).where(Invoice.period == month).order_by(Invoice.id)).all()
        chosen = [rows[i % len(rows)] for i in range(n)]
        htmls = [documents.invoice_html(inv) for inv in chosen]
        HTML(string=htmls[0]).write_pdf()  # warm-up: fonts, template compile
        jof, bare = [], []
        for _ in range(runs):
            t = time.perf_counter()
            pdfs = render_pdfs([documents.invoice_html(inv) for inv in chosen])
            jof.append(time.perf_counter() - t)
            assert len(pdfs) == n and all(p.startswith(b"%PDF") for p in pdfs)
            t = time.perf_counter()
            for html in htmls:
                HTML(string=html).write_pdf()
            bare.append(time.perf_counter() - t)
    return {"jof": jof, "baseline": bare, "ratios": [j / b for j, b in zip(jof, bare, strict=True)],
            "median_ratio": statistics.median(j / b for j, b in zip(jof, bare, strict=True))}
