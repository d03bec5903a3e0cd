"""``jof ict bill-month`` run several times at once (PostgreSQL): each charge is written
once and counted as created by exactly one run."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from jof.core import audit
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.ict import subscriptions
from tests.conftest import race
from tests.ict.conftest import user

pytestmark = pytest.mark.postgres_only

APRIL = date(2026, 4, 1)
LATER = date(2026, 6, 15)




@pytest.mark.parametrize("runs", [2, 4])
def test_parallel_bill_month_runs_create_each_charge_once(app, session, approved_subscription, runs):
    approved_subscription(10, date(2026, 4, 16))
    approved_subscription(3, APRIL, service="shared_printing", agency="unesco")
    b = approved_subscription(7, APRIL, service="connectivity", agency="unfpa")
    subscriptions.change_seats(user("requester@unfpa.jof.example"), b, 9, date(2026, 4, 11))
    session.commit()
    expected = 4  # one charge per seat period in April

    def bill(_i: int) -> tuple[int, int]:
        with app.app_context():
            try:
                result = subscriptions.bill_month(None, APRIL, today=LATER)
                db.session.commit()
                return result
            finally:
                db.session.remove()

    results = race(runs, bill)

    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for created, _ in results) == expected
    assert all(created + existing == expected for created, existing in results), results
    session.expire_all()
    refs = session.scalars(select(ChargeableEvent.source_ref).where(ChargeableEvent.service_line == "ict")).all()
    assert len(refs) == len(set(refs)) == expected
    assert session.scalar(select(func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action == "charge.event")) == expected
    assert audit.verify().ok
