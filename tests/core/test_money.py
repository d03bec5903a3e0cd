"""Money: Decimal end to end, exact SQL sums, largest-remainder splits, conversion."""

from __future__ import annotations

import random
import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from jof.core.db import db
from jof.core.money import (
    ExchangeRate,
    MissingRate,
    Money,
    MoneyError,
    Rate,
    ScaledDecimal,
    allocate,
    from_usd,
    to_decimal,
    to_usd,
)

# --- the column type -------------------------------------------------------------------


@pytest.fixture
def money_table(app):
    """A throwaway table with a real Money column, dropped afterwards."""
    metadata = MetaData()
    table = Table(f"money_probe_{uuid.uuid4().hex[:8]}", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("grp", Integer, nullable=False),
                  Column("amount", Money, nullable=False))
    with app.app_context():
        metadata.create_all(db.engine)
        try:
            yield table
        finally:
            metadata.drop_all(db.engine)


def test_sql_sum_of_100000_amounts_equals_the_decimal_sum(app, money_table):
    rng = random.Random(20250601)
    # Amounts with cents that binary floating point cannot hold (0.10, 0.07, ...), negatives
    # (credit notes) included, up to ten million.
    amounts = [Decimal(rng.randint(-1_000_000_00, 10_000_000_00)).scaleb(-2) for _ in range(100_000)]
    rows = [{"grp": i % 7, "amount": a} for i, a in enumerate(amounts)]
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(money_table), rows)
        with db.engine.connect() as conn:
            total, count = conn.execute(
                select(func.sum(money_table.c.amount), func.count())).one()
            by_group = dict(conn.execute(
                select(money_table.c.grp, func.sum(money_table.c.amount)).group_by(money_table.c.grp)).all())
    assert count == 100_000
    assert isinstance(total, Decimal)
    assert total == sum(amounts, Decimal(0))
    assert total.as_tuple().exponent == -2
    for grp in range(7):
        assert by_group[grp] == sum(amounts[grp::7], Decimal(0))


@pytest.mark.parametrize("value", [
    "0.00", "0.01", "-0.01", "-1234567.89", "19.99", "92233720368547758.07", "-92233720368547758.07",
])
def test_money_round_trips_exactly(app, money_table, value):
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(money_table), {"grp": 0, "amount": Decimal(value)})
        with db.engine.connect() as conn:
            stored = conn.execute(select(money_table.c.amount)).scalar_one()
            found = conn.execute(select(func.count()).where(money_table.c.amount == Decimal(value))).scalar_one()
    assert stored == Decimal(value)
    assert str(stored) == value
    assert found == 1


def test_money_accepts_integers_strings_and_trailing_zeros(app, money_table):
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(money_table), [{"grp": 0, "amount": 5}, {"grp": 1, "amount": "7.5"},
                                               {"grp": 2, "amount": Decimal("3.1000")}])
        with db.engine.connect() as conn:
            values = conn.execute(select(money_table.c.amount).order_by(money_table.c.grp)).scalars().all()
    assert [str(v) for v in values] == ["5.00", "7.50", "3.10"]


@pytest.mark.parametrize("value, message", [
    (Decimal("1.005"), "more than 2 decimals"),
    ("0.001", "more than 2 decimals"),
    (0.1, "not floats"),
    (1.0, "not floats"),
    (True, "not floats"),
    ("abc", "not a valid amount"),
    (Decimal("NaN"), "not a valid amount"),
    (Decimal("Infinity"), "not a valid amount"),
    (Decimal("92233720368547758.08"), "too large"),
])
def test_money_refuses_what_it_cannot_store_exactly(value, message):
    with pytest.raises(MoneyError, match=message):
        Money.process_bind_param(value, None)


def test_a_refused_amount_never_reaches_the_database(app, money_table):
    with app.app_context():
        with pytest.raises(StatementError) as info, db.engine.begin() as conn:
            conn.execute(insert(money_table), {"grp": 0, "amount": Decimal("10.125")})
        assert isinstance(info.value.orig, MoneyError)
        with db.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(money_table)).scalar_one() == 0


def test_other_scales():
    assert ScaledDecimal(4).process_bind_param(Decimal("1.2345"), None) == 12345
    assert ScaledDecimal(4).process_result_value(12345, None) == Decimal("1.2345")
    assert Rate.process_bind_param("5.123456", None) == 5123456
    with pytest.raises(MoneyError):
        Rate.process_bind_param("5.1234567", None)
    assert str(ScaledDecimal(0).process_result_value(-7, None)) == "-7"


def test_to_decimal_refuses_floats_and_keeps_strings_exact():
    assert to_decimal(" 12.30 ") == Decimal("12.30")
    assert to_decimal(3) == Decimal(3)
    with pytest.raises(MoneyError):
        to_decimal(12.3)
    with pytest.raises(MoneyError):
        to_decimal(None)


# --- largest remainder -----------------------------------------------------------------

weights_st = st.lists(
    st.builds(lambda n, places: Decimal(n).scaleb(-places),
              st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=4)),
    min_size=1, max_size=40,
).filter(lambda ws: sum(ws) > 0)
totals_st = st.integers(min_value=-10**12, max_value=10**12).map(lambda c: Decimal(c).scaleb(-2))


def keys_for(n: int, data) -> list[str]:
    return data.draw(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOP", min_size=1, max_size=5),
                              min_size=n, max_size=n, unique=True))


