"""An invoice batch through JOF (``jof.billing.documents.render_invoices``, the call a
period's ZIP job makes: HTML from the template, then PDFs on every core from one pool of
helpers with progress reported) against bare WeasyPrint rendering the very same HTML one
document after another, in the same process, alternating, ``runs`` times. The bench runs
single-threaded, as the RQ worker and the command line do, so its helpers fork; with
``threaded``, as a web process's job thread, they are spawned. Wall
seconds for the whole batch; lower is better."""

from __future__ import annotations

import threading
import time
from datetime import date


def run(app, n: int, runs: int = 3) -> dict[str, dict]:
    """Both ways JOF's helpers start, each against the bare run beside it: ``forked``
    (this process single-threaded) and ``spawned`` (another thread alive while JOF
    renders, as in a web process whose job thread renders a ZIP, so the helpers import
    WeasyPrint themselves)."""
    from sqlalchemy import select
    from weasyprint import HTML

    from bench.billing import _bulk_charges
    from jof.billing import documents, invoices, services
    from jof.billing.models import Invoice
    from jof.core.db import db
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
        found = {}
        for way in ("forked", "spawned"):
            jof, bare = [], []
            def bare_batch(into=bare):
                t = time.perf_counter()
                for html in htmls:
                    HTML(string=html).write_pdf()
                into.append(time.perf_counter() - t)

            for k in range(runs):
                if k % 2:  # the bare batch first every other round
                    bare_batch()
                other = threading.Event()
                if way == "spawned":
                    threading.Thread(target=other.wait, daemon=True).start()
                t = time.perf_counter()
                steps = []
                pdfs = documents.render_invoices(chosen, progress=lambda done, total, steps=steps: steps.append(done))
                jof.append(time.perf_counter() - t)
                other.set()
                assert len(pdfs) == n and all(p.startswith(b"%PDF") for p in pdfs) and steps[-1] == n
                if not k % 2:
                    bare_batch()
            found[way] = {"jof": jof, "baseline": bare, "ratios": [j / b for j, b in zip(jof, bare, strict=True)]}
    return found
