"""The stories of the demo history: each a generator that takes one step through the
real services as a demo user, then yields the moment of its next step.

Inputs are loaded through the same marshmallow schemas the API and forms use, so a
story gives the services exactly what a user's request would.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.billing import invoices as billing_invoices
from jof.billing import services as billing
from jof.core.calendar import next_month
from jof.core.db import db
from jof.core.people import Agency
from jof.core.timeutil import utcnow
from jof.demo import AGENCIES
from jof.demo_history.agenda import (
    CARRIERS,
    DESTINATIONS,
    GOODS,
    HOME,
    ICT,
    LATE_SHARE,
    LEVELS,
    LTA_LINES,
    MANAGER,
    MEMBERS,
    PROCUREMENT,
    RESOLVE_HOURS,
    TICKET_TOPICS,
    TRAVEL,
    History,
    Story,
    head,
    money,
    requester,
)
from jof.governance import decisions, votes
from jof.governance import schemas as gov_schemas
from jof.governance.cost_sharing import add_cost_pool
from jof.ict import schemas as ict_schemas
from jof.ict import subscriptions, tickets
from jof.ict.models import IctSubscription
from jof.procurement import awards, evaluation, ltas, orders, requisitions, tenders
from jof.procurement import schemas as prc_schemas
from jof.procurement.models import LongTermAgreement, Supplier
from jof.travel import claims, ticketing, trips
from jof.travel import schemas as trv_schemas

#: Staff per agency in the demo: the seats each agency subscribes to.
HEADCOUNT = {code: headcount for code, _name, _membership, headcount in AGENCIES}

# --- ICT subscriptions --------------------------------------------------------------------


def ict_subscriptions(h: History, first: date) -> Story:
    """Every agency subscribes its staff to e-mail and connectivity from the first month."""
    day = h.working_day(first)
    moment = h.at(day, 9, 15)
    for agency in db.session.scalars(select(Agency).order_by(Agency.code)).all():
        seats = HEADCOUNT[agency.code]
        for service in ("email_account", "connectivity"):
            moment = h.later(moment, 0.2)
            yield moment
            data = ict_schemas.IctSubscriptionIn().load(
                {"service": service, "seats": seats, "starts_on": first.isoformat()})
            sub = subscriptions.order(h.user(requester(agency.code)), data)
            db.session.flush()
            approval = h.later(moment, h.rng.uniform(0.5, 4))
            yield from h.approvals(sub.request, approval)
            moment = utcnow()


def seat_change(h: History, day: date) -> Story:
    """An agency that grew adds e-mail seats from the first of next month."""
    yield h.at(day, 11, 0)
    sub = db.session.scalars(select(IctSubscription).order_by(IctSubscription.id)).first()
    current = sub.periods[-1].seats
    subscriptions.change_seats(h.user(requester(sub.request.agency.code)), sub, current + h.rng.randint(3, 9),
                               next_month(day))


# --- procurement ------------------------------------------------------------------------------


def joint_tender(h: History, month: date, days: list[date]) -> Story:
    """Agencies requisition early in the month; the officer pools the approved
    requisitions in one joint RFQ, records three bids, awards to the evaluated winner,
    and receives the goods of each agency's purchase order."""
    rng = h.rng
    refs = []
    agencies = rng.sample(MEMBERS, rng.randint(2, 4))
    if rng.random() < 0.3:
        agencies.append("UNAIDS")
    item = rng.choice(GOODS[:4]) if rng.random() < 0.7 else rng.choice(GOODS[4:])
    for n, code in enumerate(agencies):
        moment = h.at(days[n % 3], 9 + n, rng.randint(0, 59))
        yield moment
        description, unspsc, unit, price = item
        qty = rng.randint(2, 9)
        data = prc_schemas.RequisitionIn().load({
            "title": f"{description.split(',')[0]} for the {code} office",
            "justification": "Replacement and new staff; pooled with other agencies where possible.",
            "needed_by": (month + timedelta(days=60)).isoformat(), "budget_code": f"BRA-{code}-OPS",
            "lines": [{"description": description, "unspsc": unspsc, "quantity": str(qty), "unit": unit,
                       "unit_price": price, "currency": "USD"}]})
        req = requisitions.create_requisition(h.user(requester(code)), data)
        db.session.flush()
        yield h.later(moment, rng.uniform(0.2, 2))
        h.move(requester(code), req.request, "submit")
        yield from h.approvals(req.request, utcnow())
        refs.append(req.request.reference)
    yield h.at(h.working_day(days[4]), 10, 30)
    officer = h.user(PROCUREMENT)
    for ref in refs:  # an officer acknowledges a splitting warning before sourcing, as on the page
        req = requisitions.get_requisition(officer, ref)
        if req.splitting_warning and req.splitting_acknowledged_at is None:
            requisitions.acknowledge_splitting(officer, req)
    tender = tenders.create_tender(officer, prc_schemas.TenderIn().load(
        {"title": f"Joint tender {month:%Y-%m}: {item[0].split(',')[0]}", "requisitions": refs}))
    db.session.flush()
    closing_day = h.cal.add_working_days(utcnow().astimezone(h.tz).date(), tenders.minimum_working_days(tender) + 4)
    closing = h.at(closing_day, 16, 0)
    yield h.later(utcnow(), 1)
    tenders.publish(officer, tender, prc_schemas.PublishIn().load({"closing_at": closing.isoformat()})["closing_at"])
    suppliers = db.session.scalars(select(Supplier).where(Supplier.status == "active").order_by(Supplier.id)).all()
    for lot in tender.lots:
        for supplier in suppliers[:3]:
            yield h.later(utcnow(), rng.uniform(1, 8))
            factor = Decimal(str(round(rng.uniform(0.78, 1.04), 3)))
            lines = [{"lot_line_id": ll.id,
                      "unit_price": str(money(ll.requisition_line.unit_price * factor, "0.0001"))}
                     for ll in lot.lines]
            tenders.record_bid(officer, lot, prc_schemas.BidIn().load(
                {"supplier_id": supplier.id, "technical_score": str(rng.randint(72, 96)), "lines": lines}))
    yield h.later(closing, rng.uniform(1, 6))
    for lot in tender.lots:
        if lot.committee_required:
            evaluation.committee_sign_off(h.user(MANAGER), lot)
        winner = evaluation.evaluate(lot).winner
        pos = awards.award(officer, lot, winner.id, "Best combined technical and financial score.")
        db.session.flush()
        yield h.later(utcnow(), rng.uniform(16, 40))  # delivery
        for po in pos:
            yield h.later(utcnow(), rng.uniform(0.5, 6))
            orders.receive(officer, po, prc_schemas.ReceiptIn().load(
                {"rating": rng.choice([3, 4, 4, 5, 5]), "note": "Delivered to the common premises."}))


