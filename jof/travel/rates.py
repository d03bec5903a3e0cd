"""The DSA rate table (DESIGN §4): rates per location and effective month, the CSV
import, the rate in force for a night, and the DSA policy from the configuration."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app, has_app_context
from sqlalchemy import select

from jof.core import audit, authz, calendar
from jof.core.db import db
from jof.core.errors import Forbidden, ValidationFailed
from jof.core.money import MoneyError, quantize, to_decimal
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.travel import dsa
from jof.travel.models import ELSEWHERE, DsaRate, fold
from jof.travel.states import SERVICE_LINE

RATE_COLUMNS = ("city", "country", "month", "usd_per_night", "room_pct")


def policy() -> dsa.DsaPolicy:
    """The DSA policy in force: defaults of DESIGN §4, overridable in the configuration
    (``JOF_TRAVEL_ADVANCE_PCT``, ``JOF_TRAVEL_MEAL_PCT`` as {meal: percent},
    ``JOF_TRAVEL_TERMINAL_USD``, ``JOF_TRAVEL_LONG_STAY`` as [(last night, percent)])."""
    cfg = current_app.config if has_app_context() else {}
    base = dsa.DEFAULT_POLICY
    meals = {m: to_decimal(str(v)) for m, v in (cfg.get("JOF_TRAVEL_MEAL_PCT") or {}).items()}
    schedule = cfg.get("JOF_TRAVEL_LONG_STAY")
    return dsa.DsaPolicy(
        schedule=tuple((last, to_decimal(str(p))) for last, p in schedule) if schedule else base.schedule,
        terminal_usd=to_decimal(str(cfg.get("JOF_TRAVEL_TERMINAL_USD", base.terminal_usd))),
        meal_pct={**base.meal_pct, **meals},
        advance_pct=to_decimal(str(cfg.get("JOF_TRAVEL_ADVANCE_PCT", base.advance_pct))),
    )


def _rate_manager(user: User) -> None:
    authz.ensure_can_change(user)
    if not (user.has_role(Role.ADMIN, Role.MANAGER) or authz.is_officer_for(user, SERVICE_LINE)):
        raise Forbidden("Only the travel officer, the manager or an administrator may change DSA rates.")


def can_change_rates(user: User) -> bool:
    return not authz.is_read_only(user) and (
        user.has_role(Role.ADMIN, Role.MANAGER) or authz.is_officer_for(user, SERVICE_LINE))


def rates_query(country: str | None = None, city: str | None = None, month: str | date | None = None):
    """The rate table, optionally for a country, a city and a month (``YYYY-MM``)."""
    if isinstance(month, str):
        month = calendar.parse_month(month)
    stmt = select(DsaRate)
    if country:
        stmt = stmt.where(DsaRate.country == country.upper())
    if city:
        stmt = stmt.where(DsaRate.city_key == fold(city))
    if month:
        stmt = stmt.where(DsaRate.month == month.replace(day=1))
    return stmt.order_by(DsaRate.country, DsaRate.city_key, DsaRate.month.desc())


def _rate_errors(city: str, country: str, usd: str, room: str) -> tuple[dict, Decimal | None, Decimal | None]:
    errors: dict[str, list[str]] = {}
    if not city.strip():
        errors["city"] = ["A city is required (or Elsewhere for the country's fallback rate)."]
    elif len(city.strip()) > 100:
        errors["city"] = ["At most 100 characters."]
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        errors["country"] = ["ISO 3166 alpha-2 code, e.g. BR."]
    amount = pct = None
    # The magnitude first: quantizing a value like 1e400 raises InvalidOperation.
    try:
        amount = to_decimal(usd)
        if amount <= 0 or amount >= Decimal("1e9") or amount != quantize(amount):
            errors["usd_per_night"] = ["A positive amount in USD below 1,000,000,000 with at most 2 decimals."]
    except (MoneyError, InvalidOperation):
        errors["usd_per_night"] = ["Not a valid amount."]
    try:
        pct = to_decimal(room)
        if pct < 0 or pct > 100 or pct != quantize(pct):
            errors["room_pct"] = ["A percentage from 0 to 100 with at most 2 decimals."]
    except (MoneyError, InvalidOperation):
        errors["room_pct"] = ["Not a valid percentage."]
    return errors, amount, pct


def set_rate(actor: User | None, city: str, country: str, month: str | date, usd_per_night,
             room_pct) -> DsaRate:
    """Set (or correct) a location's rate from a month (``YYYY-MM`` or its first day)."""
    if actor is not None:
        _rate_manager(actor)
    if isinstance(month, str):
        month = calendar.parse_month(month)
    country = (country or "").strip().upper()
    errors, amount, pct = _rate_errors(city or "", country, str(usd_per_night), str(room_pct))
    if errors:
        raise ValidationFailed(errors)
    city = " ".join(city.split())
    month = month.replace(day=1)
    row = db.session.scalar(select(DsaRate).where(DsaRate.country == country, DsaRate.city_key == fold(city),
                                                  DsaRate.month == month))
    before = audit.snapshot(row) if row else None
    if row is None:
        row = DsaRate(city=city, city_key=fold(city), country=country, month=month,
                      created_by_id=actor.id if actor else None, created_at=utcnow())
        db.session.add(row)
    row.city = city
    row.usd_per_night = amount
    row.room_pct = pct
    audit.record(actor, "travel.dsa_rate", row, before=before, after=audit.snapshot(row))
    return row


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[dict] = field(default_factory=list)


