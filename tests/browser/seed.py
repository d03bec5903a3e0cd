"""What other people did before a browser test starts, filed through the API and the
services: the crawl needs pages to reach, a journey needs the work of the roles before it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.core.db import db
from jof.core.timeutil import utcnow

YEAR = date.today().year
#: The last month that is over: the period whose charges are closed and invoiced.
LAST_MONTH = date(YEAR - 1, 12, 1) if date.today().month == 1 else date(YEAR, date.today().month - 1, 1)
MANAGER = "manager@jof.example"
TRAVEL_OFFICER = "travel@jof.example"


def future(days: int, hhmm: str) -> str:
    """A local time ``days`` from today, as the API and the forms take it."""
    d = date.today() + timedelta(days=days)
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(d.year, d.month, d.day, h, m).isoformat()


def transition(client, ref: str, action: str) -> None:
    version = client.get(f"/api/v1/requests/{ref}").get_json()["version"]
    r = client.post(f"/api/v1/requests/{ref}/transitions", json={"action": action, "version": version})
    assert r.status_code == 200, r.get_json()


def _user(email: str):
    from jof.core.people import User

    return db.session.scalar(select(User).where(User.email == email))


def open_decision(app, title: str = "Extend the facility's opening hours") -> tuple[int, datetime]:
    """A general decision the manager proposed and opened for a week: (id, closing time)."""
    from jof.governance import decisions

    with app.app_context():
        manager = _user(MANAGER)
        decision = decisions.propose(manager, {
            "title": title, "text": "The board is asked to decide.",
            "kind": "general", "threshold": "simple_majority", "quorum_rule": "more_than_half",
            "payload": None})
        decisions.open_decision(manager, decision, utcnow() + timedelta(days=7))
        db.session.commit()
        found = decision.id, decision.closes_at
        db.session.remove()
        return found


def month_of_charges(app, *, close: bool = False, issue: bool = False) -> None:
    """Fees and air fares of :data:`LAST_MONTH` for UNDP and UNAIDS and a staff cost pool;
    with ``close`` the month is closed into draft invoices, with ``issue`` they are issued."""
    from jof.billing import invoices
    from jof.billing import services as billing
    from jof.core import charges
    from jof.core.people import Agency
    from jof.governance import cost_sharing

    with app.app_context():
        manager, officer = _user(MANAGER), _user(TRAVEL_OFFICER)
        if LAST_MONTH.year < YEAR:  # January: the demo's rates, prices and key start this year
            from jof.billing import pricing
            from jof.core.money import ExchangeRate

            db.session.add(ExchangeRate(currency="BRL", month=LAST_MONTH, units_per_usd=Decimal("5.34")))
            pricing.create_version(pricing.DEMO_ITEMS, LAST_MONTH)
            cost_sharing.adopt_initial_key({"equal": "40", "headcount": "60"}, LAST_MONTH)
        on = LAST_MONTH.replace(day=12)
        for n, code in enumerate(["UNDP", "UNDP", "UNAIDS"]):
            agency = db.session.scalar(select(Agency).where(Agency.code == code))
            charges.record(officer, source_ref=f"TRV-{YEAR}-0009{n}/ticket",
                           service_line="travel", agency=agency, service_item="ticket_issuance",
                           quantity=Decimal(1), delivered_on=on)
            charges.record(officer, source_ref=f"TRV-{YEAR}-0009{n}/fare",
                           service_line="travel", agency=agency, service_item="air_fare",
                           quantity=Decimal(1), value_usd=Decimal("12880.37"), delivered_on=on,
                           kind="pass_through")
        cost_sharing.add_cost_pool(manager, LAST_MONTH, "staff", "10000.00")
        if close or issue:
            billing.close_period(manager, LAST_MONTH)
        if issue:
            invoices.issue_period(manager, LAST_MONTH)
        db.session.commit()
        db.session.remove()


def report_job(app) -> int:
    """A monthly report of :data:`LAST_MONTH` prepared as a job (in-process), so the
    monitoring page lists it and the crawl reaches the job's page."""
    from jof.monitoring import jobs

    with app.app_context(), app.test_request_context():
        job = jobs.start(_user(MANAGER), jobs.MONTHLY, f"{LAST_MONTH:%Y-%m}")
        db.session.commit()
        job_id = job.id
        db.session.remove()
    return job_id