def office_supplies_lta(h: History, first: date) -> Story:
    """The facility's long-term agreement for office supplies, open to every agency."""
    yield h.at(h.working_day(first, 1), 14, 0)
    supplier = db.session.scalars(select(Supplier).order_by(Supplier.id)).all()[-1]
    ltas.create_lta(h.user(PROCUREMENT), prc_schemas.LtaIn().load({
        "title": "Office supplies for the UN house", "supplier_id": supplier.id,
        "valid_from": first.isoformat(), "ceiling_usd": "150000.00",
        "agencies": list(MEMBERS) + ["UNAIDS"],
        "lines": [{"description": d, "unspsc": u, "unit": unit, "unit_price": p} for d, u, unit, p in LTA_LINES]}))


def call_off(h: History, day: date) -> Story:
    """An agency orders supplies under the agreement; the officer receives them."""
    rng = h.rng
    code = h.agency_pick()
    moment = h.at(day, rng.randint(9, 16), rng.randint(0, 59))
    yield moment
    lta = db.session.scalars(select(LongTermAgreement).order_by(LongTermAgreement.id)).first()
    if lta is None:
        return
    chosen = rng.sample(lta.lines, rng.randint(1, len(lta.lines)))
    po = ltas.call_off(h.user(requester(code)), ltas.get_lta(lta.id, lock=True), prc_schemas.CallOffIn().load(
        {"lines": [{"lta_line_id": ln.id, "quantity": str(rng.randint(2, 30))} for ln in chosen]}))
    db.session.flush()
    yield h.later(moment, rng.uniform(10, 40))
    orders.receive(h.user(PROCUREMENT), po, prc_schemas.ReceiptIn().load({"rating": rng.choice([4, 5])}))


# --- travel -----------------------------------------------------------------------------------


