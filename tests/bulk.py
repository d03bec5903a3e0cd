"""Many rows at once, for the statement-count tests: each seeder adds ``n`` rows of one
kind, spread over the agencies and each by a user of its own, so a statement per row,
per user or per agency shows up as a count that grows with the page.

Rows are written through the services where a service makes them in one call
(charges), and as bare spine rows otherwise: the lists read the spine only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.billing import pricing
from jof.billing.models import BillingPeriod, CreditNote, Invoice, PriceItem, PriceList
from jof.billing.states import InvoiceStatus, JobKind, PeriodStatus
from jof.core import charges, workflow
from jof.core.audit import record as audit_record
from jof.core.db import db
from jof.core.jobs import Job
from jof.core.money import ExchangeRate
from jof.core.notifications import notify
from jof.core.people import Agency, Membership, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.governance import cost_sharing
from jof.governance.models import POOL_CATEGORIES, CostPool, CostSharingKey, Decision
from jof.governance.states import DecisionStatus, Outcome
from jof.hr.models import Candidate, Recruitment, RosterEntry
from jof.hr.states import RecruitmentStatus
from jof.ict.models import IctService, IctSubscription, IctTicket
from jof.ict.states import TicketStatus
from jof.monitoring.models import ServiceLevelAgreement, SlaTarget
from jof.procurement.models import (
    Bid,
    LongTermAgreement,
    Lot,
    LotLine,
    ProcurementManual,
    PurchaseOrder,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
    Supplier,
    Tender,
)
from jof.travel.models import DsaRate, TravelRequest

#: Collections no seeder fills yet, with why: the statement-count test still measures
#: them (with the demo's rows), and fails once a seeder makes them longer than one page
#: of 10 so that the entry is removed. Never add to this without a reason.
NOT_SEEDED: dict[str, str] = {}

#: HTML pages whose rows no seeder makes yet (or that are not lists of rows), with why.
NOT_SEEDED_PAGES: dict[str, str] = {
    "/hr/statistics": "aggregates by gender and nationality (tests/hr/test_statistics.py), not a list of rows",
}

#: Lists that show every row on one page (not paged): their length does not follow the
#: page size, so the statement-count test measures them seeded with 10 rows and with 100
#: (tests/test_statement_counts.py), and each must grow between the two.
UNPAGED_PAGES: dict[str, str] = {
    "/billing/price-list": "the price list in force, every item on one page",
    "/governance/": "the board's open decisions, all on one page",
    "/ict/services": "the service catalogue, every service on one page",
    "/ict/subscriptions": "subscriptions grouped per agency, all on one page",
    "/billing/periods": "the last 24 billing months, on one page beside the period's preview",
    "/vacancies/": "the advertised recruitments (public), all on one page",
    "/monitoring/slas": "the service-level agreements, every agreement with its targets on one page",
    "/governance/costs": "this month's cost pools, each split among every member agency on one page",
}

def this_month() -> date:
    """The month the shared-costs page opens on (UTC) and the seeders fill."""
    return datetime.now(UTC).date().replace(day=1)


#: Whole lists (API collections answering every row at once) that no seeder makes longer,
#: with why: they are still measured with 10 and 100 rows of everything else seeded.
FIXED_LISTS: dict[str, str] = {
    "/api/v1/monitoring/kinds": "the clocked kinds of service, a catalogue in the code",
    "/api/v1/hr/rosters": "rosters counted per job family and level in one aggregate (entries: /rosters/entries)",
    f"/api/v1/governance/cost-pools?period={this_month():%Y-%m}": "one pool per category: at most four a month",
}

#: API documents (not lists) whose size follows the rows: measured like the whole lists.
WHOLE_DOCUMENTS: dict[str, str] = {
    f"/api/v1/governance/allocations?period={this_month():%Y-%m}":
        "this month's recorded allocation: a share of every pool for every member agency",
}


SEEDERS: list[Callable[[int, list[User], list[Agency]], None]] = []


def seeder(fn):
    SEEDERS.append(fn)
    return fn


def seed(app, n: int) -> None:
    """``n`` rows of every kind, committed, from an app context of its own (so the pages
    measured start with an empty session)."""
    with app.app_context():
        # ``n`` more member agencies first, and every row spread over all of them: spread
        # over the demo's seven only, a statement per agency would cost seven at 10 rows
        # and at 100 alike, and pass unseen.
        joined = date.today() - timedelta(days=400)
        db.session.add_all([Agency(code=f"BLK{i:04d}", name=f"Bulk agency {i}", country="BR",
                                   membership=Membership.MEMBER, joined_on=joined) for i in range(n)])
        db.session.flush()
        agencies = db.session.scalars(select(Agency).order_by(Agency.id.desc())).all()
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
    if i % 2:
        sr.status = workflow.Status.APPROVED  # half wait in the travel officer's ticketing queue
        sr.approved_at = utcnow()
    start = utcnow() + timedelta(days=30 + i)
    db.session.add(TravelRequest(request=sr, traveller_id=who.id, traveller_name=who.name,
                                 traveller_key=who.email, starts_at=start, ends_at=start + timedelta(days=3)))


def _ticket(sr, who: User, i: int) -> None:
    sr.status = TicketStatus.ASSIGNED  # open, so in the desk's queue
    db.session.add(IctTicket(request=sr, urgency=2, impact=2, priority="P3", assignee_id=who.id,
                             opened_at=utcnow()))


def _requisition(sr, who: User, i: int) -> None:
    req = Requisition(request=sr, estimated_on=date.today(), estimate_usd=Decimal("100.00"))
    req.lines.append(RequisitionLine(line_no=1, description=f"Item {i}", unspsc="43211500", quantity=Decimal(1),
                                     unit="each", unit_price=Decimal("100.00"), currency="USD",
                                     estimate_usd=Decimal("100.00")))
    db.session.add(req)


def _recruitment(sr, who: User, i: int) -> None:
    db.session.add(Recruitment(request=sr, post_title=f"Bulk post {i}", job_family="Programme", level="P-3",
                               contract_type="fixed_term", duty_station="Brasília",
                               closing_date=date.today() + timedelta(days=30), min_education="master",
                               min_years_experience=5, pass_mark=Decimal("60.00"), hiring_manager_id=who.id))


def _subscription(sr, who: User, i: int) -> None:
    service = db.session.scalar(select(IctService).order_by(IctService.id).limit(1))
    db.session.add(IctSubscription(request=sr, service_id=service.id, seats=1 + i % 5,
                                   starts_on=date.today().replace(day=1)))


#: The line record each request type keeps beside its spine row (the line's lists join it).
LINE_RECORDS = {"travel": _travel, "ict_ticket": _ticket, "procurement": _requisition,
                "hr_recruitment": _recruitment, "ict_subscription": _subscription}


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
def decisions(n: int, users: list[User], agencies: list[Agency]) -> None:
    """Half drafts (the board shows them), half closed with a resolution number (the register)."""
    now = utcnow()
    for i in range(n):
        closed = i % 2 == 1
        db.session.add(Decision(
            title=f"Bulk decision {i}", kind="general", proposed_by_id=users[i].id, created_at=now,
            status=DecisionStatus.CLOSED if closed else DecisionStatus.DRAFT,
            opened_at=now if closed else None, closes_at=now if closed else None, closed_at=now if closed else None,
            outcome=Outcome.ADOPTED if closed else None, resolution_number=f"RES-BULK-{i:05d}" if closed else None,
            tally={"votes": {agencies[i % len(agencies)].code: "yes"}} if closed else None))


@seeder
def notifications(n: int, users: list[User], agencies: list[Agency]) -> None:
    manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
    for i in range(n):
        notify(manager, f"Bulk notice {i}", f"/notifications#{i}")


# --- HR rosters (jof/hr/rosters.py) ----------------------------------------------------------


@seeder
def roster_entries(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` candidates on the Finance G-6 roster, all from one assessed recruitment."""
    who, now, today = users[0], utcnow(), date.today()
    sr = workflow.ServiceRequest(
        reference="HRR-BULK-ROSTER", request_type="hr_recruitment", agency_id=who.agency_id,
        requester_id=who.id, title="Bulk roster source", status="completed", created_at=now,
        submitted_at=now, status_changed_at=now)
    rec = Recruitment(request=sr, post_title="Finance Associate", job_family="Finance", level="G-6",
                      contract_type="fixed_term", duty_station="Brasília", closing_date=today,
                      min_education="bachelor", min_years_experience=0, required_languages=[],
                      desirable_languages=[], pass_mark=Decimal("70"), hiring_manager_id=who.id)
    db.session.add(rec)
    for i in range(n):
        person = Candidate(full_name=f"Bulk candidate {i}", email=f"bulk{i}@candidates.example",
                           education="master", years_experience=5, languages=["English"])
        # from yesterday: the facility's today may still be yesterday in UTC terms
        db.session.add(RosterEntry(candidate=person, recruitment=rec, job_family="Finance", level="G-6",
                                   total=Decimal("80.0000"), valid_from=today - timedelta(days=1),
                                   valid_until=today + timedelta(days=700)))


