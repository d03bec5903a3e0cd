"""Each agency's money on a hand-made month: fees and cost per transaction, its share of
the shared costs with the key and resolution that set it, why the share moved, and the
counterfactual (price-list cost of its volume against its share of fixed costs)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.billing.models import Charge
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.people import Agency, User
from jof.governance.models import AllocationShare, CostPool, CostSharingKey, Decision
from jof.monitoring import finances, measures
from jof.monitoring.measures import Filters

NOVEMBER = Filters(date(2026, 11, 1), date(2026, 11, 30))


def _charge(agency: int, kind: str, amount: str, ref: str) -> None:
    event = ChargeableEvent(source_ref=ref, service_line="procurement", agency_id=agency, service_item="po",
                            kind="fee" if kind == "cost_share" else kind, quantity=Decimal("1"),
                            delivered_on=date(2026, 11, 10))
    db.session.add(event)
    db.session.flush()
    db.session.add(Charge(event_id=event.id, source_ref=ref, agency_id=agency, period=date(2026, 11, 1),
                          service_line="procurement", item_code="po", kind=kind, quantity=Decimal("1"),
                          amount=Decimal(amount), delivered_on=date(2026, 11, 10)))


def _key(number: str, effective: date) -> CostSharingKey:
    decision = Decision(title=f"Cost-sharing key {number}", kind="cost_sharing_key", status="closed",
                        resolution_number=number, outcome="adopted")
    key = CostSharingKey(components={"equal": "100"}, effective_from=effective, decision=decision)
    db.session.add(key)
    db.session.flush()
    return key


def _share(pool: CostPool, agency: int, key: CostSharingKey, amount: str, who: int) -> None:
    db.session.add(AllocationShare(cost_pool_id=pool.id, agency_id=agency, key_id=key.id, amount=Decimal(amount),
                                   explanation={}, recorded_by_id=who))


def test_share_change_names_the_key_resolution_and_the_counterfactual(app, month):
    with app.app_context():
        undp, unfpa, unops = (db.session.scalar(select(Agency.id).where(Agency.code == c))
                              for c in ("UNDP", "UNFPA", "UNOPS"))
        manager = db.session.scalar(select(User.id).where(User.email == "manager@jof.example"))
        old, new = _key("RES-2026-901", date(2026, 1, 1)), _key("RES-2026-902", date(2026, 11, 1))
        oct_pool = CostPool(period=date(2026, 10, 1), category="staff", amount=Decimal("1000.00"), created_by_id=manager)
        nov_pool = CostPool(period=date(2026, 11, 1), category="staff", amount=Decimal("1000.00"), created_by_id=manager)
        db.session.add_all([oct_pool, nov_pool])
        db.session.flush()
        _share(oct_pool, undp, old, "300.00", manager)
        _share(nov_pool, undp, new, "400.00", manager)
        _share(oct_pool, unops, old, "100.00", manager)
        _share(nov_pool, unops, old, "150.00", manager)
        _charge(undp, "fee", "150.00", "t-fee-1")
        _charge(undp, "pass_through", "900.00", "t-pt-1")
        _charge(undp, "cost_share", "400.00", "t-cs-1")
        db.session.commit()

        rows = {r["agency"]: r for r in finances.agencies(NOVEMBER)}
        r = rows["UNDP"]
        assert (r["share_usd"], r["share_previous_usd"], r["share_change_usd"]) == (
            Decimal("400.00"), Decimal("300.00"), Decimal("100.00"))
        assert r["share_resolution"] == "RES-2026-902"
        assert r["share_cause"] == "key_changed"
        assert (r["fees_usd"], r["pass_through_usd"]) == (Decimal("150.00"), Decimal("900.00"))
        assert (r["price_list_cost_usd"], r["fixed_cost_share_usd"]) == (Decimal("150.00"), Decimal("400.00"))
        assert rows["UNOPS"]["share_cause"] == "usage_or_headcount"
        assert rows["UNFPA"]["share_cause"] == "" and rows["UNFPA"]["share_usd"] == Decimal("0.00")

        (cost,) = measures.cost_per_transaction(NOVEMBER.with_agency(undp))
        # 150.00 of fees over the 3 requests UNDP saw completed in November.
        assert (cost["fees_usd"], cost["completed"], cost["per_transaction_usd"]) == (
            Decimal("150.00"), 3, Decimal("50.00"))
        assert [r["agency"] for r in finances.agencies(NOVEMBER.with_agency(unfpa))] == ["UNFPA"]


def test_the_dashboard_words_the_cause_with_the_resolution(app, month, api):
    test_share_change_names_the_key_resolution_and_the_counterfactual(app, month)
    body = api("manager@jof.example").get("/api/v1/monitoring/dashboard?start=2026-11-01&end=2026-11-30").get_json()
    rows = {r["agency"]: r for r in {t["key"]: t for t in body["tables"]}["agencies"]["rows"]}
    assert rows["UNDP"]["share_cause"] == "Cost-sharing key changed by resolution RES-2026-902"


def test_invoices_are_timed_in_working_days_from_the_period_end(app, month):
    from jof.billing.models import Invoice
    from jof.core.calendar import WorkingCalendar

    with app.app_context():
        undp, unfpa = (db.session.scalar(select(Agency.id).where(Agency.code == c)) for c in ("UNDP", "UNFPA"))
        for agency, number, issued in ((undp, "T-INV-1", date(2026, 11, 6)), (unfpa, "T-INV-2", date(2026, 11, 10))):
            db.session.add(Invoice(number=number, agency_id=agency, period=date(2026, 10, 1), status="issued",
                                   total_usd=Decimal("10.00"), issued_on=issued))
        db.session.commit()
        rows = {r["agency"]: r for r in finances.invoice_timeliness(
            Filters(date(2026, 10, 1), date(2026, 10, 31)), WorkingCalendar.of_facility())}
        # October ends on a Saturday; 2 November is a holiday: the 6th is 4 working days on.
        assert (rows["UNDP"]["working_days"], rows["UNDP"]["within_target"]) == (4, True)
        assert (rows["UNFPA"]["working_days"], rows["UNFPA"]["within_target"]) == (6, False)
        assert rows["UNDP"]["target_days"] == 5
