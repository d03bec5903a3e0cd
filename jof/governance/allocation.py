"""Splitting a shared cost among member agencies by the cost-sharing key, to the cent.

The exact share of each agency is computed with fractions (no rounding at all), then
rounded by largest remainder on integer cents: every agency gets the floor of its exact
share, and the cents still missing go one each to the largest remainders, ties to the
alphabetically first agency code. The shares therefore always sum to the pool, no share
is more than one cent from its exact value, and the result does not depend on order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from jof.core import money
from jof.core.errors import ValidationFailed
from jof.core.money import quantize, to_decimal

METHODS = ("equal", "headcount", "usage_count", "usage_value", "fixed")


@dataclass
class AgencyInputs:
    """What the key may weigh for one agency in the period."""

    code: str
    headcount: int = 0
    usage_count: int = 0
    usage_value: Decimal = Decimal("0")

    def value(self, method: str, fixed_weights: dict[str, str]) -> Fraction:
        if method == "equal":
            return Fraction(1)
        if method == "headcount":
            return Fraction(self.headcount)
        if method == "usage_count":
            return Fraction(self.usage_count)
        if method == "usage_value":
            return Fraction(to_decimal(self.usage_value))
        if method == "fixed":
            return Fraction(to_decimal(fixed_weights.get(self.code, "0")))
        raise ValueError(method)


@dataclass
class Share:
    code: str
    amount: Decimal
    explanation: dict = field(default_factory=dict)


#: A fixed weight is a plain number: 0 to a billion, at most six decimals.
MAX_WEIGHT = Decimal(10) ** 9
WEIGHT_PLACES = 6
PERCENT_PLACES = 2


def _bounded(value, *, low: Decimal, high: Decimal, places: int) -> Decimal | None:
    """``value`` as a Decimal if it is a finite number within [low, high] with at most
    ``places`` decimals, else None. Bounds are checked before anything scales with the
    exponent, so "1e999999999" is refused at once instead of hanging the worker."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = to_decimal(value)
    except ValueError:
        return None
    if not low <= number <= high:
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return None
    return number


