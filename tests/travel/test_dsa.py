"""The DSA calculation by hand (DESIGN §4, UNDP POPP DSA policy): each case states the
working and asserts the exact Decimal lines and total."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from jof.travel import dsa
from jof.travel.dsa import DsaLine, DsaPolicy, NightlyRate, Provision, Stay

SAO_PAULO = NightlyRate(D("250.00"), D("50"))
RIO = NightlyRate(D("240.00"), D("56"))


def stay(location, first, nights, rate):
    months = {}
    day = first
    for i in range(nights):
        months[(first + timedelta(days=i)).replace(day=1)] = rate
    return Stay(location, first, nights, months or {day.replace(day=1): rate})


def terminal(n, amount):
    return DsaLine("terminal", "Terminal expenses", n, D("47"), D("100"), D(amount))


def test_three_night_trip():
    # 3 nights × 250.00 = 750.00; 4 terminals × 47 = 188.00; total 938.00
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 3, 10), 3, SAO_PAULO)], 4)
    assert calc.lines == (
        DsaLine("dsa", "São Paulo, BR", 3, D("250.00"), D("100"), D("750.00"), date(2026, 3, 10), date(2026, 3, 12)),
        terminal(4, "188.00"),
    )
    assert calc.total == D("938.00")
    assert calc.dsa_total == D("750.00") and calc.terminal_total == D("188.00")


def test_seventy_day_mission_crosses_day_sixty():
    # nights 1–60: 60 × 250.00 = 15,000.00; nights 61–70 at 75%: 10 × 187.50 = 1,875.00
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 1, 1), 70, SAO_PAULO)], 4)
    assert [(ln.nights, ln.percentage, ln.amount) for ln in calc.lines] == [
        (60, D("100"), D("15000.00")), (10, D("75"), D("1875.00")), (4, D("100"), D("188.00"))]
    assert calc.lines[1].first_night == date(2026, 3, 2)  # night 61 of a stay from 1 January
    assert calc.total == D("17063.00")


def test_hundred_and_thirty_day_mission_crosses_day_one_hundred_and_twenty():
    # 60 × 250.00 = 15,000.00; 60 × 187.50 = 11,250.00; 10 × 150.00 (60%) = 1,500.00; + 188.00
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 1, 1), 130, SAO_PAULO)], 4)
    assert [(ln.kind, ln.nights, ln.rate, ln.percentage, ln.amount) for ln in calc.lines] == [
        ("dsa", 60, D("250.00"), D("100"), D("15000.00")),
        ("dsa", 60, D("250.00"), D("75"), D("11250.00")),
        ("dsa", 10, D("250.00"), D("60"), D("1500.00")),
        ("terminal", 4, D("47"), D("100"), D("188.00")),
    ]
    assert calc.total == D("27938.00")


def test_accommodation_provided_on_some_nights_removes_the_room_percentage():
    # Brasília 233.00 with room 48%: nights 1 and 4–5 at 100%, nights 2–3 at 52%
    # 233.00 + 2 × 121.16 + 2 × 233.00 = 233.00 + 242.32 + 466.00 = 941.32; + 188.00
    rate = NightlyRate(D("233.00"), D("48"))
    provided = {date(2026, 5, 5): Provision(accommodation=True), date(2026, 5, 6): Provision(accommodation=True)}
    calc = dsa.calculate([stay("Brasília, BR", date(2026, 5, 4), 5, rate)], 4, provisions=provided)
    assert calc.lines == (
        DsaLine("dsa", "Brasília, BR", 1, D("233.00"), D("100"), D("233.00"), date(2026, 5, 4), date(2026, 5, 4)),
        DsaLine("dsa", "Brasília, BR", 2, D("233.00"), D("52"), D("242.32"), date(2026, 5, 5), date(2026, 5, 6)),
        DsaLine("dsa", "Brasília, BR", 2, D("233.00"), D("100"), D("466.00"), date(2026, 5, 7), date(2026, 5, 8)),
        terminal(4, "188.00"),
    )
    assert calc.total == D("1129.32")


def test_accommodation_on_a_long_stay_applies_to_the_reduced_rate():
    # night 61 at 75% of 250.00 with the room (50%) provided: 37.5% → 93.75
    first = date(2026, 1, 1)
    calc = dsa.calculate([stay("São Paulo, BR", first, 61, SAO_PAULO)], 0,
                         provisions={first + timedelta(days=60): Provision(accommodation=True)})
    assert [(ln.nights, ln.percentage, ln.amount) for ln in calc.lines] == [
        (60, D("100"), D("15000.00")), (1, D("37.5"), D("93.75"))]
    assert calc.total == D("15093.75")


def test_two_locations_pay_each_their_own_rate():
    # São Paulo 2 nights × 250.00 = 500.00; Rio 3 nights × 240.00 = 720.00;
    # three legs (BSB→GRU→GIG→BSB) = 6 terminals × 47 = 282.00; total 1,502.00
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 4, 6), 2, SAO_PAULO),
                          stay("Rio de Janeiro, BR", date(2026, 4, 8), 3, RIO)], 6)
    assert calc.lines == (
        DsaLine("dsa", "São Paulo, BR", 2, D("250.00"), D("100"), D("500.00"), date(2026, 4, 6), date(2026, 4, 7)),
        DsaLine("dsa", "Rio de Janeiro, BR", 3, D("240.00"), D("100"), D("720.00"), date(2026, 4, 8), date(2026, 4, 10)),
        terminal(6, "282.00"),
    )
    assert calc.total == D("1502.00")


def test_a_line_is_rounded_once_to_the_cent():
    # 10 nights at 75% of 233.33 = 174.9975 a night; the line is 1,749.975 → 1,749.98
    # (rounding each night first would give 1,750.00)
    rate = NightlyRate(D("233.33"), D("50"))
    calc = dsa.calculate([stay("Santiago, CL", date(2026, 1, 1), 70, rate)], 0)
    assert calc.lines[1] == DsaLine("dsa", "Santiago, CL", 10, D("233.33"), D("75"), D("1749.98"),
                                    date(2026, 3, 2), date(2026, 3, 11))
    assert calc.lines[0].amount == D("13999.80")
    assert calc.total == D("15749.78")


def test_a_new_month_rate_starts_a_new_line():
    # 2 nights in January at 250.00, 1 in February at 260.00
    feb = NightlyRate(D("260.00"), D("50"))
    s = Stay("São Paulo, BR", date(2026, 1, 30), 3, {date(2026, 1, 1): SAO_PAULO, date(2026, 2, 1): feb})
    calc = dsa.calculate([s], 0)
    assert [(ln.nights, ln.rate, ln.amount) for ln in calc.lines] == [
        (2, D("250.00"), D("500.00")), (1, D("260.00"), D("260.00"))]
    assert calc.total == D("760.00")


def test_meal_deductions_default_to_nothing():
    provided = {date(2026, 3, 10): Provision(meals=frozenset({"lunch", "dinner"}))}
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 3, 10), 1, SAO_PAULO)], 0, provisions=provided)
    assert calc.lines[0].percentage == D("100") and calc.total == D("250.00")


def test_meal_deductions_are_configurable():
    # lunch 15% + dinner 20% provided on the first night: 65% of 250.00 = 162.50
    pol = DsaPolicy(meal_pct={"breakfast": D("5"), "lunch": D("15"), "dinner": D("20")})
    provided = {date(2026, 3, 10): Provision(meals=frozenset({"lunch", "dinner"}))}
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 3, 10), 2, SAO_PAULO)], 4, provisions=provided, policy=pol)
    assert [(ln.nights, ln.percentage, ln.amount) for ln in calc.lines] == [
        (1, D("65"), D("162.50")), (1, D("100"), D("250.00")), (4, D("100"), D("188.00"))]
    assert calc.total == D("600.50")


def test_long_stay_schedule_is_configurable():
    pol = DsaPolicy(schedule=((2, D(100)), (None, D(50))))
    calc = dsa.calculate([stay("São Paulo, BR", date(2026, 3, 10), 3, SAO_PAULO)], 0, policy=pol)
    assert [(ln.nights, ln.amount) for ln in calc.lines] == [(2, D("500.00")), (1, D("125.00"))]


@pytest.mark.parametrize("total, advance, balance", [
    ("938.00", "750.40", "187.60"),
    ("1129.32", "903.46", "225.86"),   # 903.456 → 903.46
    ("15749.78", "12599.82", "3149.96"),  # 12,599.824 → 12,599.82
    ("0.01", "0.01", "0.00"),
])
def test_advance_and_final_claim_settle_exactly_to_the_total(total, advance, balance):
    assert dsa.advance(D(total)) == D(advance)
    settlement = dsa.settle(D(total), D(total), dsa.advance(D(total)))
    assert settlement.balance == D(balance)
    assert settlement.advance_paid + settlement.balance == D(total)
    assert settlement.difference == D("0.00")


def test_a_claim_with_other_dates_shows_the_difference_and_what_is_left_to_pay():
    # estimate 938.00, advance 750.40; travelled one night fewer: 688.00, so 62.40 is recovered
    settlement = dsa.settle(D("938.00"), D("688.00"), D("750.40"))
    assert settlement.difference == D("-250.00")
    assert settlement.balance == D("-62.40")  # negative: the facility recovers 62.40
    assert settlement.advance_paid + settlement.balance == D("688.00")