def _manager() -> User:
    return db.session.scalar(select(User).where(User.email == "manager@jof.example"))


def _month_back(k: int) -> date:
    """The first day of the month ``k`` months before this one's."""
    first = date.today().replace(day=1)
    months = first.year * 12 + first.month - 1 - k
    return date(months // 12, months % 12 + 1, 1)


@seeder
def invoices(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` issued invoices (each agency once a month, going back), each with a credit note."""
    manager = _manager()
    for i in range(n):
        inv = Invoice(number=f"INV-BULK-{i:05d}", agency_id=agencies[i % len(agencies)].id,
                      period=_month_back(36 + i // len(agencies)), status=InvoiceStatus.ISSUED,
                      total_usd=Decimal("100.00"), total_local=Decimal("100.00"), issued_on=date.today(),
                      due_on=date.today() + timedelta(days=30), issued_by_id=manager.id)
        db.session.add(inv)
        db.session.add(CreditNote(number=f"CN-BULK-{i:05d}", invoice=inv, amount=Decimal("10.00"),
                                  reason=f"Bulk correction {i}", issued_on=date.today(), issued_by_id=manager.id))


@seeder
def billing_jobs(n: int, users: list[User], agencies: list[Agency]) -> None:
    manager = _manager()
    for i in range(n):
        period = _month_back(36 + i)
        db.session.add(Job(kind=JobKind.RENDER_PERIOD, params={"period": f"{period:%Y-%m}"}, period=period,
                           requested_by_id=manager.id))


@seeder
def procurement(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` tenders, LTAs and purchase orders, on the bulk suppliers."""
    manager = _manager()
    manual = db.session.scalar(select(ProcurementManual).order_by(ProcurementManual.id).limit(1))
    suppliers = db.session.scalars(select(Supplier).where(Supplier.tax_id.like("BULK%")).order_by(Supplier.id)).all()
    today = date.today()
    # every bulk requisition's line, awarded in a tender of its own (the savings report)
    req_lines = db.session.scalars(select(RequisitionLine).join(Requisition).join(workflow.ServiceRequest)
                                   .where(workflow.ServiceRequest.reference.like("PRC-BULK-%"))
                                   .order_by(RequisitionLine.id)).all()
    for i in range(n):
        supplier = suppliers[i % len(suppliers)]
        tender = Tender(number=f"TND-BULK-{i:05d}", title=f"Bulk tender {i}", method="rfq",
                        evaluation_method="cumulative", manual_id=manual.id, technical_minimum=Decimal(70),
                        technical_weight=Decimal(70), financial_weight=Decimal(30), created_by_id=manager.id)
        db.session.add(tender)
        if i < len(req_lines):
            line = req_lines[i]
            tender.status = "awarded"
            lot = Lot(tender=tender, number=1, description=f"Bulk lot {i}", unspsc_class="432115",
                      estimate_usd=line.estimate_usd, status="awarded")
            lot.lines.append(LotLine(requisition_line_id=line.id))
            bid = Bid(lot=lot, supplier_id=supplier.id, total_usd=Decimal("90.00"), recorded_by_id=manager.id)
            db.session.add_all([lot, bid])
            db.session.flush()
            lot.awarded_bid_id = bid.id
            order = PurchaseOrder(number=f"PO-BULK-AW-{i:05d}", agency_id=line.requisition.request.agency_id,
                                  supplier_id=supplier.id, lot_id=lot.id, service_item="procurement_fee",
                                  total_usd=Decimal("90.00"), issued_by_id=manager.id)
            order.lines.append(PurchaseOrderLine(requisition_line_id=line.id, description=line.description,
                                                 unspsc="43211500", quantity=Decimal(1), unit="each",
                                                 unit_price=Decimal("90.00"), amount_usd=Decimal("90.00")))
            db.session.add(order)
        db.session.add(LongTermAgreement(title=f"Bulk LTA {i}", supplier_id=supplier.id, valid_from=today,
                                         valid_to=today + timedelta(days=365), ceiling_usd=Decimal("100000.00"),
                                         created_by_id=manager.id))
        db.session.add(PurchaseOrder(number=f"PO-BULK-{i:05d}", agency_id=agencies[i % len(agencies)].id,
                                     supplier_id=supplier.id, service_item="procurement_fee",
                                     total_usd=Decimal("1000.00"), issued_by_id=manager.id))


@seeder
def exchange_rates(n: int, users: list[User], agencies: list[Agency]) -> None:
    currencies = ("ARS", "CLP", "COP", "PEN", "UYU")
    for i in range(n):
        db.session.add(ExchangeRate(currency=currencies[i % len(currencies)], month=_month_back(60 + i // len(currencies)),
                                    units_per_usd=Decimal("1000.00") + i))


@seeder
def catalogue(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` ICT services and ``n`` items of the price list in force."""
    prices = pricing.in_force(date.today())
    for i in range(n):
        db.session.add(IctService(code=f"bulk_service_{i}", name=f"Bulk service {i}", unit_price_usd=Decimal("10.00")))
        db.session.add(PriceItem(price_list_id=prices.id, code=f"bulk_item_{i}", service_line="ict",
                                 description=f"Bulk item {i}", unit="each"))


@seeder
def closed_periods(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` closed billing months, before any the demo or the other seeders use."""
    manager, now = _manager(), utcnow()
    for i in range(n):
        db.session.add(BillingPeriod(month=_month_back(240 + i), status=PeriodStatus.CLOSED, closed_at=now,
                                     closed_by_id=manager.id))


@seeder
def advertised_recruitments(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` recruitments open for applications (the public vacancies page)."""
    now, today = utcnow(), date.today()
    for i in range(n):
        who = users[i]
        sr = workflow.ServiceRequest(
            reference=f"HRR-BULK-ADV-{i:05d}", request_type="hr_recruitment", agency_id=who.agency_id,
            requester_id=who.id, title=f"Bulk vacancy {i}", status=RecruitmentStatus.ADVERTISED, created_at=now,
            submitted_at=now, status_changed_at=now)
        db.session.add(Recruitment(request=sr, post_title=f"Bulk vacancy {i}", job_family="Programme", level="P-3",
                                   contract_type="fixed_term", duty_station="Brasília",
                                   closing_date=today + timedelta(days=30 + i), min_education="master",
                                   min_years_experience=5, pass_mark=Decimal("60.00"), hiring_manager_id=who.id))


@seeder
def service_level_agreements(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` past agreements with a target each: one per agency per effective day, each
    ended the day it began (at most one in force per agency, long before today)."""
    manager = _manager()
    first = date.today() - timedelta(days=5000)
    for i in range(n):
        day = first + timedelta(days=i)
        sla = ServiceLevelAgreement(agency_id=agencies[i % len(agencies)].id, valid_from=day, valid_to=day,
                                    reference=f"SLA-BULK-{i:05d}", recorded_by_id=manager.id)
        sla.targets.append(SlaTarget(kind="procurement.micro_purchase", amount=5))
        db.session.add(sla)


@seeder
def cost_pools(n: int, users: list[User], agencies: list[Agency]) -> None:
    """This month's cost pools, one per category: the shared-costs page splits each among
    every member agency (``member_agencies`` adds ``n``), so its rows grow with ``n``."""
    manager, month = _manager(), this_month()
    taken = set(db.session.scalars(select(CostPool.category).where(CostPool.period == month)))
    for k, category in enumerate(c for c in POOL_CATEGORIES if c not in taken):
        db.session.add(CostPool(period=month, category=category, amount=Decimal(1000 * (k + 1)) + Decimal("0.37"),
                                description=f"Bulk {category}", created_by_id=manager.id))
    db.session.flush()
    cost_sharing.record_allocation(manager, month)  # the month's allocation, recorded (its API document)


#: Before anything the demo or the tests put in force: the versions below are history.
LONG_AGO = date(1990, 1, 1)


@seeder
def past_versions(n: int, users: list[User], agencies: list[Agency]) -> None:
    """``n`` price-list versions, cost-sharing keys and procurement manuals in force long
    ago, each with an item or a decision of its own (the lists of every version)."""
    manager, now = _manager(), utcnow()
    for i in range(n):
        day = LONG_AGO + timedelta(days=i)
        # numbered below the demo's first version, as history before it (versions rise with time)
        prices = PriceList(version=-n + i, effective_from=day, notes=f"Bulk version {i}")
        prices.items.append(PriceItem(code=f"bulk_old_item_{i}", service_line="ict", description=f"Old item {i}",
                                      unit="each", amount=Decimal("1.00")))
        decision = Decision(title=f"Bulk key {i}", kind="cost_sharing_key", proposed_by_id=manager.id,
                            created_at=now, status=DecisionStatus.CLOSED, opened_at=now, closes_at=now, closed_at=now,
                            outcome=Outcome.ADOPTED, resolution_number=f"RES-BULK-KEY-{i:05d}")
        db.session.add_all([prices, decision])
        db.session.flush()
        db.session.add(CostSharingKey(components={"equal": "100"}, effective_from=day, decision_id=decision.id))
        db.session.add(ProcurementManual(
            version=f"BULK-{i:05d}", effective_from=day, rfq_from_usd=Decimal("5000.00"),
            itb_from_usd=Decimal("150000.00"), committee_from_usd=Decimal("200000.00"),
            technical_minimum=Decimal(70), technical_weight=Decimal(70), financial_weight=Decimal(30)))
