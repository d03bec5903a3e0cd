"""``python -m bench.loadtest.seed``: delivered services in the six months before this one, one
per agency and month, recorded through ``jof.core.charges`` (so the period close drafts one
invoice per agency and month for the load test to issue). Reads ``DATABASE_URL``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof import create_app
from jof.core import charges
from jof.core.db import db
from jof.core.people import Agency, User


def months(n: int) -> list[date]:
    month, out = date.today().replace(day=1), []
    for _ in range(n):
        month = (month - timedelta(days=1)).replace(day=1)
        out.append(month)
    return out


def main() -> None:
    app = create_app()
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        for month in months(6):
            for agency in db.session.scalars(select(Agency).order_by(Agency.code)):
                charges.record(manager, source_ref=f"LOAD-{agency.code}-{month:%Y-%m}", service_line="ict",
                               agency=agency, service_item="email_account", quantity=Decimal(3),
                               delivered_on=month.replace(day=15), description="Load-test seats")
        db.session.commit()


if __name__ == "__main__":
    main()
