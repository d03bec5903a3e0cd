"""Money: ``Decimal`` end to end, stored as integers so SQL sums stay exact.

SQLite keeps a fractional ``NUMERIC`` as binary floating point (a ``SUM`` over a million
amounts drifted in the third decimal in STACK-NOTES), so amounts are stored as integer
minor units behind a column type that yields ``Decimal``. Values are never built from
floats, and a value with more decimals than its column holds is refused rather than
silently rounded: rounding is a business decision made at the edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from jof.core.db import db
from jof.core.timeutil import UTCDateTime, utcnow

CENT = Decimal("0.01")

#: ISO 4217 codes the facility deals in, with their minor units. The UN operational
#: rates cover many more; add codes here as the facility meets them.
CURRENCIES: dict[str, int] = {
    "USD": 2, "BRL": 2, "EUR": 2, "GBP": 2, "CHF": 2, "ARS": 2, "CLP": 0, "COP": 2,
    "MXN": 2, "PEN": 2, "UYU": 2, "PYG": 0, "BOB": 2, "JPY": 0, "CNY": 2, "INR": 2,
    "ZAR": 2, "CAD": 2, "AUD": 2, "DKK": 2, "NOK": 2, "SEK": 2, "KES": 2, "XOF": 0,
}


class MoneyError(ValueError):
    pass


def to_decimal(value) -> Decimal:
    """Turn user or wire input into a Decimal; floats are refused on purpose."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("amounts must be given as strings or integers, not floats")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str) and not value.isascii():
        # Decimal() reads any script's digits ("١٢٣" is 123): an amount is written 0–9 only,
        # the same rule as the API's DecimalString, wherever it arrives (forms, CSV imports).
        raise MoneyError(f"write amounts with the digits 0-9: {value!r}")
    else:
        try:
            result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise MoneyError(f"not a valid amount: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"not a valid amount: {value!r}")
    return result


def quantize(amount: Decimal, places: int = 2) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def check_currency(code: str) -> str:
    code = (code or "").upper()
    if code not in CURRENCIES:
        raise MoneyError(f"unknown currency code {code!r} (ISO 4217 expected)")
    return code


#: The range of a BIGINT, which holds the scaled integers.
_BIGINT_MAX = 2**63 - 1


class ScaledDecimal(TypeDecorator):
    """A Decimal with a fixed number of decimals, stored as a scaled integer.

    Refuses floats, non-finite values, more decimals than ``scale`` and values whose
    scaled integer would not fit a BIGINT.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2):
        super().__init__()
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = to_decimal(value)
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value} has more than {self.scale} decimals")
        if abs(scaled) > _BIGINT_MAX:
            raise MoneyError(f"{value} is too large to store")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) * self._unit).quantize(self._unit)

    def coerce_compared_value(self, op, value):
        return self


#: Amounts in a currency, to the cent.
Money = ScaledDecimal(2)
#: Unit prices may carry four decimals (bulk items priced per unit).
UnitPrice = ScaledDecimal(4)
#: Exchange rates carry six decimals.
Rate = ScaledDecimal(6)


#: The one ceiling on any amount JOF handles (a price, an award, a month's shared cost):
#: far above any real figure, and within a 64-bit column at six decimals.
MAX_AMOUNT = Decimal("1e12")


def check_amount(amount: Decimal, *, allow_negative: bool = False) -> str | None:
    """Why ``amount`` cannot be stored as a money amount, or None when it can."""
    if not amount.is_finite():
        return "Not a number."
    if not allow_negative and amount < 0:
        return "Must not be negative."
    if abs(amount) >= MAX_AMOUNT:
        return "The amount is too large."
    return None


def allocate(total: Decimal, weights: Sequence[Decimal | Fraction | int],
             keys: Sequence[str] | None = None) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, to the cent, summing exactly.

    The one largest-remainder split of JOF (cost sharing, purchase orders, pooled fees):
    each share is first floored to the cent; the cents left over go one each to the
    largest remainders, ties broken by ``keys`` (agency codes, which must be distinct)
    so the result never depends on input order. Weights may be Decimals, integers or
    exact Fractions; the arithmetic is rational, so no rounding of the proportions can
    upset the sum.
    """
    total = to_decimal(total)
    if total != quantize(total):
        raise MoneyError("total must be given to the cent")
    exact_weights = [w if isinstance(w, Fraction) else Fraction(to_decimal(w)) for w in weights]
    if any(w < 0 for w in exact_weights):
        raise MoneyError("weights must not be negative")
    if keys is None:
        keys = [f"{i:09d}" for i in range(len(exact_weights))]
    else:
        keys = list(keys)
        if len(keys) != len(exact_weights):
            raise MoneyError("one key per weight is needed")
        if len(set(keys)) != len(keys):
            raise MoneyError("keys must be distinct")
    weight_sum = sum(exact_weights, Fraction(0))
    if not exact_weights or weight_sum == 0:
        if total == 0:
            return [Decimal("0.00")] * len(exact_weights)
        raise MoneyError("cannot split a non-zero amount over zero weights")
    sign = -1 if total < 0 else 1
    cents = int(abs(total).scaleb(2))
    exact = [cents * w / weight_sum for w in exact_weights]
    floors = [math.floor(e) for e in exact]
    left = cents - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), keys[i]))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * f).scaleb(-2) for f in floors]


class ExchangeRate(db.Model):
    """UN operational rate of exchange: units of ``currency`` per one US dollar, per month."""

    __tablename__ = "exchange_rate"
    __table_args__ = (UniqueConstraint("currency", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    #: First day of the month the rate applies to.
    month: Mapped[date] = mapped_column(Date)
    units_per_usd: Mapped[Decimal] = mapped_column(Rate)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class MissingRate(MoneyError):
    def __init__(self, currency: str, month: date):
        super().__init__(
            f"no UN operational rate of exchange for {currency} in {month:%Y-%m}; "
            "an administrator must enter it before amounts in this currency can be converted"
        )
        self.currency = currency
        self.month = month


def rate_for(currency: str, on: date) -> Decimal:
    currency = check_currency(currency)
    if currency == "USD":
        return Decimal(1)
    month = on.replace(day=1)
    rate = db.session.scalar(
        select(ExchangeRate.units_per_usd).where(
            ExchangeRate.currency == currency, ExchangeRate.month == month
        )
    )
    if rate is None:
        raise MissingRate(currency, month)
    if rate <= 0:
        raise MoneyError(f"the rate of exchange for {currency} in {month:%Y-%m} is not positive")
    return rate


def to_usd(amount: Decimal, currency: str, on: date) -> Decimal:
    """Convert at the month's operational rate, to the cent; fails loudly without a rate."""
    return quantize(to_decimal(amount) / rate_for(currency, on))


def from_usd(amount: Decimal, currency: str, on: date) -> Decimal:
    return quantize(to_decimal(amount) * rate_for(currency, on), CURRENCIES[check_currency(currency)])
