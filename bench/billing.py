"""What the billing benchmarks share: a migrated app on a throw-away database and a month
of priced charges written in bulk. The measures themselves are the suite's
(:mod:`bench.close` against the same close as set-based SQL, :mod:`bench.render` against
bare WeasyPrint); the first billing benchmark, which set the close against a bare
``GROUP BY`` (not the same work), is gone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


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
