"""Largest-remainder allocation of a shared cost by the cost-sharing key (DESIGN §7).

The reference below recomputes every agency's exact share with fractions, independently
of :func:`jof.governance.allocation.allocate`, and the properties compare against it.
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jof.core.errors import ValidationFailed
from jof.governance.allocation import METHODS, AgencyInputs, allocate, validate_components

CENT = Fraction(1, 100)
PROPERTY = settings(max_examples=250, deadline=None)

codes = st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=2, max_size=8),
                 min_size=1, max_size=12, unique=True)
amounts = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) / 100)
signed_amounts = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c) / 100)


@st.composite
def agency_inputs(draw):
    names = draw(codes)
    return [AgencyInputs(
        code=c,
        headcount=draw(st.integers(0, 5000)),
        usage_count=draw(st.integers(0, 400)),
        usage_value=Decimal(draw(st.integers(0, 10**10))) / 100,
    ) for c in names]


@st.composite
def keys(draw, inputs):
    """A key of 1 to 5 methods whose percentages (two decimals at most) add up to 100."""
    methods = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=5, unique=True))
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=len(methods) - 1,
                                max_size=len(methods) - 1, unique=True)))
    bounds = [0, *cuts, 10000]
    components: dict = {m: str(Decimal(hi - lo) / 100) for m, lo, hi in zip(methods, bounds, bounds[1:], strict=False)}
    if "fixed" in methods:
        components["fixed_weights"] = {i.code: str(draw(st.integers(0, 50))) for i in inputs}
    return components


def exact_shares(amount: Decimal, components: dict, inputs: list[AgencyInputs]) -> dict[str, Fraction]:
    """Each agency's unrounded share, the DESIGN §7 way (a method nobody uses splits equally)."""
    total_amount = Fraction(amount)
    weights = {i.code: Fraction(0) for i in inputs}
    fixed = components.get("fixed_weights", {})
    for method, pct in components.items():
        if method == "fixed_weights":
            continue
        values = {
            i.code: Fraction({"equal": 1, "headcount": i.headcount, "usage_count": i.usage_count,
                              "usage_value": i.usage_value, "fixed": Decimal(fixed.get(i.code, "0"))}[method])
            for i in inputs
        }
        total = sum(values.values())
        if total == 0:
            values = dict.fromkeys(values, Fraction(1))
            total = len(values)
        for code, value in values.items():
            weights[code] += Fraction(Decimal(pct)) / 100 * value / total
    return {code: total_amount * w for code, w in weights.items()}


def by_code(shares) -> dict[str, Decimal]:
    return {s.code: s.amount for s in shares}


@PROPERTY
@given(data=st.data(), amount=amounts)
def test_shares_are_non_negative_to_the_cent_and_sum_exactly_to_the_pool(data, amount):
    inputs = data.draw(agency_inputs())
    key = data.draw(keys(inputs))
    shares = allocate(amount, key, inputs)
    assert sorted(s.code for s in shares) == sorted(i.code for i in inputs)
    assert all(s.amount >= 0 for s in shares)
    assert all(s.amount == s.amount.quantize(Decimal("0.01")) for s in shares)
    assert sum(s.amount for s in shares) == amount


@PROPERTY
@given(data=st.data(), amount=signed_amounts)
def test_each_share_is_within_one_cent_of_its_exact_proportion(data, amount):
    inputs = data.draw(agency_inputs())
    key = data.draw(keys(inputs))
    exact = exact_shares(amount, key, inputs)
    shares = allocate(amount, key, inputs)
    assert sum(s.amount for s in shares) == amount
    for s in shares:
        assert abs(Fraction(s.amount) - exact[s.code]) < CENT, (s.code, s.amount, exact[s.code])
        # A credit (negative pool) is split the same way, sign for sign.
        assert (s.amount <= 0) if amount < 0 else (s.amount >= 0)


@PROPERTY
@given(data=st.data(), amount=signed_amounts)
def test_an_equal_key_never_differs_by_more_than_one_cent_and_the_extra_cents_go_by_agency_code(data, amount):
    inputs = data.draw(agency_inputs())
    shares = by_code(allocate(amount, {"equal": "100"}, inputs))
    assert max(shares.values()) - min(shares.values()) <= Decimal("0.01")
    # Ties (every remainder is equal) go to the alphabetically first codes.
    ordered = [abs(shares[c]) for c in sorted(shares)]
    assert ordered == sorted(ordered, reverse=True)


@PROPERTY
@given(data=st.data(), amount=signed_amounts, seed=st.integers(0, 2**32))
def test_allocation_is_deterministic_and_independent_of_input_order(data, amount, seed):
    inputs = data.draw(agency_inputs())
    key = data.draw(keys(inputs))
    first = allocate(amount, key, inputs)
    shuffled = list(inputs)
    random.Random(seed).shuffle(shuffled)
    again = allocate(amount, key, shuffled)
    assert by_code(first) == by_code(again)
    assert {s.code: s.explanation for s in first} == {s.code: s.explanation for s in again}
    assert by_code(allocate(amount, key, inputs)) == by_code(first)


