"""Each agency's money on a hand-made month: fees and cost per transaction, its share of
the shared costs with the key and resolution that set it, why the share moved, and the
counterfactual (price-list cost of its volume against its share of fixed costs).

The shares are recorded the way a period close records them: cost pools entered by the
manager and allocated by governance's allocation service with the key in force."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.billing.models import Charge
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.people import Agency, User
from jof.governance import cost_sharing
from jof.governance.models import CostSharingKey, Decision
from jof.monitoring import finances, measures
from jof.monitoring.measures import Filters

NOVEMBER = Filters(date(2026, 11, 1), date(2026, 11, 30))
OCTOBER, NOV = date(2026, 10, 1), date(2026, 11, 1)


def _charge(agency: int, kind: str, amount: str, ref: str) -> None:
    event = ChargeableEvent(source_ref=ref, service_line="procurement", agency_id=agency, service_item="po",
                            kind=kind, quantity=Decimal("1"), delivered_on=date(2026, 11, 10))
    db.session.add(event)
    db.session.flush()
    db.session.add(Charge(event_id=event.id, source_ref=ref, agency_id=agency, period=date(2026, 11, 1),
                          service_line="procurement", item_code="po", kind=kind, quantity=Decimal("1"),
                          amount=Decimal(amount), delivered_on=date(2026, 11, 10)))


def _key(number: str, effective: date, components: dict) -> CostSharingKey:
    """A key as the board's adopted decision leaves it (the vote itself is governance's)."""
    decision = Decision(title=f"Cost-sharing key {number}", kind="cost_sharing_key", status="closed",
                        resolution_number=number, outcome="adopted")
    key = CostSharingKey(components=components, effective_from=effective, decision=decision)
    db.session.add(key)
    db.session.flush()
    return key


def _allocate(manager: User, month: date, amount: str = "1000.00") -> None:
    """The month's staff pool, allocated by the allocation service as the period close does."""
    cost_sharing.add_cost_pool(manager, month, "staff", amount)
    cost_sharing.record_allocation(manager, month)


def _ids(*codes: str) -> list[int]:
    return [db.session.scalar(select(Agency.id).where(Agency.code == c)) for c in codes]


def _manager() -> User:
    return db.session.scalar(select(User).where(User.email == "manager@jof.example"))


def _two_keys_october_and_november() -> None:
    """October under RES-2026-901 (UNDP 3, UNOPS 1, UNEP 6 of 10), November under
    RES-2026-902 (UNDP 4, UNOPS 1.5, UNEP 4.5): 1 000.00 of staff costs each month."""
    manager = _manager()
    _key("RES-2026-901", date(2026, 1, 1), {"fixed": "100", "fixed_weights": {"UNDP": "3", "UNOPS": "1", "UNEP": "6"}})
    _key("RES-2026-902", NOV, {"fixed": "100", "fixed_weights": {"UNDP": "4", "UNOPS": "1.5", "UNEP": "4.5"}})
    _allocate(manager, OCTOBER)
    _allocate(manager, NOV)


def test_share_change_names_the_key_resolution_and_the_counterfactual(app, month):
    with app.app_context():
        undp, unfpa = _ids("UNDP", "UNFPA")
        _two_keys_october_and_november()
        _charge(undp, "fee", "150.00", "t-fee-1")
        _charge(undp, "pass_through", "900.00", "t-pt-1")
        db.session.commit()

        rows = {r["agency"]: r for r in finances.agencies(NOVEMBER)}
        r = rows["UNDP"]
        assert r["share_month"] == NOV
        assert (r["share_usd"], r["share_previous_usd"], r["share_change_usd"]) == (
            Decimal("400.00"), Decimal("300.00"), Decimal("100.00"))
        assert r["share_resolution"] == "RES-2026-902"
        assert r["share_cause"] == "key_changed"
        assert (r["fees_usd"], r["pass_through_usd"]) == (Decimal("150.00"), Decimal("900.00"))
        # What the period close records is what the dashboard reads: November's share.
        assert (r["cost_share_usd"], r["price_list_cost_usd"], r["fixed_cost_share_usd"]) == (
            Decimal("400.00"), Decimal("150.00"), Decimal("400.00"))
        assert (rows["UNOPS"]["share_usd"], rows["UNOPS"]["share_previous_usd"]) == (Decimal("150.00"), Decimal("100.00"))
        assert rows["UNFPA"]["share_usd"] == Decimal("0.00") and rows["UNFPA"]["share_cause"] == "key_changed"
        both = {r["agency"]: r for r in finances.agencies(Filters(OCTOBER, date(2026, 11, 30)))}
        assert both["UNDP"]["fixed_cost_share_usd"] == Decimal("700.00")

        (cost,) = measures.cost_per_transaction(NOVEMBER.with_agency(undp))
        # 150.00 of fees over the 3 requests UNDP saw completed in November.
        assert (cost["fees_usd"], cost["completed"], cost["per_transaction_usd"]) == (
            Decimal("150.00"), 3, Decimal("50.00"))
        assert [r["agency"] for r in finances.agencies(NOVEMBER.with_agency(unfpa))] == ["UNFPA"]