@settings(max_examples=300, deadline=None)
@given(total=totals_st, weights=weights_st, data=st.data())
def test_split_sums_exactly_and_each_share_is_within_a_cent(total, weights, data):
    keys = keys_for(len(weights), data)
    shares = allocate(total, weights, keys)
    assert len(shares) == len(weights)
    assert sum(shares, Decimal(0)) == total
    weight_sum = sum(Fraction(w) for w in weights)
    for share, weight in zip(shares, weights, strict=True):
        assert share == share.quantize(Decimal("0.01"))
        exact = Fraction(total) * Fraction(weight) / weight_sum
        assert abs(Fraction(share) - exact) < Fraction(1, 100)
        if weight == 0:
            assert share == 0


@settings(max_examples=300, deadline=None)
@given(total=totals_st, weights=weights_st, data=st.data())
def test_split_is_deterministic_and_independent_of_input_order(total, weights, data):
    keys = keys_for(len(weights), data)
    first = dict(zip(keys, allocate(total, weights, keys), strict=True))
    assert dict(zip(keys, allocate(total, weights, keys), strict=True)) == first
    order = data.draw(st.permutations(range(len(weights))))
    shuffled_keys = [keys[i] for i in order]
    shuffled = allocate(total, [weights[i] for i in order], shuffled_keys)
    assert dict(zip(shuffled_keys, shuffled, strict=True)) == first


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**6), data=st.data())
def test_split_breaks_ties_by_key(cents, data):
    """Equal weights: the leftover cents go to the smallest keys, whatever the order."""
    n = data.draw(st.integers(min_value=1, max_value=12))
    keys = keys_for(n, data)
    shares = dict(zip(keys, allocate(Decimal(cents).scaleb(-2), [Decimal(1)] * n, keys),
                      strict=True))
    base, extra = divmod(cents, n)
    for rank, key in enumerate(sorted(keys)):
        assert shares[key] == Decimal(base + (1 if rank < extra else 0)).scaleb(-2)


def test_split_examples():
    assert allocate(Decimal("100.00"), [1, 1, 1], ["UNFPA", "UNEP", "UNDP"]) == [
        Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]  # the cent to UNDP, first by code
    assert allocate(Decimal("-0.05"), [1, 1], ["b", "a"]) == [Decimal("-0.02"), Decimal("-0.03")]
    assert allocate(Decimal("0.00"), [0, 0]) == [Decimal("0.00"), Decimal("0.00")]
    assert allocate(Decimal("10.00"), [0, Decimal("0.5")]) == [Decimal("0.00"), Decimal("10.00")]


@pytest.mark.parametrize("total, weights, keys, message", [
    (Decimal("1.00"), [0, 0], None, "zero weights"),
    (Decimal("1.00"), [], None, "zero weights"),
    (Decimal("1.001"), [1], None, "to the cent"),
    (Decimal("1.00"), [1, -1], None, "negative"),
    (Decimal("1.00"), [1, 1], ["a", "a"], "distinct"),
    (Decimal("1.00"), [1, 1], ["a"], "one key per weight"),
    (Decimal("1.00"), [0.5, 0.5], None, "not floats"),
])
def test_split_refuses_bad_input(total, weights, keys, message):
    with pytest.raises(MoneyError, match=message):
        allocate(total, weights, keys)


# --- conversion at the month's UN operational rate ------------------------------------------


@pytest.fixture
def rates(session):
    session.add_all([
        ExchangeRate(currency="BRL", month=date(2025, 3, 1), units_per_usd=Decimal("5.000000")),
        ExchangeRate(currency="BRL", month=date(2025, 4, 1), units_per_usd=Decimal("5.500000")),
        ExchangeRate(currency="CLP", month=date(2025, 4, 1), units_per_usd=Decimal("950.123456")),
    ])
    session.commit()
    return session


def test_conversion_uses_the_rate_of_the_month(rates):
    assert to_usd(Decimal("100.00"), "BRL", date(2025, 3, 1)) == Decimal("20.00")
    assert to_usd(Decimal("100.00"), "BRL", date(2025, 3, 31)) == Decimal("20.00")
    assert to_usd(Decimal("100.00"), "brl", date(2025, 4, 15)) == Decimal("18.18")
    assert to_usd("1000000", "CLP", date(2025, 4, 30)) == Decimal("1052.49")
    assert from_usd(Decimal("18.18"), "BRL", date(2025, 4, 2)) == Decimal("99.99")
    assert from_usd(Decimal("1052.49"), "CLP", date(2025, 4, 2)) == Decimal("999995")  # no minor unit
    assert to_usd(Decimal("12.34"), "USD", date(2030, 1, 1)) == Decimal("12.34")


def test_a_missing_rate_fails_loudly(rates):
    with pytest.raises(MissingRate) as info:
        to_usd(Decimal("100.00"), "BRL", date(2025, 5, 1))
    assert info.value.currency == "BRL"
    assert info.value.month == date(2025, 5, 1)
    assert "no UN operational rate of exchange for BRL in 2025-05" in str(info.value)
    with pytest.raises(MissingRate, match="EUR in 2025-03"):
        to_usd(Decimal("1.00"), "EUR", date(2025, 3, 10))
    with pytest.raises(MoneyError, match="unknown currency"):
        to_usd(Decimal("1.00"), "XXX", date(2025, 3, 10))


def test_allocate_takes_exact_fractions_so_thirds_split_like_equal_weights():
    thirds = [Fraction(1, 3)] * 3
    assert allocate(Decimal("100.00"), thirds, ["UNDP", "UNEP", "UNFPA"]) == allocate(
        Decimal("100.00"), [1, 1, 1], ["UNDP", "UNEP", "UNFPA"]) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
