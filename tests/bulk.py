"""Many rows at once, for the statement-count tests: each seeder adds ``n`` rows of one
kind, spread over the agencies and each by a user of its own, so a statement per row,
per user or per agency shows up as a count that grows with the page.

Rows are written through the services where a service makes them in one call
(charges), and as bare spine rows otherwise: the lists read the spine only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.core import charges, workflow
from jof.core.audit import record as audit_record
from jof.core.db import db
from jof.core.notifications import notify
from jof.core.people import Agency, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.ict.models import IctTicket
from jof.procurement.models import Requisition, RequisitionLine, Supplier
from jof.travel.models import DsaRate, TravelRequest

#: Collections no seeder fills yet, with why: the statement-count test still measures
#: them (with the demo's rows), and fails once a seeder makes them longer than one page
#: of 10 so that the entry is removed. Never add to this without a reason.
NOT_SEEDED: dict[str, str] = {
    "/api/v1/agencies": "the agency table is the facility's members (seven in the demo): a list of fixed size",
    "/api/v1/billing/credit-notes": "credit notes need issued invoices: no bulk seeder yet",
    "/api/v1/billing/invoices": "invoices come from a period close: no bulk seeder yet",
    "/api/v1/billing/jobs": "billing jobs: no bulk seeder yet",
    "/api/v1/governance/decisions": "decisions with voters: no bulk seeder yet",
    "/api/v1/governance/resolutions": "resolutions are adopted decisions: no bulk seeder yet",
    "/api/v1/hr/recruitments": "recruitments with their plan and candidates: no bulk seeder yet",
    "/api/v1/ict/subscriptions": "subscriptions with seat periods: no bulk seeder yet",
    "/api/v1/procurement/ltas": "LTAs come from awarded lots: no bulk seeder yet",
    "/api/v1/procurement/purchase-orders": "orders with lines: no bulk seeder yet",
    "/api/v1/procurement/tenders": "tenders with lots: no bulk seeder yet",
}

#: HTML pages whose rows no seeder makes yet (or that are not lists of rows), with why.
NOT_SEEDED_PAGES: dict[str, str] = {
    "/admin/agencies": "the facility's member agencies (seven in the demo), not a growing list",
    "/billing/": "invoices come from a period close: no bulk seeder yet",
    "/billing/periods": "billing periods are months: a fixed list of the last 24",
    "/billing/price-list": "one price list's items: no bulk seeder yet",
    "/governance/": "the board's open decisions: no bulk seeder yet",
    "/governance/costs": "cost pools and keys: no bulk seeder yet",
    "/governance/resolutions": "resolutions are adopted decisions: no bulk seeder yet",
    "/ict/queue": "the desk's queue holds tickets not yet owned; the seeded tickets are assigned",
    "/ict/services": "the service catalogue: no bulk seeder yet",
    "/ict/subscriptions": "subscriptions with seat periods: no bulk seeder yet",
    "/procurement/ltas": "LTAs come from awarded lots: no bulk seeder yet",
    "/procurement/purchase-orders": "orders with lines: no bulk seeder yet",
    "/procurement/tenders": "tenders with lots: no bulk seeder yet",
    "/rates": "exchange rates: no bulk seeder yet",
    "/travel/queue": "the ticketing queue holds approved trips; the seeded trips are submitted",
    "/governance/decisions/key-preview.json": "a key's preview: one share per member agency, not a list of rows",
    "/hr/": "recruitments with their plan and candidates: no bulk seeder yet",
    "/hr/recruitments/new": "a form, not a list",
    "/hr/statistics": "aggregates by gender and nationality (tests/hr/test_statistics.py), not a list of rows",
    "/vacancies/": "the advertised recruitments (public): no bulk seeder of recruitments yet",
    "/monitoring/": "the dashboard aggregates in SQL; tests/monitoring/test_dashboard.py counts it at 10 and 1,000 requests",
    "/monitoring/charts.css": "the charts' stylesheet, not a list",
    "/monitoring/slas": "service-level agreements, at most one in force per agency: no bulk seeder yet",
    "/monitoring/slas/new": "a form, not a list",
    "/profile": "a person's own alert preferences: one row per alert kind",
    "/settings/invoicing": "the facility's bank details: a form, not a list",
}

SEEDERS: list[Callable[[int, list[User], list[Agency]], None]] = []


def seeder(fn):
    SEEDERS.append(fn)
    return fn


def seed(app, n: int) -> None:
    """``n`` rows of every kind, committed, from an app context of its own (so the pages
    measured start with an empty session)."""
    with app.app_context():
        agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
        users = []
        for i in range(n):
            who = User(email=f"bulk{i}@bulk.jof.example", name=f"Bulk user {i}",
                       agency_id=agencies[i % len(agencies)].id, password_hash="!")
            who.role_rows.append(UserRole(role=Role.REQUESTER))
            users.append(who)
        db.session.add_all(users)
        db.session.flush()
        for fn in SEEDERS:
            fn(n, users, agencies)
            db.session.flush()
        db.session.commit()
        db.session.remove()


def _travel(sr, who: User, i: int) -> None:
    start = utcnow() + timedelta(days=30 + i)
    db.session.add(TravelRequest(request=sr, traveller_id=who.id, traveller_name=who.name,
                                 traveller_key=who.email, starts_at=start, ends_at=start + timedelta(days=3)))


def _ticket(sr, who: User, i: int) -> None:
    db.session.add(IctTicket(request=sr, urgency=2, impact=2, priority="P3", assignee_id=who.id,
                             opened_at=utcnow()))


def _requisition(sr, who: User, i: int) -> None:
    req = Requisition(request=sr, estimated_on=date.today(), estimate_usd=Decimal("100.00"))
    req.lines.append(RequisitionLine(line_no=1, description=f"Item {i}", unspsc="43211500", quantity=Decimal(1),
                                     unit="each", unit_price=Decimal("100.00"), currency="USD",
                                     estimate_usd=Decimal("100.00")))
    db.session.add(req)


#: The line record each request type keeps beside its spine row (the line's lists join it).
LINE_RECORDS = {"travel": _travel, "ict_ticket": _ticket, "procurement": _requisition}


@seeder
def requests(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` submitted requests of every registered type, each by its own requester, with
    the line's own record where the line keeps one."""
    now = utcnow()
    for rt in workflow.registered_types():
        for i in range(n):
            who = users[i]
            sr = workflow.ServiceRequest(
                reference=f"{rt.prefix}-BULK-{i + 1:05d}", request_type=rt.code, agency_id=who.agency_id,
                requester_id=who.id, title=f"Bulk {rt.code} {i}", status="submitted", created_at=now,
                submitted_at=now, status_changed_at=now)
            db.session.add(sr)
            if rt.code in LINE_RECORDS:
                LINE_RECORDS[rt.code](sr, who, i)