def test_the_dashboard_words_the_cause_with_the_resolution(app, month, api):
    test_share_change_names_the_key_resolution_and_the_counterfactual(app, month)
    body = api("manager@jof.example").get("/api/v1/monitoring/dashboard?start=2026-11-01&end=2026-11-30").get_json()
    table = {t["key"]: t for t in body["tables"]}["agencies"]
    rows = {r["agency"]: r for r in table["rows"]}
    assert rows["UNDP"]["share_cause"] == "Cost-sharing key changed by resolution RES-2026-902"
    assert rows["UNDP"]["cost_share_usd"] == "400.00"
    assert "Share of 2026-11 (USD)" in table["headers"] and "Share of 2026-10 (USD)" in table["headers"]


def test_a_period_running_to_today_compares_the_latest_allocated_month(app, month, api):
    """The default period ends today, whose month is not allocated before its close: the
    share columns show the latest allocated month, not every share fallen to zero."""
    with app.app_context():
        _two_keys_october_and_november()
        db.session.commit()
        rows = {r["agency"]: r for r in finances.agencies(Filters(OCTOBER, date(2026, 12, 7)))}
        assert rows["UNDP"]["share_month"] == NOV
        assert (rows["UNDP"]["share_usd"], rows["UNDP"]["share_previous_usd"]) == (Decimal("400.00"), Decimal("300.00"))
    body = api("manager@jof.example").get("/api/v1/monitoring/dashboard?start=2026-10-01&end=2026-12-07").get_json()
    table = {t["key"]: t for t in body["tables"]}["agencies"]
    assert "Share of 2026-11 (USD)" in table["headers"]
    assert {r["agency"]: r for r in table["rows"]}["UNDP"]["share_usd"] == "400.00"


def test_a_share_moved_by_usage_under_the_same_key_names_usage(app, month):
    """A usage key: nobody completed a request in October (split equally), UNDP three and
    UNFPA one in November."""
    with app.app_context():
        manager = _manager()
        _key("RES-2026-903", date(2026, 1, 1), {"usage_count": "100"})
        _allocate(manager, OCTOBER, "600.00")
        _allocate(manager, NOV, "600.00")
        db.session.commit()
        rows = {r["agency"]: r for r in finances.agencies(NOVEMBER)}
        assert (rows["UNDP"]["share_previous_usd"], rows["UNDP"]["share_usd"]) == (Decimal("100.00"), Decimal("450.00"))
        assert rows["UNDP"]["share_cause"] == "usage_changed"
        assert rows["UNEP"]["share_cause"] == "usage_changed"


def _at(amount: str, key: int, inputs: dict, components: dict) -> tuple:
    return (Decimal(amount), key, "RES-1", inputs, components)


def test_a_share_moved_by_headcount_under_the_same_key_names_headcount():
    key = {"equal": "40", "headcount": "60"}
    before = _at("100.00", 1, {"equal": "1 of 6", "headcount": "120 of 300"}, key)
    now = _at("110.00", 1, {"equal": "1 of 6", "headcount": "130 of 300"}, key)
    assert finances.cause_of_change(before, now, Decimal("600"), Decimal("600")) == "headcount_changed"


def test_a_member_joining_under_the_same_key_names_the_members():
    key = {"equal": "100"}
    before = _at("100.00", 1, {"equal": "1 of 6"}, key)
    now = _at("85.71", 1, {"equal": "1 of 7"}, key)
    assert finances.cause_of_change(before, now, Decimal("600"), Decimal("600")) == "members_changed"


def test_without_the_inputs_the_keys_basis_names_the_cause_and_only_a_mixed_key_stays_ambiguous():
    same = Decimal("600")
    for components, cause in (({"headcount": "100"}, "headcount_changed"),
                              ({"equal": "50", "usage_value": "50"}, "usage_changed"),
                              ({"headcount": "50", "usage_count": "50"}, "usage_or_headcount")):
        before, now = _at("100.00", 1, {}, components), _at("120.00", 1, {}, components)
        assert finances.cause_of_change(before, now, same, same) == cause, components
    both = {"headcount": "50", "usage_count": "50"}
    before = _at("100.00", 1, {"headcount": "1 of 2", "usage_count": "1 of 2"}, both)
    now = _at("120.00", 1, {"headcount": "1 of 3", "usage_count": "1 of 2"}, both)
    assert finances.cause_of_change(before, now, same, same) == "headcount_changed"


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


def test_a_share_moved_by_usage_is_named_usage_even_when_the_pools_moved_too():
    """Pools differ every month: with the agency's inputs recorded, the input that moved
    its fraction is the cause; the pools are named only when no input moved."""
    key = {"equal": "30", "headcount": "40", "usage_count": "30"}
    before = _at("4652.17", 1, {"equal": "1 of 6", "headcount": "48 of 300", "usage_count": "2 of 8"}, key)
    now = _at("2935.79", 1, {"equal": "1 of 6", "headcount": "48 of 300", "usage_count": "0 of 6"}, key)
    assert finances.cause_of_change(before, now, Decimal("30000"), Decimal("31500")) == "usage_changed"
    same_inputs = _at("4884.78", 1, {"equal": "1 of 6", "headcount": "48 of 300", "usage_count": "2 of 8"}, key)
    assert finances.cause_of_change(before, same_inputs, Decimal("30000"), Decimal("31500")) == "shared_costs_changed"
