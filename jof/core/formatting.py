"""How JOF writes numbers and times for people: one place, used by every page, PDF,
notification and export.

The rules (stated in ``docs/architecture.md``, "Formatting"):

- **Amounts** (``money``): the ISO code, a space, then the number in the reader's locale
  with Babel: grouping, the locale's decimal mark, exactly the currency's decimals
  (USD 2, CLP 0), rounded half up. ``USD 12,880.00`` in English, ``BRL 84.652,30`` in
  Portuguese, ``USD -1,200.00`` when negative. The code and not the symbol, because the
  facility deals in several dollars (US$, R$, A$…) and its readers compare them.
- **Unit prices** (``unit_price``): grouped, at least two decimals and up to the four a
  unit price holds, so ``12,880.00`` and ``0.0125``. **Rates** (exchange rates,
  ``rate``): up to six decimals; **quantities**: up to four, no trailing zeros;
  **percentages**: up to four decimals and ``%``. Never exponent notation: ``Decimal``'s
  own ``str`` prints ``1.288E+4`` after ``normalize()``, so no template prints a
  ``Decimal`` by itself.
- **Times** (``local_dt``): always in the facility's time zone (not the reader's: the
  facility works on one clock and its deadlines are its own), in the locale's short
  format; deadlines and documents add the offset, ``(UTC-03:00)``. Text that outlives
  the request (notifications, refusal messages) uses ``facility_time``: ISO-like
  ``2026-12-10 18:00 (UTC-03:00)``.
- **Exports** (``plain``): machine-readable plain decimals (``-1234567.89``), never
  ``E+``; workbooks take the numbers themselves with a number format.

Outside a request (jobs, the command line) the locale is English unless given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from jof.core.money import CURRENCIES

UNIT_PRICE_PATTERN = "#,##0.00##"
RATE_PATTERN = "#,##0.00####"
QUANTITY_PATTERN = "#,##0.####"
PERCENT_PATTERN = "#,##0.####"
EMPTY = "—"


def current_locale(locale=None) -> str:
    """The locale asked for, else the request's (Flask-Babel), else English."""
    if locale:
        return str(locale)
    try:
        from flask import has_request_context
        from flask_babel import get_locale

        if has_request_context():
            found = get_locale()
            if found is not None:
                return str(found)
    except ImportError:  # pragma: no cover - Flask-Babel is a dependency
        pass
    return "en"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _number(value: Decimal, pattern: str, locale) -> str:
    return format_decimal(value, format=pattern, locale=current_locale(locale), decimal_quantization=True)


def currency_digits(currency: str) -> int:
    return CURRENCIES.get((currency or "").upper(), 2)


def amount(value, currency: str = "USD", locale=None) -> str:
    """The number of an amount without its code: ``12,880.00`` / ``12.880,00``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    places = currency_digits(currency)
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if number.is_zero():
        number = number.copy_abs()  # never "-0.00"
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return _number(number, pattern, locale)


def money(value, currency: str = "USD", locale=None) -> str:
    """An amount as people read it: ``USD 12,880.00``; ``—`` for none."""
    text = amount(value, currency, locale)
    return text if text == EMPTY else f"{(currency or 'USD').upper()} {text}"


def unit_price(value, currency: str | None = None, locale=None) -> str:
    """A unit price: two to four decimals, grouped (``12,880.00``, ``0.0125``)."""
    number = _decimal(value)
    if number is None:
        return ""
    text = _number(number, UNIT_PRICE_PATTERN, locale)
    return f"{currency.upper()} {text}" if currency else text


def rate(value, locale=None) -> str:
    """An exchange rate (units per USD): two to six decimals (``5.36``, ``0.912345``)."""
    number = _decimal(value)
    return EMPTY if number is None else _number(number, RATE_PATTERN, locale)


def quantity(value, locale=None) -> str:
    """A quantity: as many decimals as it has, up to four (``1,000``, ``2.5``)."""
    number = _decimal(value)
    return "" if number is None else _number(number, QUANTITY_PATTERN, locale)


def percent(value, locale=None) -> str:
    """A percentage given in percent (``2.5`` → ``2.5%``)."""
    number = _decimal(value)
    return EMPTY if number is None else _number(number, PERCENT_PATTERN, locale) + "%"


def plain(value) -> str:
    """A decimal for machines (CSV): ``-1234567.89``, never exponent notation."""
    number = _decimal(value)
    return "" if number is None else format(number, "f")


# --- time ------------------------------------------------------------------------------------


def _zone(zone=None):
    if zone is not None:
        return zone
    from jof.core.calendar import facility_zone

    return facility_zone()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def zone_label(moment: datetime, zone=None) -> str:
    """The facility's offset at that instant: ``UTC-03:00`` (``UTC`` when zero)."""
    offset = _aware(moment).astimezone(_zone(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_dt(value, zone: bool = False, locale=None, tz=None) -> str:
    """An instant in the facility's time zone, in the locale's short format; with
    ``zone=True`` followed by the offset: ``07/12/2026 12:30 (UTC-03:00)``."""
    if not value:
        return EMPTY
    if isinstance(value, date) and not isinstance(value, datetime):
        return local_date(value, locale)
    where = _zone(tz)
    text = format_datetime(_aware(value), "short", tzinfo=where, locale=current_locale(locale))
    return f"{text} ({zone_label(value, where)})" if zone else text


def local_date(value, locale=None) -> str:
    """A calendar date (already the facility's) in the locale's medium format; also an ISO
    date as a recorded payload keeps it (``"2026-12-01"``)."""
    if not value:
        return EMPTY
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone()).date()
    return format_date(value, "medium", locale=current_locale(locale))


def facility_time(value, tz=None) -> str:
    """An instant for text that outlives the request: ``2026-12-10 18:00 (UTC-03:00)``."""
    if not value:
        return EMPTY
    where = _zone(tz)
    return f"{_aware(value).astimezone(where):%Y-%m-%d %H:%M} ({zone_label(value, where)})"
