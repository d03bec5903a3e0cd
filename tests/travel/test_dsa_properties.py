"""Properties of the DSA schedule (``jof.travel.dsa``, DESIGN §4) for any stays, rates,
provided nights and meal percentages:

* the total is exactly the sum of its lines, and the DSA lines count every night once;
* one more night never lowers the total (monotone in nights);
* the total is never above the full rate of every night plus the terminal expenses:
  ``Σ nights × that night's full rate + terminals × USD 47``. Each line is
  rate × percentage × nights rounded once to the cent, its percentage is at most 100
  (the long-stay bands are 100/75/60 and deductions only lower it), and rates are whole
  cents, so rounding can never lift a line above its nights at the full rate. With no
  provisions and no stay past night 60 the total is exactly that bound.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jof.travel import dsa
from jof.travel.dsa import DsaPolicy, NightlyRate, Provision, Stay

CENT = Decimal("0.01")

amounts = st.integers(min_value=1, max_value=200_000).map(lambda c: Decimal(c) * CENT)  # 0.01 .. 2,000.00
percents = st.integers(min_value=0, max_value=10_000).map(lambda c: Decimal(c) * CENT)  # 0.00 .. 100.00
rates = st.builds(NightlyRate, amounts, percents)
meal_pcts = st.fixed_dictionaries({m: st.integers(0, 60).map(Decimal) for m in dsa.MEALS})
policies = st.one_of(st.just(dsa.DEFAULT_POLICY), st.builds(DsaPolicy, meal_pct=meal_pcts))


def months_of(first: date, nights: int) -> list[date]:
    """The first day of each month a stay touches (one more night included)."""
    out: list[date] = []
    for i in range(nights + 1):
        month = (first + timedelta(days=i)).replace(day=1)
        if month not in out:
            out.append(month)
    return out


@st.composite
def stays(draw, max_nights: int = 150) -> Stay:
    first = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    nights = draw(st.integers(0, max_nights))
    # a rate for every month the stay (and one more night) touches, some months alike
    pool = draw(st.lists(rates, min_size=1, max_size=3))
    table = {m: pool[i % len(pool)] for i, m in enumerate(months_of(first, nights))}
    return Stay(draw(st.sampled_from(["São Paulo, BR", "Rio de Janeiro, BR", "Buenos Aires, AR"])),
                first, nights, table)


@st.composite
def provisions_for(draw, trip: list[Stay]) -> dict[date, Provision]:
    nights = sorted({s.first_night + timedelta(days=i) for s in trip for i in range(s.nights + 1)})
    if not nights:
        return {}
    chosen = draw(st.lists(st.sampled_from(nights), max_size=10, unique=True))
    return {n: Provision(draw(st.booleans()), frozenset(draw(st.sets(st.sampled_from(dsa.MEALS)))))
            for n in chosen}


@st.composite
def trips(draw):
    trip = draw(st.lists(stays(), min_size=1, max_size=3))
    return trip, draw(st.integers(0, 12)), draw(provisions_for(trip)), draw(policies)


def full_rate_bound(trip: list[Stay], terminals: int, policy: DsaPolicy) -> Decimal:
    nights = sum((s.rates[(s.first_night + timedelta(days=i)).replace(day=1)].usd_per_night
                  for s in trip for i in range(s.nights)), Decimal(0))
    return nights + terminals * policy.terminal_usd


def longer(trip: list[Stay], k: int) -> list[Stay]:
    s = trip[k]
    return [*trip[:k], Stay(s.location, s.first_night, s.nights + 1, s.rates), *trip[k + 1:]]


@settings(max_examples=150, deadline=None)
@given(trips())
def test_the_total_is_the_sum_of_its_lines_and_every_night_is_counted_once(case):
    trip, terminals, provided, policy = case
    calc = dsa.calculate(trip, terminals, provisions=provided, policy=policy)
    assert calc.total == sum((ln.amount for ln in calc.lines), Decimal("0.00"))
    assert calc.total == calc.dsa_total + calc.terminal_total
    assert all(ln.amount == ln.amount.quantize(CENT) and ln.amount >= 0 for ln in calc.lines)
    assert sum(ln.nights for ln in calc.lines if ln.kind == "dsa") == sum(s.nights for s in trip)
    assert calc.terminal_total == terminals * policy.terminal_usd


@settings(max_examples=150, deadline=None)
@given(trips(), st.data())
def test_one_more_night_never_lowers_the_total(case, data):
    trip, terminals, provided, policy = case
    k = data.draw(st.integers(0, len(trip) - 1))
    before = dsa.calculate(trip, terminals, provisions=provided, policy=policy).total
    after = dsa.calculate(longer(trip, k), terminals, provisions=provided, policy=policy).total
    assert after >= before


@settings(max_examples=25, deadline=None)
@given(stays(max_nights=400), st.integers(0, 8))
def test_a_long_stay_grows_night_by_night_across_the_bands(stay, terminals):
    # every length from 0 to the drawn one: nights 60 → 61 and 120 → 121 change band
    totals = [dsa.calculate([Stay(stay.location, stay.first_night, n, stay.rates)], terminals).total
              for n in range(stay.nights + 1)]
    assert totals == sorted(totals)


@settings(max_examples=150, deadline=None)
@given(trips())
def test_the_total_is_never_above_every_night_at_the_full_rate_plus_terminals(case):
    trip, terminals, provided, policy = case
    calc = dsa.calculate(trip, terminals, provisions=provided, policy=policy)
    assert calc.total <= full_rate_bound(trip, terminals, policy)


@settings(max_examples=100, deadline=None)
@given(st.lists(stays(max_nights=60), min_size=1, max_size=3), st.integers(0, 12))
def test_without_provisions_or_long_stays_the_total_is_the_full_rate(trip, terminals):
    calc = dsa.calculate(trip, terminals)
    assert calc.total == full_rate_bound(trip, terminals, dsa.DEFAULT_POLICY)