def _legs(h: History, depart: date, nights: int, city: tuple[str, str]) -> list[dict]:
    back = depart + timedelta(days=nights)

    def leg(a, b, day, hh):
        return {"origin_city": a[0], "origin_country": a[1], "destination_city": b[0],
                "destination_country": b[1], "depart_at": f"{day.isoformat()}T{hh:02d}:00:00",
                "arrive_at": f"{day.isoformat()}T{hh + 3:02d}:30:00"}

    return [leg(HOME, city, depart, 7), leg(city, HOME, back, 17)]


STAFF = ["Ana Souza", "Bruno Lima", "Carla Mendes", "Daniel Rocha", "Elisa Castro", "Felipe Alves",
         "Gabriela Nunes", "Hugo Ribeiro", "Isabel Freitas", "João Pereira"]


def _free_traveller(h: History, code: str, depart: date, back: date) -> str:
    """A staff member of the agency with no other trip at that time (a person travels once at a time)."""
    names = h.rng.sample(STAFF, len(STAFF))
    for name in names:
        trips_of = h.travels.setdefault((code, name), [])
        if all(back < start or depart > end for start, end in trips_of):
            trips_of.append((depart, back))
            return name
    raise RuntimeError(f"every {code} traveller is away from {depart} to {back}")


def trip(h: History, day: date) -> Story:
    """A mission: request, approval, quote and ticket, travel, claim, settlement."""
    rng = h.rng
    code = h.agency_pick()
    moment = h.at(day, rng.randint(9, 15), rng.randint(0, 59))
    yield moment
    city = rng.choice(DESTINATIONS)
    nights = rng.randint(1, 4)
    depart = h.working_day(day + timedelta(days=rng.randint(4, 7)))
    back = depart + timedelta(days=nights)
    traveller = _free_traveller(h, code, depart, back)
    tr = trips.create_travel(h.user(requester(code)), trv_schemas.TravelIn().load({
        "title": f"Mission to {city[0]}", "purpose": "Programme monitoring visit and partner meetings.",
        "traveller_name": traveller, "legs": _legs(h, depart, nights, city), "submit": True}))
    db.session.flush()
    sr = tr.request
    yield from h.approvals(sr, moment)
    # Most tickets are issued within hours; now and then the desk is a day or two late.
    wait = rng.uniform(1, 6) if rng.random() > 0.15 else rng.uniform(10, 22)
    yield h.later(utcnow(), wait * 0.4)
    officer = h.user(TRAVEL)
    carrier = rng.choice(CARRIERS)
    fare = money(rng.uniform(900, 3800) if city[1] == "BR" else rng.uniform(2600, 6500))
    ticketing.record_quote(officer, tr, trv_schemas.QuoteIn().load(
        {"carrier": carrier, "fare": str(fare), "currency": "BRL", "version": sr.version}))
    yield h.later(utcnow(), wait * 0.6)
    ticketing.issue_ticket(officer, tr, trv_schemas.TicketIn().load(
        {"carrier": carrier, "fare": str(money(fare * Decimal("1.04"))), "currency": "BRL",
         "booking_reference": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
         "version": sr.version}))
    yield h.at(h.working_day(back + timedelta(days=1)), 10, rng.randint(0, 59))
    h.move(TRAVEL, sr, "mark_travelled")
    yield h.later(utcnow(), rng.uniform(2, 20))
    actual = nights - 1 if nights > 1 and rng.random() < 0.2 else nights
    claims.file_claim(h.user(requester(code)), tr, trv_schemas.ClaimIn().load(
        {"legs": _legs(h, depart, actual, city), "version": sr.version}))
    yield h.later(utcnow(), rng.uniform(4, 30))
    h.move(TRAVEL, sr, "settle")
    yield h.later(utcnow(), 0.5)
    h.move(TRAVEL, sr, "complete")


# --- ICT tickets ------------------------------------------------------------------------------


