"""Billing benchmark (issue 7).

1. Render 50 invoice PDFs through JOF (template + static-only fetcher) against bare
   WeasyPrint rendering the very same HTML, in the same run: seconds per invoice and ratio.
2. Close a period holding 100,000 charges against a plain SQL ``GROUP BY`` over the same
   rows, in the same run: seconds, ratio, and the close's peak Python memory (tracemalloc)
   plus the process's peak RSS.

Uses a throw-away SQLite database (or ``BENCH_DATABASE_URL``, e.g. a PostgreSQL database
you can drop). Runs in a few minutes on 2 cores.
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import date
from decimal import Decimal

N_INVOICES = int(os.environ.get("BENCH_INVOICES", "50"))
N_CHARGES = int(os.environ.get("BENCH_CHARGES", "100000"))


def _app(url: str):
    from flask_migrate import upgrade

    from jof import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
    return app


def _bulk_charges(month: date, n: int, agencies: list, start: int) -> None:
    """n events and their charges, spread over agencies, lines and items (as posted)."""
    from jof.billing.models import Charge
    from jof.core.charges import ChargeableEvent
    from jof.core.db import db

    items = [("travel", "ticket_issuance", "fee", Decimal("35.00")), ("procurement", "rfq_process", "fee", Decimal("350.00")),
             ("ict", "email_account", "fee", Decimal("12.00")), ("travel", "ticket_fare", "pass_through", None)]
    batch = 5000
    for lo in range(0, n, batch):
        events, charges = [], []
        for i in range(lo, min(lo + batch, n)):
            line, item, kind, price = items[i % len(items)]
            amount = price if price is not None else Decimal(500 + i % 997) + Decimal("0.37")
            ref = f"BENCH-{start + i}"
            events.append({"id": start + i, "source_ref": ref, "service_line": line,
                           "agency_id": agencies[i % len(agencies)], "service_item": item, "kind": kind,
                           "quantity": Decimal(1), "value_usd": amount, "delivered_on": month.replace(day=1 + i % 27),
                           "description": ""})
            charges.append({"event_id": start + i, "source_ref": ref, "agency_id": agencies[i % len(agencies)],
                            "period": month, "service_line": line, "item_code": item, "kind": kind, "description": "",
                            "quantity": Decimal(1), "unit_price": price, "amount": amount,
                            "delivered_on": month.replace(day=1 + i % 27), "note": ""})
        db.session.execute(ChargeableEvent.__table__.insert(), events)
        db.session.execute(Charge.__table__.insert(), charges)
    db.session.commit()


def bench_render(app) -> None:
    from sqlalchemy import select
    from weasyprint import HTML

    from jof.billing import documents, invoices, services
    from jof.billing.models import Invoice
    from jof.core.db import db
    from jof.core.people import Agency, User
    from jof.governance import cost_sharing as governance

    year = date.today().year
    month = date(year, 1, 1)
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.code)))
        _bulk_charges(month, 7 * 12, agencies, start=1)
        governance.add_cost_pool(manager, month, "staff", "10000.00")
        governance.add_cost_pool(manager, month, "premises", "3333.33")
        services.close_period(manager, month)
        invoices.issue_period(manager, month)
        db.session.commit()
        rows = db.session.scalars(select(Invoice).where(Invoice.period == month).order_by(Invoice.id)).all()
        chosen = [rows[i % len(rows)] for i in range(N_INVOICES)]
        htmls = [documents.invoice_html(inv) for inv in chosen]
        documents.invoice_pdf(chosen[0])  # warm-up: fonts, template compile
        HTML(string=htmls[0]).write_pdf()
        jof_times, bare_times = [], []
        for inv, html in zip(chosen, htmls, strict=True):
            t = time.perf_counter()
            documents.invoice_pdf(inv)
            jof_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            HTML(string=html).write_pdf()
            bare_times.append(time.perf_counter() - t)
        pages = len(__import__("pypdf").PdfReader(__import__("io").BytesIO(documents.invoice_pdf(chosen[0]))).pages)
    jm, bm = statistics.mean(jof_times), statistics.mean(bare_times)
    print(f"render: {N_INVOICES} invoices ({len(rows)} distinct, {pages} page(s) each)")
    print(f"  JOF invoice_pdf      {jm:.3f} s/invoice (median {statistics.median(jof_times):.3f})")
    print(f"  bare WeasyPrint      {bm:.3f} s/invoice (median {statistics.median(bare_times):.3f})")
    print(f"  ratio JOF / bare     {jm / bm:.2f}")


def bench_close(app) -> None:
    from sqlalchemy import func, select

    from jof.billing import services
    from jof.billing.models import Charge, Invoice
    from jof.core.db import db
    from jof.core.people import Agency, User

    year = date.today().year
    month = date(year, 2, 1)
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.code)))
        t = time.perf_counter()
        _bulk_charges(month, N_CHARGES, agencies, start=1_000_000)
        print(f"close: inserted {N_CHARGES:,} charges in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        sums = db.session.execute(select(Charge.agency_id, func.sum(Charge.amount)).where(Charge.period == month)
                                  .group_by(Charge.agency_id)).all()
        baseline = time.perf_counter() - t
        db.session.rollback()
        # timed run, rolled back; then the same close under tracemalloc for its peak memory
        t = time.perf_counter()
        result = services.close_period(manager, month)
        db.session.flush()
        elapsed = time.perf_counter() - t
        assert len(result.invoices) == len(sums)
        db.session.rollback()
        tracemalloc.start()
        services.close_period(manager, month)
        db.session.commit()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        total = db.session.scalar(select(func.sum(Invoice.total_usd)).where(Invoice.period == month))
        expected = sum((s for _, s in sums), Decimal(0))
        assert total == expected, (total, expected)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  plain SQL GROUP BY   {baseline:.3f} s")
    print(f"  close_period         {elapsed:.3f} s ({len(result.invoices)} invoices, total USD {total})")
    print(f"  ratio close / GROUP BY {elapsed / baseline:.1f}")
    print(f"  close peak Python memory (tracemalloc) {peak / 1e6:.1f} MB; process peak RSS {rss:.0f} MB")


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/bench.db"
        app = _app(url)
        from jof import demo
        from jof.core.db import db

        with app.app_context():
            demo.load("bench-password-1")
            db.session.commit()
        print(f"JOF billing benchmark on {url.split(':')[0]}")
        bench_render(app)
        bench_close(app)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