@seeder
def suppliers(n: int, users: list[User], agencies: list[Agency]) -> None:
    for i in range(n):
        db.session.add(Supplier(name=f"Bulk supplier {i}", country="BR", tax_id=f"BULK{i:06d}",
                                categories=["43"], status_since=date.today()))


@seeder
def dsa_rates(n: int, users: list[User], agencies: list[Agency]) -> None:
    month = date.today().replace(day=1)
    for i in range(n):
        db.session.add(DsaRate(city=f"Bulk city {i}", city_key=f"bulk city {i}", country="BR", month=month,
                               usd_per_night=Decimal("200.00"), room_pct=Decimal("50.00"),
                               created_by_id=users[i].id))


@seeder
def delivered_services(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` charges through the billing line's own posting (one per event)."""
    manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
    day = date.today().replace(day=1) - timedelta(days=1)
    for i in range(n):
        charges.record(manager, source_ref=f"BULK-{i}", service_line="ict",
                       agency=agencies[i % len(agencies)], service_item="email_account",
                       quantity=Decimal(1), delivered_on=day, description=f"Bulk seat {i}")


@seeder
def audit_events(n: int, users: list[User], agencies: list[Agency]) -> None:
    for i in range(n):
        audit_record(users[i], "bulk.touch", object_type="user", object_id=str(users[i].id), after={"i": i})


@seeder
def notifications(n: int, users: list[User], agencies: list[Agency]) -> None:
    manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
    for i in range(n):
        notify(manager, f"Bulk notice {i}", f"/notifications#{i}")
