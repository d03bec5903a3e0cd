"""Subscriptions and their monthly charges (DESIGN §5, §7): seat periods with history,
proration by calendar day with exact Decimal totals quantized once per charge, and an
idempotent ``jof ict bill-month``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof.core import workflow
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.ict import catalogue, subscriptions
from jof.ict.models import IctService
from tests.ict.conftest import user

APRIL = date(2026, 4, 1)  # 30 days
MAY = date(2026, 5, 1)  # 31 days
#: After both months: bill_month refuses a month that is not over.
LATER = date(2026, 6, 15)


def test_demo_catalogue_has_the_four_services_with_price_list_codes(session, demo):
    rows = {s.code: s for s in session.scalars(select(IctService))}
    assert set(rows) == {"email_account", "connectivity", "shared_printing", "laptop_setup"}
    assert rows["email_account"].unit_price_usd == Decimal("12.00")
    assert rows["email_account"].kind == "recurring" and rows["laptop_setup"].kind == "one_off"


def test_loading_the_demo_twice_keeps_one_catalogue(session, demo):
    demo.load("another-password-1")
    session.flush()
    assert session.scalar(select(func.count(IctService.id))) == 4


def test_prorate_is_seats_times_price_times_days_over_month_days():
    assert subscriptions.prorate(10, Decimal("12.00"), 15, 30) == Decimal("60.00")
    # 7 × 25 × 12 / 31 = 67.7419…: one rounding, half up, to the cent.
    assert subscriptions.prorate(7, Decimal("25.00"), 12, 31) == Decimal("67.74")
    assert subscriptions.prorate(1, Decimal("0.05"), 1, 2) == Decimal("0.03")  # 0.025 → 0.03


def test_order_is_a_request_on_the_spine_approved_by_the_manager(approved_subscription):
    sub = approved_subscription(10, date(2026, 4, 16))
    assert sub.request.reference.startswith("ICS-")
    assert sub.request.request_type == "ict_subscription"
    assert sub.request.status == "approved"
    assert [(p.seq, p.seats, p.starts_on, p.ends_on) for p in sub.periods] == [(1, 10, date(2026, 4, 16), None)]


def test_subscription_awaiting_approval_has_no_period_and_is_not_billed(session, demo):
    sub = subscriptions.order(user("requester@undp.jof.example"),
                         {"service": "email_account", "seats": 3, "starts_on": APRIL})
    assert sub.request.status == "submitted" and sub.periods == []
    assert subscriptions.bill_month(None, APRIL, today=LATER) == (0, 0)


def test_start_mid_month_is_prorated_by_day(approved_subscription):
    # 10 seats from the 16th of a 30-day month = 10 × price × 15/30.
    sub = approved_subscription(10, date(2026, 4, 16))
    [line] = subscriptions.month_charges(sub, APRIL)
    assert (line.days, line.month_days) == (15, 30)
    assert line.amount == Decimal("10") * Decimal("12.00") * 15 / 30 == Decimal("60.00")
    assert line.quantity == Decimal("5.0000")
    # The next month is a whole month.
    [may] = subscriptions.month_charges(sub, MAY)
    assert (may.days, may.amount) == (31, Decimal("120.00"))


def test_seats_changed_mid_month_give_one_charge_per_period(approved_subscription):
    sub = approved_subscription(7, MAY, service="connectivity")  # USD 25.00 per seat-month
    subscriptions.change_seats(user("requester@undp.jof.example"), sub, 12, date(2026, 5, 13))

    lines = subscriptions.month_charges(sub, MAY)

    assert [(p.seq, p.seats, p.starts_on, p.ends_on) for p in sub.periods] == [
        (1, 7, MAY, date(2026, 5, 12)), (2, 12, date(2026, 5, 13), None)]
    assert [(x.seats, x.days) for x in lines] == [(7, 12), (12, 19)]
    # 7 × 25 × 12/31 = 67.741… → 67.74 ; 12 × 25 × 19/31 = 183.870… → 183.87
    assert [x.amount for x in lines] == [Decimal("67.74"), Decimal("183.87")]
    assert sum(x.amount for x in lines) == Decimal("251.61")
    assert [x.source_ref for x in lines] == [f"{sub.request.reference}/P1/2026-05",
                                             f"{sub.request.reference}/P2/2026-05"]


def test_ended_mid_month_is_charged_to_its_last_day(approved_subscription):
    sub = approved_subscription(10, APRIL)
    subscriptions.end_subscription(user("requester@undp.jof.example"), sub, date(2026, 5, 20))

    [line] = subscriptions.month_charges(sub, MAY)

    assert (line.days, line.month_days) == (20, 31)
    assert line.amount == Decimal("77.42")  # 10 × 12 × 20/31 = 77.419…
    assert line.last == date(2026, 5, 20)
    assert subscriptions.month_charges(sub, date(2026, 6, 1)) == []


def test_started_changed_and_ended_in_the_same_month(approved_subscription):
    sub = approved_subscription(4, date(2026, 4, 6), service="shared_printing")  # USD 8.00
    requester = user("requester@undp.jof.example")
    subscriptions.change_seats(requester, sub, 6, date(2026, 4, 16))
    subscriptions.end_subscription(requester, sub, date(2026, 4, 25))

    lines = subscriptions.month_charges(sub, APRIL)

    # 4 × 8 × 10/30 = 10.666… → 10.67 ; 6 × 8 × 10/30 = 16.00
    assert [(x.seats, x.days, x.amount) for x in lines] == [(4, 10, Decimal("10.67")), (6, 10, Decimal("16.00"))]


def test_seat_change_keeps_history_and_is_refused_when_it_changes_nothing(approved_subscription):
    sub = approved_subscription(10, APRIL)
    requester = user("requester@undp.jof.example")
    with pytest.raises(ValidationFailed) as same:
        subscriptions.change_seats(requester, sub, 10, date(2026, 4, 10))
    assert "seats" in same.value.errors
    with pytest.raises(ValidationFailed) as early:
        subscriptions.change_seats(requester, sub, 12, APRIL)
    assert "effective_from" in early.value.errors
    subscriptions.change_seats(requester, sub, 12, date(2026, 4, 10))
    subscriptions.change_seats(requester, sub, 5, date(2026, 4, 20))
    assert [(p.seats, p.starts_on, p.ends_on) for p in sub.periods] == [
        (10, APRIL, date(2026, 4, 9)), (12, date(2026, 4, 10), date(2026, 4, 19)), (5, date(2026, 4, 20), None)]
    assert sub.current_seats == 5


def test_another_agency_cannot_see_or_change_a_subscription(approved_subscription):
    sub = approved_subscription(10, APRIL)
    with pytest.raises(NotFound):
        subscriptions.get_subscription(user("requester@unfpa.jof.example"), sub.id)
    with pytest.raises(NotFound):
        subscriptions.change_seats(user("requester@unfpa.jof.example"), sub, 3, date(2026, 4, 10))


def test_bill_month_records_chargeable_events_once(session, approved_subscription):
    a = approved_subscription(10, date(2026, 4, 16))
    b = approved_subscription(7, APRIL, service="connectivity", agency="unfpa")
    subscriptions.change_seats(user("requester@unfpa.jof.example"), b, 9, date(2026, 4, 11))

    assert subscriptions.bill_month(None, APRIL, today=LATER) == (3, 0)
    assert subscriptions.bill_month(None, APRIL, today=LATER) == (0, 3)

    events = {e.source_ref: e for e in session.scalars(select(ChargeableEvent))}
    assert set(events) == {f"{a.request.reference}/P1/2026-04", f"{b.request.reference}/P1/2026-04",
                           f"{b.request.reference}/P2/2026-04"}
    e = events[f"{a.request.reference}/P1/2026-04"]
    assert (e.service_line, e.service_item, e.agency.code) == ("ict", "email_account", "UNDP")
    assert (e.quantity, e.value_usd, e.delivered_on) == (Decimal("5.0000"), Decimal("60.00"), date(2026, 4, 30))
    assert events[f"{b.request.reference}/P1/2026-04"].value_usd == Decimal("58.33")  # 7 × 25 × 10/30
    assert events[f"{b.request.reference}/P2/2026-04"].value_usd == Decimal("150.00")  # 9 × 25 × 20/30


def test_bill_month_refuses_a_month_that_is_not_over(approved_subscription):
    approved_subscription(10, APRIL)
    with pytest.raises(ValidationFailed):
        subscriptions.bill_month(None, APRIL, today=date(2026, 4, 30))


def test_billed_month_no_longer_takes_seat_changes_or_an_earlier_end(approved_subscription):
    sub = approved_subscription(10, APRIL)
    subscriptions.bill_month(None, APRIL, today=LATER)
    requester = user("requester@undp.jof.example")
    with pytest.raises(ValidationFailed) as change:
        subscriptions.change_seats(requester, sub, 12, date(2026, 4, 20))
    assert "effective_from" in change.value.errors
    with pytest.raises(ValidationFailed) as end:
        subscriptions.end_subscription(requester, sub, date(2026, 4, 20))
    assert "ends_on" in end.value.errors
    subscriptions.change_seats(requester, sub, 12, date(2026, 5, 1))  # the next month is open


def test_one_off_service_is_chargeable_once_when_completed(session, demo):
    requester, manager = user("requester@unesco.jof.example"), user("manager@jof.example")
    sub = subscriptions.order(requester, {"service": "laptop_setup", "seats": 3, "starts_on": APRIL})
    for action in ("approve", "start", "complete"):
        workflow.perform(manager if action == "approve" else user("ict@jof.example"), sub.request, action)
    [event] = session.scalars(select(ChargeableEvent)).all()
    assert (event.source_ref, event.service_item, event.quantity, event.value_usd) == (
        f"{sub.request.reference}/one-off", "laptop_setup", Decimal("3.0000"), Decimal("180.00"))
    assert sub.periods == []


def test_recurring_subscription_completes_only_after_its_last_day(approved_subscription):
    sub = approved_subscription(2, APRIL)
    ict = user("ict@jof.example")
    workflow.perform(ict, sub.request, "start")
    with pytest.raises(Conflict):
        workflow.perform(ict, sub.request, "complete")
    subscriptions.end_subscription(ict, sub, date(2026, 5, 31))
    workflow.perform(ict, sub.request, "complete")
    assert sub.request.status == "completed"


def test_cli_bill_month_twice_creates_the_charges_once(app, demo):
    from jof.ict import states

    with app.app_context():
        requester, manager = user("requester@undp.jof.example"), user("manager@jof.example")
        # A month safely in the past whatever day the suite runs.
        month = date(states.local_today().year - 1, 4, 1)
        sub = subscriptions.order(requester, {"service": "email_account", "seats": 10,
                                         "starts_on": month.replace(day=16)})
        workflow.perform(manager, sub.request, "approve")
        ref = sub.request.reference
        db.session.commit()
        db.session.remove()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["ict", "bill-month", f"{month:%Y-%m}"])
    second = runner.invoke(args=["ict", "bill-month", f"{month:%Y-%m}"])

    assert first.exit_code == 0, first.output
    assert "1 charge(s) recorded, 0 already" in first.output
    assert second.exit_code == 0 and "0 charge(s) recorded, 1 already" in second.output
    with app.app_context():
        events = db.session.scalars(select(ChargeableEvent)).all()
        assert [(e.source_ref, e.value_usd) for e in events] == [(f"{ref}/P1/{month:%Y-%m}", Decimal("60.00"))]


def test_cli_bill_month_rejects_a_malformed_month(app, demo):
    result = app.test_cli_runner().invoke(args=["ict", "bill-month", "April"])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_cancelling_before_the_start_removes_the_periods(approved_subscription):
    from jof.ict import states

    start = states.local_today() + timedelta(days=40)
    sub = approved_subscription(5, start)
    assert len(sub.periods) == 1
    workflow.perform(user("requester@undp.jof.example"), sub.request, "cancel")
    assert sub.request.status == "cancelled" and sub.periods == []


def test_cancelling_a_running_subscription_ends_it_today(approved_subscription):
    from jof.ict import states

    sub = approved_subscription(5, APRIL)
    workflow.perform(user("ict@jof.example"), sub.request, "start")
    workflow.perform(user("manager@jof.example"), sub.request, "cancel", "Office closed.")
    today = states.local_today()
    assert [(p.starts_on, p.ends_on) for p in sub.periods] == [(APRIL, today)]
    assert sub.ends_on == today


@pytest.mark.parametrize("month, message", [
    ("9999-12", "Expected a month from 2000-01"),
    ("1999-12", "Expected a month from 2000-01"),
    ("2026-13", "YYYY-MM"),
    ("2026-04-01", "YYYY-MM"),
    ("", "YYYY-MM"),
])
def test_cli_bill_month_says_what_is_wrong_with_the_month(app, demo, month, message):
    result = app.test_cli_runner().invoke(args=["ict", "bill-month", month])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bill_month_of_a_month_not_over_names_its_last_day(session, demo):
    with pytest.raises(ValidationFailed) as exc:
        subscriptions.bill_month(None, date(9999, 12, 1), today=LATER)
    assert "9999-12-31" in exc.value.errors["month"][0]


def test_the_demo_loads_brazils_national_holidays(session, demo):
    from jof.core.calendar import Holiday, WorkingCalendar
    from jof.ict import states

    year = states.local_today().year
    days = {h.day: h.name for h in session.scalars(select(Holiday))}
    assert days[date(year, 1, 1)] == "Confraternização Universal"
    assert days[date(year, 4, 21)] == "Tiradentes"
    assert days[date(year, 12, 25)] == "Natal"
    assert days[date(year + 1, 1, 1)] == "Confraternização Universal"
    assert days[date(year, 9, 7)] == "Independência do Brasil"
    assert not WorkingCalendar.of_facility().is_working_day(date(year, 9, 7))
    # Good Friday moves with Easter.
    assert catalogue.easter_sunday(2026) == date(2026, 4, 5) and catalogue.easter_sunday(2027) == date(2027, 3, 28)
    assert days[catalogue.easter_sunday(year) - timedelta(days=2)] == "Paixão de Cristo"
    # Loading the demo again adds no second row.
    count = len(days)
    demo.load("another-password-1")
    session.flush()
    assert session.scalar(select(func.count(Holiday.id))) == count