def import_rates_csv(actor: User, text: str) -> ImportReport:
    """Import ``city,country,month,usd_per_night,room_pct`` rows (month as YYYY-MM).

    All or nothing: when any row is rejected nothing is written and the report names
    each rejected line and why, so the file can be fixed and sent again.
    """
    _rate_manager(actor)
    report = ImportReport()
    # A spreadsheet's "CSV UTF-8" starts with a byte order mark; it is not part of "city".
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not set(RATE_COLUMNS) <= {(f or "").strip() for f in reader.fieldnames}:
        raise ValidationFailed({"csv": [f"The CSV needs the columns {', '.join(RATE_COLUMNS)}."]})
    names = [(f or "").strip() for f in reader.fieldnames]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        # DictReader would silently keep the last of two same-named columns.
        raise ValidationFailed({"csv": [f"The column {n} appears more than once in the header." for n in twice]})
    parsed = []
    seen: dict[tuple, int] = {}
    for lineno, raw in enumerate(reader, start=2):
        if None in raw or any(raw.get(c) is None for c in RATE_COLUMNS):
            report.rejected.append({"line": lineno, "errors": {"_row": [
                f"Expected {len(RATE_COLUMNS)} columns: {', '.join(RATE_COLUMNS)}."]}})
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        country = row["country"].upper()
        errors, amount, pct = _rate_errors(row["city"], country, row["usd_per_night"], row["room_pct"])
        month = None
        try:
            month = calendar.parse_month(row["month"])
        except ValidationFailed as exc:
            errors.update(exc.errors)
        if not errors:
            key = (country, fold(row["city"]), month)
            if key in seen:
                errors["city"] = [f"Same location and month as line {seen[key]}."]
            else:
                seen[key] = lineno
        if errors:
            report.rejected.append({"line": lineno, "errors": errors})
            continue
        parsed.append((row["city"], country, month, amount, pct))
    if not parsed and not report.rejected:
        raise ValidationFailed({"csv": ["The CSV has no rows."]})
    if report.rejected:
        return report
    for city, country, month, amount, pct in parsed:
        set_rate(actor, city, country, month, amount, pct)
        report.imported += 1
    return report


def rate_for(city: str, country: str, month: date) -> DsaRate | None:
    """The rate in force for a month: the location's latest from that month or before,
    else the country's ``Elsewhere`` rate."""
    month = month.replace(day=1)
    for key in (fold(city), fold(ELSEWHERE)):
        row = db.session.scalar(select(DsaRate).where(
            DsaRate.country == country.upper(), DsaRate.city_key == key, DsaRate.month <= month,
        ).order_by(DsaRate.month.desc()).limit(1))
        if row is not None:
            return row
    return None


#: Illustrative rates for the Brazil pilot (USD per night, room %), effective January.
DEMO_RATES = [
    ("Brasília", "BR", "233.00", "48"),
    ("São Paulo", "BR", "271.00", "55"),
    ("Rio de Janeiro", "BR", "280.00", "56"),
    ("Salvador", "BR", "187.00", "45"),
    (ELSEWHERE, "BR", "171.00", "44"),
    ("Buenos Aires", "AR", "310.00", "57"),
    (ELSEWHERE, "AR", "160.00", "42"),
    ("Santiago", "CL", "254.00", "52"),
    ("Montevideo", "UY", "238.00", "50"),
]


def load_demo_rates(year: int | None = None) -> None:
    """Load the demo DSA rates once (a second load changes nothing)."""
    month = date(year or date.today().year, 1, 1)
    for city, country, usd, room in DEMO_RATES:
        exists = db.session.scalar(select(DsaRate.id).where(
            DsaRate.country == country, DsaRate.city_key == fold(city), DsaRate.month == month))
        if exists is None:
            set_rate(None, city, country, month, Decimal(usd), Decimal(room))
