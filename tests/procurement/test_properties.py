"""Properties of the procurement calculators, for any input Hypothesis can think of:
bid ranking, the split of an award into purchase orders, and the pooled fee."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from jof.procurement.awards import split_award
from jof.procurement.evaluation import rank
from jof.procurement.fees import Member, share_fee

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CENT = Decimal("0.01")
cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) * CENT)
scores = st.one_of(st.none(), st.integers(min_value=0, max_value=10000).map(lambda c: Decimal(c) * CENT))


@st.composite
def bids(draw):
    """Bids with few distinct prices, scores and times, so ties are frequent."""
    n = draw(st.integers(min_value=0, max_value=8))
    ids = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=n, max_size=n, unique=True))
    prices = draw(st.lists(st.sampled_from(["0.00", "900.00", "950.00", "1000.00", "1000.01"]), min_size=n,
                           max_size=n))
    return [SimpleNamespace(
        id=i, total_usd=Decimal(p),
        technical_score=draw(st.sampled_from([None, Decimal("65"), Decimal("70"), Decimal("80"), Decimal("90")])),
        technically_compliant=draw(st.booleans()),
        submitted_at=T0 + timedelta(minutes=draw(st.integers(min_value=0, max_value=2))),
        supplier=SimpleNamespace(status=draw(st.sampled_from(["active", "active", "active", "suspended"]))),
    ) for i, p in zip(ids, prices, strict=True)]


def _ranking(rows):
    return sorted((r.bid.id, r.rank, r.considered, r.reason, r.total_points, r.winner) for r in rows)


WEIGHTS = {"technical_minimum": Decimal("70"), "technical_weight": Decimal("70"), "financial_weight": Decimal("30")}


@settings(max_examples=300, deadline=None)
@given(bids(), st.sampled_from(["cumulative", "lowest_price"]), st.randoms(use_true_random=False))
def test_the_ranking_does_not_depend_on_the_order_the_bids_are_listed_in(listed, method, rnd):
    shuffled = list(listed)
    rnd.shuffle(shuffled)
    first, lowest, winner = rank(listed, method=method, **WEIGHTS)
    again, lowest2, winner2 = rank(shuffled, method=method, **WEIGHTS)
    assert _ranking(first) == _ranking(again)
    assert lowest == lowest2 and (winner and winner.id) == (winner2 and winner2.id)


@settings(max_examples=300, deadline=None)
@given(bids(), st.sampled_from(["cumulative", "lowest_price"]))
def test_ties_go_to_the_higher_technical_score_then_the_earlier_bid_then_the_first_recorded(listed, method):
    rows, _lowest, _winner = rank(listed, method=method, **WEIGHTS)
    ranked = sorted((r for r in rows if r.considered), key=lambda r: r.rank)
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r.bid.total_usd > 0 for r in ranked)  # a price of nothing is never ranked

    def merit(r):  # higher is better
        return -r.total_points if method == "cumulative" else r.bid.total_usd

    for a, b in zip(ranked, ranked[1:], strict=False):
        assert merit(a) <= merit(b)
        if merit(a) == merit(b):
            sa, sb = a.bid.technical_score or 0, b.bid.technical_score or 0
            assert sa > sb or (sa == sb and (a.bid.submitted_at, a.bid.id) < (b.bid.submitted_at, b.bid.id))


@st.composite
def awards(draw):
    """Order lines (agency, line id, quantity × unit price) and the award: the bid's total,
    each line rounded once, as the bid records it."""
    n = draw(st.integers(min_value=1, max_value=12))
    agencies = draw(st.lists(st.sampled_from(["UNDP", "UNFPA", "UNESCO", "UNWOMEN", "UNOPS"]), min_size=n,
                             max_size=n))
    quantities = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=n, max_size=n))
    prices = draw(st.lists(st.integers(min_value=1, max_value=10**8), min_size=n, max_size=n))
    lines = [(a, i, Fraction(q, 100) * Fraction(p, 10**4))
             for i, (a, q, p) in enumerate(zip(agencies, quantities, prices, strict=True), start=1)]
    total = sum((Decimal(v.numerator) / Decimal(v.denominator) for _a, _i, v in lines), Decimal(0))
    rounded = sum(((Decimal(v.numerator) / Decimal(v.denominator)).quantize(CENT) for _a, _i, v in lines),
                  Decimal("0.00"))
    assert abs(rounded - total) < Decimal(n)  # sanity of the generator
    return lines, rounded


@settings(max_examples=300, deadline=None)
@given(awards())
def test_the_orders_of_an_award_sum_to_it_exactly_and_each_is_within_a_cent_of_its_share(award):
    lines, total = award
    amounts = split_award(total, lines)
    assert sum(amounts.values(), Decimal("0.00")) == total
    assert all(a == a.quantize(CENT) for a in amounts.values())
    weight = sum((v for _a, _i, v in lines), Fraction(0))
    for agency in {a for a, _i, _v in lines}:
        mine = sum((amounts[i] for a, i, _v in lines if a == agency), Decimal("0.00"))
        exact = Fraction(total) * sum((v for a, _i, v in lines if a == agency), Fraction(0)) / weight
        assert abs(Fraction(mine) - exact) < Fraction(1, 100)


@st.composite
def pools(draw):
    codes = draw(st.lists(st.sampled_from(["UNDP", "UNFPA", "UNESCO", "UNWOMEN", "UNOPS", "UNEP"]), min_size=1,
                          max_size=6, unique=True))
    members = [Member(c, draw(cents), draw(st.one_of(st.none(), cents.map(lambda d: d % 2000)))) for c in codes]
    return draw(cents.map(lambda d: d % 5000)), members


@settings(max_examples=500, deadline=None)
@given(pools(), st.randoms(use_true_random=False))
def test_a_pooled_fee_is_shared_to_the_cent_and_nobody_pays_more_than_alone(pool, rnd: random.Random):
    fee, members = pool
    shares = share_fee(fee, members)
    assert [s.code for s in shares] == [m.code for m in members]
    for s, m in zip(shares, members, strict=True):
        assert s.amount >= 0 and s.amount == s.amount.quantize(CENT)
        assert m.cap is None or s.amount <= m.cap
    total = sum((s.amount for s in shares), Decimal("0.00"))
    if any(not s.capped for s in shares):
        assert total == fee  # one fee, all of it billed
    else:
        assert total == sum((m.cap for m in members), Decimal("0.00")) <= fee  # the facility absorbs the rest
    shuffled = list(members)
    rnd.shuffle(shuffled)
    assert {s.code: s.amount for s in share_fee(fee, shuffled)} == {s.code: s.amount for s in shares}