@PROPERTY
@given(data=st.data(), amount=amounts)
def test_a_zero_input_gets_nothing_when_someone_else_has_one(data, amount):
    inputs = data.draw(agency_inputs())
    for method, attr in (("headcount", "headcount"), ("usage_count", "usage_count")):
        if sum(getattr(i, attr) for i in inputs) == 0:
            continue
        shares = by_code(allocate(amount, {method: "100"}, inputs))
        for i in inputs:
            if getattr(i, attr) == 0:
                assert shares[i.code] == 0


def test_three_way_split_of_a_dollar_gives_the_odd_cent_to_the_first_code():
    inputs = [AgencyInputs("UNFPA"), AgencyInputs("UNDP"), AgencyInputs("UNEP")]
    shares = by_code(allocate(Decimal("1.00"), {"equal": "100"}, inputs))
    assert shares == {"UNDP": Decimal("0.34"), "UNEP": Decimal("0.33"), "UNFPA": Decimal("0.33")}


def test_mixed_key_explains_inputs_weights_raw_share_and_rounding():
    inputs = [AgencyInputs("UNDP", headcount=120), AgencyInputs("UNEP", headcount=15),
              AgencyInputs("UNFPA", headcount=35)]
    shares = {s.code: s for s in allocate(Decimal("1000.00"), {"equal": "40", "headcount": "60"}, inputs)}
    undp = shares["UNDP"].explanation
    assert undp["inputs"] == {"equal": "1 of 3", "headcount": "120 of 170"}
    assert undp["weights"] == {"equal": "40%", "headcount": "60%"}
    # 1000 × (0.4/3 + 0.6 × 120/170) = 556.8627…
    assert undp["raw_share"] == "556.862745"
    assert shares["UNDP"].amount == Decimal("556.86")
    assert undp["rounding_adjustment"] == "-0.002745"
    assert sum(s.amount for s in shares.values()) == Decimal("1000.00")


def test_a_method_nobody_used_is_split_equally_and_says_so():
    inputs = [AgencyInputs("UNDP"), AgencyInputs("UNEP")]
    shares = allocate(Decimal("10.00"), {"usage_count": "100"}, inputs)
    assert by_code(shares) == {"UNDP": Decimal("5.00"), "UNEP": Decimal("5.00")}
    assert any("split equally" in n for n in shares[0].explanation["notes"])


@pytest.mark.parametrize("key, field", [
    ({"equal": "50", "headcount": "40"}, "components"),
    ({"equal": "100", "shoe_size": "0"}, "components"),
    ({"fixed": "100"}, "fixed_weights"),
    ({}, "components"),
])
def test_an_invalid_key_is_refused(key, field):
    with pytest.raises(ValidationFailed) as exc:
        allocate(Decimal("10.00"), key, [AgencyInputs("UNDP")])
    assert field in exc.value.errors


def test_an_amount_below_the_cent_is_refused():
    with pytest.raises(ValidationFailed):
        allocate(Decimal("10.001"), {"equal": "100"}, [AgencyInputs("UNDP")])


@pytest.mark.parametrize("key, field", [
    ({"fixed": "100", "fixed_weights": ["UNDP", "3"]}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": "UNDP=3"}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "1e5000"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "1e999999999"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "1000000000.5"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "0.0000001"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "NaN"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": "-1"}}, "fixed_weights"),
    ({"fixed": "100", "fixed_weights": {"UNDP": ["3"]}}, "fixed_weights"),
    ({"equal": "100", "fixed_weights": {"UNDP": "3"}}, "fixed_weights"),
    ({"equal": "100", "headcount": "1e-40"}, "components"),
    ({"equal": "99.999", "headcount": "0.001"}, "components"),
    ({"equal": "150", "headcount": "-50"}, "components"),
    ({"equal": "1e2"}, None),  # 100 written otherwise is still 100
    ({"equal": 100.0}, "components"),  # floats are never money nor percentages
    ({"equal": ["100"]}, "components"),
    ({"equal": "Infinity"}, "components"),
])
def test_a_key_out_of_bounds_is_refused_before_it_can_break_an_allocation(key, field):
    if field is None:
        assert validate_components(key) == {"equal": "100"}
        return
    with pytest.raises(ValidationFailed) as exc:
        validate_components(key)
    assert field in exc.value.errors


def test_the_bounds_of_a_key_themselves_are_accepted():
    key = validate_components({"fixed": "99.99", "equal": "0.01",
                               "fixed_weights": {"undp": "1000000000", "unep": "0.000001", "unfpa": 0}})
    assert key == {"fixed": "99.99", "equal": "0.01",
                   "fixed_weights": {"UNDP": "1000000000", "UNEP": "0.000001", "UNFPA": "0"}}
    shares = allocate(Decimal("100.00"), key, [AgencyInputs("UNDP"), AgencyInputs("UNEP"), AgencyInputs("UNFPA")])
    assert sum(s.amount for s in shares) == Decimal("100.00")
