"""Procurement rules at the service level: the manual and its thresholds, evaluation, splitting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.core import workflow
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.money import quantize, rate_for, to_usd
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.governance import effects
from jof.procurement import awards, evaluation, ltas, orders, requisitions, suppliers, tenders
from jof.procurement import manual as manuals
from jof.procurement.models import Bid, Lot, ProcurementManual, Supplier, Tender
from tests.procurement.conftest import LAPTOP, MANAGER, OFFICER, requisition_body


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _submitted(code: str, price: str, currency: str = "USD", qty: str = "1", unspsc: str = LAPTOP):
    from jof.procurement.schemas import RequisitionIn

    requester = _user(f"requester@{code}.jof.example")
    req = requisitions.create_requisition(requester, RequisitionIn().load(requisition_body(qty, price, currency, unspsc)))
    workflow.perform(requester, req.request, "submit")
    db.session.commit()
    return req


# --- method selection at each boundary (DESIGN §3: inclusive at the lower end) -------------------


@pytest.mark.parametrize(("price", "method", "committee"), [
    ("4999.99", "micro_purchase", False),
    ("5000.00", "rfq", False),
    ("199999.99", "rfq", False),
    ("200000.00", "itb", True),
])
def test_method_at_each_threshold_boundary(session, demo, price, method, committee):
    req = _submitted("undp", price)
    assert req.estimate_usd == Decimal(price)
    assert (req.method, req.committee_required) == (method, committee)
    assert req.manual.version == "POPP-2020-10"
    assert "POPP-2020-10" in req.method_rule and f"{Decimal(price):,}" in req.method_rule


@pytest.mark.parametrize(("usd", "method"), [("4999.99", "micro_purchase"), ("5000.00", "rfq")])
def test_a_brl_estimate_is_converted_at_the_months_operational_rate(session, demo, usd, method):
    rate = rate_for("BRL", local_today())
    brl = quantize(Decimal(usd) * rate)
    assert to_usd(brl, "BRL", local_today()) == Decimal(usd)  # the edge survives the rounding
    req = _submitted("unfpa", str(brl), "BRL")
    assert req.lines[0].estimate_usd == Decimal(usd) == req.estimate_usd
    assert req.request.amount_usd == Decimal(usd)
    assert req.method == method
    assert req.estimated_on == local_today()


def test_the_manual_in_force_on_the_submission_date_decides(session, demo):
    day = local_today()
    manuals.activate_manual({**manuals.DEMO_MANUAL, "version": "TODAY", "rfq_from_usd": "8000.00"}, day, None)
    manuals.activate_manual({**manuals.DEMO_MANUAL, "version": "LATER", "rfq_from_usd": "100.00"},
                             day + timedelta(days=1), None)
    db.session.commit()
    req = _submitted("undp", "6000.00")
    assert req.manual.version == "TODAY"
    assert req.method == "micro_purchase"
    assert "below USD 8,000.00" in req.method_rule


def test_submission_without_a_manual_in_force_is_refused_and_writes_nothing(session, demo):
    db.session.query(ProcurementManual).delete()
    db.session.commit()
    requester = _user("requester@undp.jof.example")
    from jof.procurement.schemas import RequisitionIn

    req = requisitions.create_requisition(requester, RequisitionIn().load(requisition_body()))
    db.session.commit()
    with pytest.raises(Conflict, match="No procurement manual is in force"):
        workflow.perform(requester, req.request, "submit")
    db.session.rollback()
    assert req.request.status == "draft" and req.method is None


def test_a_manual_version_is_validated(session, demo):
    with pytest.raises(ValidationFailed) as exc:
        manuals.validate_manual({"version": "X", "technical_weight": "60", "financial_weight": "30"})
    assert "payload.financial_weight" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        manuals.validate_manual({"version": "X", "rfq_from_usd": 5000.5})
    assert "payload.rfq_from_usd" in exc.value.errors


def test_an_adopted_board_decision_puts_a_manual_version_in_force(session, demo):
    from jof.governance import decisions, votes

    assert "procurement_manual" in effects._APPLIERS
    manager = _user(MANAGER)
    start = local_today() + timedelta(days=10)
    decision = decisions.propose(manager, {
        "title": "Raise the micro-purchase ceiling", "text": "Per the regional review.",
        "kind": "procurement_manual", "threshold": "simple_majority", "quorum_rule": "more_than_half",
        "payload": {"effective_from": start.isoformat(), "version": "POPP-2027", "rfq_from_usd": "10000.00"}})
    decisions.open_decision(manager, decision, utcnow() + timedelta(days=7))
    db.session.commit()
    for code in ("undp", "unep", "unesco", "unfpa", "unops", "unwomen"):
        votes.cast_vote(_user(f"head@{code}.jof.example"), decision.id, "yes", "")
        db.session.commit()
    db.session.refresh(decision)
    if decision.status == "open":
        decisions.close(decision.id, manager)
        db.session.commit()
    assert decision.outcome == "adopted"
    manual = db.session.scalar(select(ProcurementManual).where(ProcurementManual.version == "POPP-2027"))
    assert manual.effective_from == start and manual.decision_id == decision.id
    assert manual.rfq_from_usd == Decimal("10000.00") and manual.itb_from_usd == Decimal("200000.00")
    assert manuals.manual_in_force(start - timedelta(days=1)).version == "POPP-2020-10"
    assert manuals.manual_in_force(start).version == "POPP-2027"


# --- evaluation (DESIGN §3) ------------------------------------------------------------------


def _tender_with_bids(bids, method="cumulative"):
    """A published, closed tender whose one lot carries ``bids``: (name, total, score, compliant)."""
    officer = _user(OFFICER)
    manager = _user(MANAGER)
    req = _submitted("undp", "100.00", qty="10")
    workflow.perform(manager, req.request, "approve")
    tender = tenders.create_tender(officer, {"title": "T", "evaluation_method": method,
                                              "requisitions": [req.reference]})
    tenders.publish(officer, tender, utcnow() + timedelta(days=40))
    lot = tender.lots[0]
    start = utcnow()
    for i, (name, total, score, compliant) in enumerate(bids):
        sup = suppliers.create_supplier(officer, {"name": name, "country": "BR", "tax_id": f"T-{i}"})
        db.session.flush()
        bid = tenders.record_bid(officer, lot, {
            "supplier_id": sup.id, "technical_score": Decimal(score) if score else None,
            "technically_compliant": compliant,
            "lines": [{"lot_line_id": lot.lines[0].id, "unit_price": Decimal(total) / 10}]})
        bid.submitted_at = start + timedelta(seconds=i)
    tender.closing_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return lot


def _ranking(lot: Lot):
    ev = evaluation.evaluate(lot)
    return [r.bid.supplier.name for r in sorted((r for r in ev.rows if r.considered), key=lambda r: r.rank)], ev


def test_a_bid_below_the_technical_minimum_is_not_considered_even_if_cheapest(session, demo):
    lot = _tender_with_bids([("Cheap", "500.00", "69.99", True), ("Good", "1000.00", "70", True)])
    ranking, ev = _ranking(lot)
    assert ranking == ["Good"]
    cheap = next(r for r in ev.rows if r.bid.supplier.name == "Cheap")
    assert not cheap.considered and "below the minimum of 70" in cheap.reason
    assert ev.lowest == Decimal("1000.00")  # the lowest *considered* price
    assert ev.as_dict()["rows"][1]["total_points"] == "79.0000"  # 70/100×70 + 30


def test_equal_terms_go_to_the_earlier_bid(session, demo):
    lot = _tender_with_bids([
        ("Best", "1250.00", "94.8", True),       # 66.36 + 24 = 90.36
        ("Early", "1000.00", "84", True),        # 58.8 + 30 = 88.8
        ("Later twin", "1000.00", "84", True),   # the same terms, recorded a second later
        ("Fourth", "1200.00", "90", True),       # 63 + 25 = 88
    ])
    ranking, _ = _ranking(lot)
    assert ranking == ["Best", "Early", "Later twin", "Fourth"]


def test_equal_totals_go_to_the_higher_technical_score(session, demo):
    # P: 80/100×70 + 1000/1000×30 = 56 + 30 = 86; N: 100/100×70 + 1000/1875×30 = 70 + 16 = 86.
    lot = _tender_with_bids([("P", "1000.00", "80", True), ("N", "1875.00", "100", True)])
    ranking, ev = _ranking(lot)
    totals = {r.bid.supplier.name: r.total_points for r in ev.rows}
    assert totals["P"] == totals["N"] == 86
    assert ranking == ["N", "P"]  # N bid later but scored higher technically


def test_lowest_price_method_picks_the_cheapest_compliant_bid(session, demo):
    lot = _tender_with_bids([("Cheapest", "900.00", None, False), ("Second", "950.00", None, True),
                             ("Third", "950.00", None, True)], method="lowest_price")
    ranking, ev = _ranking(lot)
    assert ranking == ["Second", "Third"]
    assert next(r for r in ev.rows if r.bid.supplier.name == "Cheapest").reason == "Not technically compliant."


def test_award_to_a_supplier_suspended_after_bidding_is_refused_and_writes_nothing(session, demo):
    lot = _tender_with_bids([("Winner", "1000.00", "90", True), ("Other", "1100.00", "80", True)])
    winner = next(b for b in lot.bids if b.supplier.name == "Winner")
    suppliers.set_supplier_status(_user(OFFICER), winner.supplier, "suspended", "Sanctions list match")
    db.session.commit()
    with pytest.raises(Conflict, match="suspended .Sanctions list match.; only an active supplier can be awarded"):
        awards.award(_user(OFFICER), lot, winner.id, "Best score")
    db.session.rollback()
    assert db.session.get(Lot, lot.id).awarded_bid_id is None


def test_award_needs_the_committee_where_the_manual_requires_it(session, demo):
    officer, manager = _user(OFFICER), _user(MANAGER)
    req = _submitted("undp", "250000.00")
    workflow.perform(_user("head@undp.jof.example"), req.request, "certify")
    workflow.perform(manager, req.request, "approve")
    tender = tenders.create_tender(officer, {"title": "Servers", "evaluation_method": "lowest_price",
                                              "requisitions": [req.reference]})
    assert tender.method == "itb" and tender.lots[0].committee_required
    with pytest.raises(ValidationFailed) as exc:
        tenders.publish(officer, tender, utcnow() + timedelta(days=7))
    assert "20 working days" in exc.value.errors["closing_at"][0]
    tenders.publish(officer, tender, utcnow() + timedelta(days=40))
    sup = suppliers.create_supplier(officer, {"name": "S", "country": "BR", "tax_id": "X1"})
    db.session.flush()
    bid = tenders.record_bid(officer, tender.lots[0], {"supplier_id": sup.id, "technically_compliant": True,
                                                        "lines": [{"lot_line_id": tender.lots[0].lines[0].id,
                                                                   "unit_price": Decimal("240000")}]})
    tender.closing_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Conflict, match="contracts committee"):
        awards.award(officer, tender.lots[0], bid.id, "Only compliant offer")
    db.session.rollback()
    evaluation.committee_sign_off(manager, tender.lots[0])
    orders = awards.award(officer, tender.lots[0], bid.id, "Only compliant offer")
    assert [po.total_usd for po in orders] == [Decimal("240000.00")]
    assert orders[0].service_item == "itb_process"


# --- splitting (DESIGN §3) ---------------------------------------------------------------------


def test_same_class_within_twelve_months_raises_a_splitting_warning_an_officer_acknowledges(session, demo):
    first = _submitted("undp", "4000.00")
    assert first.method == "micro_purchase" and first.splitting_warning == ""
    other_class = _submitted("undp", "4000.00", unspsc="44121600")
    assert other_class.splitting_warning == ""
    other_agency = _submitted("unfpa", "4000.00")
    assert other_agency.splitting_warning == ""
    second = _submitted("undp", "1500.00")
    assert second.method == "micro_purchase"
    assert "432115" in second.splitting_warning and first.reference in second.splitting_warning
    assert "USD 5,500.00" in second.splitting_warning and "request for quotation" in second.splitting_warning

    manager, officer = _user(MANAGER), _user(OFFICER)
    workflow.perform(manager, second.request, "approve")
    db.session.commit()
    with pytest.raises(Conflict, match="splitting"):
        workflow.perform(officer, second.request, "source")
    db.session.rollback()
    with pytest.raises(ValidationFailed) as exc:
        tenders.create_tender(officer, {"title": "T", "requisitions": [second.reference]})
    assert "acknowledge" in exc.value.errors["requisitions"][0]
    db.session.rollback()
    requisitions.acknowledge_splitting(officer, second)
    tender = tenders.create_tender(officer, {"title": "T", "requisitions": [second.reference]})
    assert second.request.status == "sourcing" and tender.lots


def test_lots_hold_one_unspsc_class(session, demo):
    officer, manager = _user(OFFICER), _user(MANAGER)
    a = _submitted("undp", "100.00")
    b = _submitted("unfpa", "100.00", unspsc="44121600")
    for r in (a, b):
        workflow.perform(manager, r.request, "approve")
    with pytest.raises(ValidationFailed) as exc:
        tenders.create_tender(officer, {"title": "T", "requisitions": [a.reference, b.reference],
                                         "lots": [{"line_ids": [a.lines[0].id, b.lines[0].id]}]})
    assert "one UNSPSC class" in exc.value.errors["lots.0.line_ids"][0]
    tender = tenders.create_tender(officer, {"title": "T", "requisitions": [a.reference, b.reference]})
    assert [lot.unspsc_class for lot in tender.lots] == ["432115", "441216"]


def test_partial_receipt_keeps_the_requisition_open_and_charges_nothing(session, demo):
    from jof.core.charges import ChargeableEvent

    lot = _tender_with_bids([("Only", "1000.00", "90", True)])
    officer = _user(OFFICER)
    bid = lot.bids[0]
    [po] = awards.award(officer, lot, bid.id, "Single offer, market is thin")
    db.session.commit()
    orders.receive(officer, po, {"rating": 2, "lines": [{"order_line_id": po.lines[0].id, "quantity": Decimal("4")}]})
    db.session.commit()
    assert po.status == "partially_received" and po.requisition.request.status == "ordered"
    assert db.session.scalar(select(ChargeableEvent.id)) is None
    with pytest.raises(ValidationFailed) as exc:
        orders.receive(officer, po, {"rating": 5, "lines": [{"order_line_id": po.lines[0].id, "quantity": Decimal("7")}]})
    assert "At most 6.00" in exc.value.errors["lines.0.quantity"][0]
    db.session.rollback()
    orders.receive(officer, po, {"rating": 4})
    db.session.commit()
    assert po.status == "received" and po.requisition.request.status == "completed"
    assert suppliers.supplier_rating(bid.supplier) == Decimal("3.00")
    assert db.session.scalar(select(Tender.status)) == "awarded"


def test_supplier_tax_id_is_unique_per_country(session, demo):
    officer = _user(OFFICER)
    suppliers.create_supplier(officer, {"name": "A", "country": "BR", "tax_id": "11"})
    suppliers.create_supplier(officer, {"name": "A Argentina", "country": "AR", "tax_id": "11"})
    db.session.commit()
    with pytest.raises(ValidationFailed) as exc:
        suppliers.create_supplier(officer, {"name": "B", "country": "BR", "tax_id": "11"})
    assert "already registered in BR" in exc.value.errors["tax_id"][0]
    db.session.rollback()
    found = db.session.scalars(suppliers.suppliers_query(category="43211503")).all()
    assert {s.name for s in found} == {"Tecnologia Planalto Ltda", "Brasília Informática S.A."}
    assert db.session.scalar(select(Supplier.id).where(Supplier.tax_id == "11", Supplier.country == "BR"))
    assert not db.session.scalar(select(Bid.id))


def test_lta_validity_is_at_most_three_years(session, demo):
    officer = _user(OFFICER)
    sup = db.session.scalar(select(Supplier).limit(1))
    data = {"title": "Laptops LTA", "supplier_id": sup.id, "valid_from": date(2026, 1, 1),
            "ceiling_usd": Decimal("50000.00"), "agencies": ["UNDP"],
            "lines": [{"description": "Laptop", "unspsc": LAPTOP, "unit": "each", "unit_price": Decimal("1000")}]}
    with pytest.raises(ValidationFailed) as exc:
        ltas.create_lta(officer, {**data, "valid_to": date(2029, 1, 1)})
    assert "at most three years" in exc.value.errors["valid_to"][0]
    lta = ltas.create_lta(officer, {**data, "valid_to": date(2028, 12, 31)})
    assert ltas.create_lta(officer, data).valid_to == date(2027, 12, 31)  # default: two years
    assert lta.agencies[0].code == "UNDP"


def test_a_supplier_is_not_suspended_twice_and_is_reinstated_only_when_not_active(session, demo):
    officer = _user(OFFICER)
    supplier = db.session.scalars(select(Supplier).where(Supplier.status == "active")).first()
    suppliers.set_supplier_status(officer, supplier, "suspended", "Late deliveries under review.")
    with pytest.raises(Conflict) as twice:
        suppliers.set_supplier_status(officer, supplier, "suspended", "Again.")
    assert twice.value.extra["allowed_actions"] == ["reinstate", "debar"]
    suppliers.set_supplier_status(officer, supplier, "active")
    with pytest.raises(Conflict):
        suppliers.set_supplier_status(officer, supplier, "active")
    assert supplier.status == "active"
