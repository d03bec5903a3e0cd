"""The period close against the same close done as set-based SQL, one size per process.

``python -m bench.close N URL`` fills a fresh database (``URL``) with the demo and ``N``
priced charges for one month, then times, in the same process and on the same rows:

* **JOF**: ``billing.services.close_period`` (posting, allocation, invoice drafting and
  the UPDATE linking every charge to its invoice), flushed, then rolled back;
* **set-based SQL**: the same close in four statements — the anti-join of events still
  without a charge, ``INSERT … SELECT … GROUP BY`` of one invoice per agency and of its
  lines, and the ``UPDATE`` linking each charge — then rolled back;

each three times (alternating), and prints one JSON line: medians, min, max, the
process's peak RSS (so each size has a peak of its own; memory must stay flat as
charges grow) and the peak of Python memory during one more, untimed close under
tracemalloc (the close's own, apart from imports, the demo and the seeding).
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date

from sqlalchemy import text

SET_BASED = [
    # events delivered in or before the month that have no charge yet (none here, as in JOF)
    """SELECT e.id FROM chargeable_event e LEFT JOIN charge c ON c.event_id = e.id
       WHERE c.id IS NULL AND e.delivered_on < :end""",
    """INSERT INTO invoice (agency_id, period, status, total_usd, local_currency, exchange_rate, total_local,
                           created_at)
       SELECT agency_id, :month, 'draft', SUM(amount), 'USD', 1, SUM(amount), CURRENT_TIMESTAMP
       FROM charge WHERE period = :month AND invoice_id IS NULL GROUP BY agency_id""",
    """INSERT INTO invoice_line (invoice_id, position, kind, service_line, item_code, description, quantity,
                                unit_price, amount)
       SELECT i.id, ROW_NUMBER() OVER (PARTITION BY i.id ORDER BY c.service_line, c.item_code, c.kind),
              c.kind, c.service_line, c.item_code, c.item_code, SUM(c.quantity), c.unit_price, SUM(c.amount)
       FROM charge c JOIN invoice i ON i.agency_id = c.agency_id AND i.period = c.period
       WHERE c.period = :month AND c.invoice_id IS NULL
       GROUP BY i.id, c.kind, c.service_line, c.item_code, c.unit_price""",
    """UPDATE charge SET invoice_id = (SELECT i.id FROM invoice i
                                      WHERE i.agency_id = charge.agency_id AND i.period = charge.period)
       WHERE period = :month AND invoice_id IS NULL""",
]


def _close_sql(db, month: date) -> float:
    t = time.perf_counter()
    params = {"month": month, "end": date(month.year + (month.month == 12), month.month % 12 + 1, 1)}
    for sql in SET_BASED:
        db.session.execute(text(sql), params)
    elapsed = time.perf_counter() - t
    db.session.rollback()
    return elapsed


def _close_jof(db, manager, month: date) -> tuple[float, int]:
    from jof.billing import services

    t = time.perf_counter()
    result = services.close_period(manager, month)
    db.session.flush()
    elapsed = time.perf_counter() - t
    db.session.rollback()
    return elapsed, len(result.invoices)


def main(n: int, url: str, runs: int = 3) -> dict:
    from sqlalchemy import select

    from bench.billing import _app, _bulk_charges
    from jof import demo
    from jof.core.db import db
    from jof.core.people import Agency, User

    app = _app(url)
    month = date(date.today().year, 2, 1)
    with app.app_context():
        demo.load("bench-password-1")
        db.session.commit()
        agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.code)))
        _bulk_charges(month, n, agencies, start=1_000_000)
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        manager_id = manager.id
        jof, bare, invoices = [], [], 0
        for k in range(runs):
            manager = db.session.get(User, manager_id)
            if k % 2:  # the bare close first every other round: neither always finds the cache warm
                bare.append(_close_sql(db, month))
            elapsed, invoices = _close_jof(db, manager, month)
            jof.append(elapsed)
            if not k % 2:
                bare.append(_close_sql(db, month))
        # once more, untimed, under tracemalloc: the close's own peak of Python memory,
        # apart from the process's (imports, the demo, the seeding)
        tracemalloc.start()
        _close_jof(db, db.session.get(User, manager_id), month)
        close_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        db.engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"charges": n, "invoices": invoices, "jof": jof, "baseline": bare,
            "ratios": [j / b for j, b in zip(jof, bare, strict=True)], "peak_rss_mb": round(rss, 1),
            "close_peak_python_mb": round(close_peak, 2),
            "median_ratio": statistics.median(j / b for j, b in zip(jof, bare, strict=True))}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3)))