def ticket(h: History, day: date) -> Story:
    """A ticket taken by the desk and resolved; some late, past their SLA target."""
    rng = h.rng
    code = h.agency_pick()
    moment = h.at(day, rng.randint(8, 17), rng.randint(0, 59))
    yield moment
    title, category = rng.choice(TICKET_TOPICS)
    urgency = rng.choices(LEVELS, weights=[1, 3, 4])[0]
    impact = rng.choices(LEVELS, weights=[1, 2, 5])[0]
    t = tickets.file_ticket(h.user(requester(code)), ict_schemas.IctTicketIn().load(
        {"title": title, "category": category, "urgency": urgency, "impact": impact,
         "description": "Reported by phone to the service desk."}))
    db.session.flush()
    sr = t.request
    yield h.later(moment, rng.uniform(0.1, 1.5))
    h.move(ICT, sr, "take")
    yield h.later(utcnow(), rng.uniform(0.05, 0.5))
    h.move(ICT, sr, "start")
    low, high = RESOLVE_HOURS[t.priority]
    hours = rng.uniform(low, high) if rng.random() > LATE_SHARE else rng.uniform(high * 1.3, high * 2.5)
    yield max(h.later(moment, hours), h.later(utcnow(), 0.1))
    h.move(ICT, sr, "resolve", "Fixed; the user confirmed by phone.")
    yield h.later(utcnow(), rng.uniform(2, 16))
    h.move(requester(code), sr, "close")


# --- the board --------------------------------------------------------------------------------


def _vote_round(h: History, decision_id: int, choices: dict[str, str]) -> Story:
    for code, choice in choices.items():
        yield h.later(utcnow(), h.rng.uniform(1, 8))
        votes.cast_vote(h.user(head(code)), decision_id, choice,
                        "" if choice == "yes" else "Recorded in the minutes.")


def _open(h: History, proposer: str, data: dict) -> Story:
    decision = decisions.propose(h.user(proposer), gov_schemas.DecisionIn().load(data))
    db.session.flush()
    yield h.later(utcnow(), 2)
    closes = utcnow() + timedelta(days=14)
    decisions.open_decision(h.user(proposer), decision, closes)
    return decision.id


def resolution(h: History, day: date, title: str, text: str, kind: str = "general") -> Story:
    yield h.at(day, 10, 0)
    decision_id = yield from _open(h, MANAGER, {"title": title, "text": text, "kind": kind})
    choices = {code: ("abstain" if h.rng.random() < 0.15 else "yes") for code in MEMBERS}
    yield from _vote_round(h, decision_id, choices)


def key_change(h: History, day: date, effective_from: date) -> Story:
    """UNFPA's head proposes that usage weigh in the cost-sharing key; adopted 5–1."""
    yield h.at(day, 15, 0)
    decision_id = yield from _open(h, head("UNFPA"), {
        "title": "Cost-sharing key weighted by usage",
        "text": "Smaller agencies asked that the shared costs follow the use of the facility's services.",
        "kind": "cost_sharing_key",
        "payload": {"effective_from": effective_from.isoformat(),
                    "components": {"equal": "30", "headcount": "40", "usage_count": "30"}}})
    choices = {code: ("no" if code == "UNDP" else "yes") for code in MEMBERS}
    yield from _vote_round(h, decision_id, choices)
    yield h.at(h.working_day(effective_from), 8, 30)  # the scheduled `jof governance close-due`
    decisions.apply_due_effects(utcnow())


# --- billing ----------------------------------------------------------------------------------


def cost_pools(h: History, month: date) -> Story:
    """The manager enters the month's shared costs on its first working day."""
    yield h.at(h.working_day(month), 9, 5)
    manager = h.user(MANAGER)
    add_cost_pool(manager, month, "staff", money(h.rng.uniform(17500, 19500)), "Facility staff salaries")
    add_cost_pool(manager, month, "premises", money(h.rng.uniform(6200, 6900)), "Rent and utilities of the UN house")


def close_month(h: History, month: date) -> Story:
    """On the next month's first working day the manager closes the period and issues its
    invoices; most agencies pay within three weeks, one now and then pays later."""
    day = h.working_day(next_month(month))
    yield h.at(day, 10, 0)
    manager = h.user(MANAGER)
    billing.close_period(manager, month)
    yield h.at(day, 11, 0)
    issued = billing_invoices.issue_period(manager, month)
    ids = [inv.id for inv in issued]
    for inv_id in ids:
        if h.rng.random() < 0.2:
            continue
        paid = h.working_day(day + timedelta(days=h.rng.randint(8, 25)))
        yield h.at(paid, 14, 0)
        inv = billing_invoices.get_invoice(manager, inv_id)
        billing_invoices.record_payment(manager, inv, paid_on=paid, amount=inv.total_usd,
                                        reference=f"BB-{inv.number}")