def validate_components(components: dict) -> dict:
    """Check a key's definition; returns it normalised (percentages as strings).

    Percentages have at most two decimals, lie in (0, 100] and add up to exactly 100
    (summed as fractions, so no rounding can make a sum look right). Fixed weights are a
    mapping of agency code to a number from 0 to 10⁹ with at most six decimals.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(components, dict) or not components:
        raise ValidationFailed({"components": ["Give at least one method with its percentage."]})
    fixed_weights = components.get("fixed_weights")
    out: dict = {}
    total = Fraction(0)
    for method, pct in components.items():
        if method == "fixed_weights":
            continue
        if method not in METHODS:
            errors.setdefault("components", []).append(
                f"Unknown method {method!r}; use {', '.join(METHODS)}.")
            continue
        number = _bounded(pct, low=Decimal(0), high=Decimal(100), places=PERCENT_PLACES)
        if number is None or number == 0:
            errors.setdefault("components", []).append(
                f"{method}: the percentage must be a number above 0 and at most 100, "
                "with at most two decimals.")
            continue
        total += Fraction(number)
        out[method] = format(number, "f")
    if not errors and total != 100:
        shown = Decimal(total.numerator) / Decimal(total.denominator)
        errors["components"] = [f"Percentages must add up to 100 (they add up to {shown})."]
    if "fixed" in out:
        if not isinstance(fixed_weights, dict) or not fixed_weights:
            errors["fixed_weights"] = ["A fixed key needs a weight per agency: {\"UNDP\": \"3\", ...}."]
        else:
            weights = {}
            for code, weight in fixed_weights.items():
                number = _bounded(weight, low=Decimal(0), high=MAX_WEIGHT, places=WEIGHT_PLACES)
                if number is None:
                    errors.setdefault("fixed_weights", []).append(
                        f"{code}: a weight is a number from 0 to 1000000000 with at most six decimals.")
                else:
                    weights[str(code).strip().upper()] = format(number, "f")
            out["fixed_weights"] = weights
    elif fixed_weights is not None:
        errors["fixed_weights"] = ["Fixed weights belong to a key with a \"fixed\" method."]
    if errors:
        raise ValidationFailed(errors)
    return out


def allocate(amount: Decimal, components: dict, inputs: list[AgencyInputs]) -> list[Share]:
    """Split ``amount`` among the agencies in ``inputs`` by the key ``components``.

    A method whose inputs are all zero in the period (no usage at all, say) cannot
    weigh anyone, so its percentage is split equally; the explanation says so. A fixed
    weight given to an agency that is not in ``inputs`` (it left, or the code names no
    member) weighs nobody and the explanation says so too; when only such agencies have
    a weight, the key cannot split the cost at all and it is refused, never split
    equally in its place.
    """
    amount = to_decimal(amount)
    if amount != quantize(amount):
        raise ValidationFailed({"amount": ["Give the amount to the cent."]})
    if not inputs:
        raise ValidationFailed({"agencies": ["There are no member agencies to share the cost."]})
    components = validate_components(components)
    fixed_weights = components.get("fixed_weights", {})
    methods = {m: Fraction(to_decimal(p)) / 100 for m, p in components.items() if m != "fixed_weights"}
    codes = [i.code for i in inputs]
    weight = {c: Fraction(0) for c in codes}
    detail: dict[str, dict] = {c: {"inputs": {}, "weights": {}, "terms": {}} for c in codes}
    notes: list[str] = []
    if "fixed" in methods:
        notes.extend(_absent_weights(fixed_weights, codes))
    for method, pct in methods.items():
        values = {i.code: i.value(method, fixed_weights) for i in inputs}
        if any(v < 0 for v in values.values()):
            raise ValidationFailed({"inputs": [f"{method}: inputs must not be negative."]})
        total = sum(values.values(), Fraction(0))
        if total == 0:
            notes.append(f"{method}: every input is zero, so its {pct * 100}% is split equally.")
            values = {c: Fraction(1) for c in codes}
            total = Fraction(len(codes))
        for c in codes:
            part = pct * values[c] / total
            weight[c] += part
            detail[c]["inputs"][method] = f"{_fmt(values[c])} of {_fmt(total)}"
            detail[c]["weights"][method] = f"{_fmt(pct * 100)}%"
            # the same figures as plain decimals, for a reader's page to word in its language
            detail[c]["terms"][method] = {"percent": _fmt(pct * 100), "input": _fmt(values[c]),
                                          "total": _fmt(total)}
    sign = -1 if amount < 0 else 1
    cents = int(abs(amount) * 100)
    exact = {c: cents * weight[c] for c in codes}
    amounts = money.allocate(amount, [weight[c] for c in codes], codes)
    shares = []
    for c, share in zip(codes, amounts, strict=True):
        got = int(abs(share).scaleb(2))
        raw = Decimal(exact[c].numerator) / Decimal(exact[c].denominator) / 100
        shares.append(Share(
            code=c,
            amount=share,
            explanation={
                **detail[c],
                "share_of_pool": f"{_fmt(weight[c] * 100, 6)}%",
                "share_percent": _fmt(weight[c] * 100, 6),
                "raw_share": str(sign * raw.quantize(Decimal("0.000001"))),
                "rounding_adjustment": _adjust(sign, got, exact[c]),
                "notes": notes,
            },
        ))
    return shares


def _absent_weights(fixed_weights: dict[str, str], codes: list[str]) -> list[str]:
    """The note on fixed weights of agencies absent from the period, or a refusal when
    no agency present has a weight but absent ones do."""
    absent = sorted(c for c in fixed_weights if c not in set(codes))
    if not absent:
        return []
    weighed = [c for c in codes if to_decimal(fixed_weights.get(c, "0")) > 0]
    if not weighed and any(to_decimal(fixed_weights[c]) > 0 for c in absent):
        raise ValidationFailed({"fixed_weights": [
            f"The fixed weights are given only to {', '.join(absent)}, none of them a member agency "
            "sharing this cost: the key cannot split it."]})
    return [f"fixed: {', '.join(absent)} {'has' if len(absent) == 1 else 'have'} a weight in the key but "
            f"{'is' if len(absent) == 1 else 'are'} not a member agency sharing this cost; "
            f"{'its weight is' if len(absent) == 1 else 'their weights are'} not counted."]


def _adjust(sign: int, got_cents: int, exact_cents: Fraction) -> str:
    """Rounded share minus exact share, in currency units (six decimals)."""
    diff = (Fraction(got_cents) - exact_cents) / 100 * sign
    return str((Decimal(diff.numerator) / Decimal(diff.denominator)).quantize(Decimal("0.000001")))


def _fmt(value: Fraction, places: int = 4) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return str(d.quantize(Decimal(1).scaleb(-places))).rstrip("0").rstrip(".")
