"""Travel rules (DESIGN §4): filing trips, the DSA estimate and claim, the facility's
steps, and the DSA rate table.

Services take the acting user, never commit, and audit in the same transaction. Status
changes go through :func:`jof.core.workflow.perform`; the travel details those steps
need (a quote, the ticket, the actual itinerary, a cancellation fee) are handed to the
transition hook, which writes them inside the engine's savepoint, so a refused move
leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import and_, select

from jof.core import audit, authz, charges, workflow
from jof.core.db import db
from jof.core.errors import Forbidden, NotFound, ValidationFailed
from jof.core.money import MoneyError, check_currency, quantize, to_decimal, to_usd
from jof.core.people import Facility, Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status
from jof.travel import dsa
from jof.travel.models import (
    ELSEWHERE,
    TRAVEL_CLASSES,
    DsaRate,
    TravelLeg,
    TravelProvision,
    TravelQuote,
    TravelRequest,
)
from jof.travel.states import SERVICE_LINE, TYPE

#: Trips that block another trip of the same traveller at the same time.
APPROVED_STATES = (Status.APPROVED, Status.IN_PROGRESS, Status.COMPLETED)
MAX_LEGS = 12
#: Itinerary dates are accepted from this many days ago (a claim filed late) ...
WINDOW_PAST_DAYS = 2 * 366
#: ... to this many days ahead; beyond that no trip is planned, and dates near year 9999
#: would overflow in time-zone arithmetic.
WINDOW_FUTURE_DAYS = 5 * 366
#: The longest trip, first departure to last arrival (an assignment longer than this is
#: not a trip on DSA).
MAX_TRIP_NIGHTS = 400
#: Stages after the ticket was issued: cancelling then costs a fee.
TICKETED_STAGES = ("ticketed", "travelled", "claimed", "settled")


# --- configuration ---------------------------------------------------------------------


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


def facility_tz() -> ZoneInfo:
    facility = db.session.get(Facility, 1)
    return ZoneInfo(facility.time_zone if facility else "UTC")


def fold(city: str) -> str:
    """``São  Paulo`` → ``sao paulo``: how cities are matched against the rate table."""
    text = unicodedata.normalize("NFKD", city or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def aware(value: datetime, tz: ZoneInfo) -> datetime:
    """Itinerary times without an offset are read in the facility's time zone."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


# --- DSA rates -------------------------------------------------------------------------


def _rate_manager(user: User) -> None:
    authz.ensure_can_change(user)
    if not (user.has_role(Role.ADMIN, Role.MANAGER) or authz.is_officer_for(user, SERVICE_LINE)):
        raise Forbidden("Only the travel officer, the manager or an administrator may change DSA rates.")


def rates_query(country: str | None = None, city: str | None = None, month: date | None = None):
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


#: Rate months: YYYY-MM from 2000-01 to 2099-12.
MONTH_RE = re.compile(r"(20\d{2})-(0[1-9]|1[0-2])", re.ASCII)
MONTH_MESSAGE = "Expected YYYY-MM, from 2000-01 to 2099-12."


def parse_month(text: str, field_name: str = "month") -> date:
    """``2026-03`` → 1 March 2026; anything else is refused for ``field_name``."""
    found = MONTH_RE.fullmatch((text or "").strip())
    if found is None:
        raise ValidationFailed({field_name: [MONTH_MESSAGE]})
    return date(int(found[1]), int(found[2]), 1)


def set_rate(actor: User | None, city: str, country: str, month: date, usd_per_night, room_pct) -> DsaRate:
    """Set (or correct) a location's rate from a month."""
    if actor is not None:
        _rate_manager(actor)
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


RATE_COLUMNS = ("city", "country", "month", "usd_per_night", "room_pct")


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
            month = parse_month(row["month"])
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


# --- itinerary -------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    origin_city: str
    origin_country: str
    destination_city: str
    destination_country: str
    depart_at: datetime
    arrive_at: datetime


def _fmt(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def date_window() -> tuple[date, date]:
    """The first and last day an itinerary or a provided night may fall on."""
    today = _local_today()
    return today - timedelta(days=WINDOW_PAST_DAYS), today + timedelta(days=WINDOW_FUTURE_DAYS)


def _window_message(first: date, last: date) -> str:
    return f"Must be between {first.isoformat()} and {last.isoformat()}."


def legs_from(data: Iterable[dict], prefix: str = "legs") -> list[Leg]:
    """Check an itinerary: every date within :func:`date_window`, legs chain in place and
    time, each arrives after it departs, the whole trip at most ``MAX_TRIP_NIGHTS``."""
    tz = facility_tz()
    errors: dict[str, list[str]] = {}
    legs: list[Leg] = []
    data = list(data or [])
    if not data:
        raise ValidationFailed({prefix: ["Give at least one leg."]})
    if len(data) > MAX_LEGS:
        raise ValidationFailed({prefix: [f"At most {MAX_LEGS} legs."]})
    # The window is checked on the dates as given, before any time-zone arithmetic
    # (which overflows near year 1 or 9999).
    first, last = date_window()
    for i, raw in enumerate(data):
        for name in ("depart_at", "arrive_at"):
            if not first <= raw[name].date() <= last:
                errors[f"{prefix}.{i}.{name}"] = [_window_message(first, last)]
    if errors:
        raise ValidationFailed(errors, "The itinerary has dates outside the accepted window.")
    for i, raw in enumerate(data):
        leg = Leg(" ".join(raw["origin_city"].split()), raw["origin_country"].upper(),
                  " ".join(raw["destination_city"].split()), raw["destination_country"].upper(),
                  aware(raw["depart_at"], tz), aware(raw["arrive_at"], tz))
        where = f"{prefix}.{i}"
        if (fold(leg.origin_city), leg.origin_country) == (fold(leg.destination_city), leg.destination_country):
            errors[f"{where}.destination_city"] = [f"Leg {i + 1} starts and ends in the same place."]
        if leg.arrive_at <= leg.depart_at:
            errors[f"{where}.arrive_at"] = [
                f"Leg {i + 1} arrives ({_fmt(leg.arrive_at, tz)}) before it departs ({_fmt(leg.depart_at, tz)})."]
        if legs:
            prev = legs[-1]
            if (fold(prev.destination_city), prev.destination_country) != (fold(leg.origin_city), leg.origin_country):
                errors[f"{where}.origin_city"] = [
                    f"Leg {i + 1} must start where leg {i} ends ({prev.destination_city}, {prev.destination_country})."]
            if leg.depart_at < prev.arrive_at:
                errors[f"{where}.depart_at"] = [
                    f"Leg {i + 1} departs ({_fmt(leg.depart_at, tz)}) before leg {i} arrives "
                    f"({_fmt(prev.arrive_at, tz)})."]
        legs.append(leg)
    if not errors and (legs[-1].arrive_at.astimezone(tz).date()
                       - legs[0].depart_at.astimezone(tz).date()).days > MAX_TRIP_NIGHTS:
        errors[f"{prefix}.{len(legs) - 1}.arrive_at"] = [
            f"A trip lasts at most {MAX_TRIP_NIGHTS} nights from the first departure to the last arrival."]
    if errors:
        raise ValidationFailed(errors, "The itinerary does not hold together; see the messages per leg.")
    return legs


def provisions_from(data: Iterable[dict] | None, prefix: str = "provisions") -> dict[date, dsa.Provision]:
    out: dict[date, dsa.Provision] = {}
    errors: dict[str, list[str]] = {}
    window = date_window()
    for i, raw in enumerate(data or []):
        first, last = raw["from_night"], raw.get("to_night") or raw["from_night"]
        outside = [n for n, d in (("from_night", first), ("to_night", last)) if not window[0] <= d <= window[1]]
        if outside:
            for name in outside:
                errors[f"{prefix}.{i}.{name}"] = [_window_message(*window)]
            continue
        if last < first:
            errors[f"{prefix}.{i}.to_night"] = ["Must not be before the first night."]
            continue
        if (last - first).days > 400:
            errors[f"{prefix}.{i}.to_night"] = ["At most 400 nights."]
            continue
        meals = frozenset(m for m in dsa.MEALS if raw.get(m))
        prov = dsa.Provision(bool(raw.get("accommodation")), meals)
        day = first
        while day <= last:
            if day in out:
                errors[f"{prefix}.{i}.from_night"] = [f"The night of {day} is given twice."]
                break
            out[day] = prov
            day += timedelta(days=1)
    if errors:
        raise ValidationFailed(errors)
    return out


@dataclass(frozen=True)
class StayPlan:
    leg_index: int  #: the leg that arrives at the stay's location
    city: str
    country: str
    first_night: date
    nights: int


def stays_of(legs: list[Leg], *, with_home: bool = False) -> list[StayPlan]:
    """Nights between arriving somewhere and leaving it, in the facility's calendar.

    The night of day D belongs to the place the traveller is at the end of D: a stay
    runs from the arrival day to the day before departure. The last leg's destination is
    the traveller's home (or new duty station) and pays nothing, as do nights back home
    between two parts of a trip (``with_home`` keeps them, to count journeys).

    Days are dated in the **facility's** time zone, not the destination's: a traveller
    who lands in a place several hours behind the facility late in the evening may have
    that night dated to the next day (known limitation, see docs/travel.md)."""
    tz = facility_tz()
    out = []
    home = (fold(legs[0].origin_city), legs[0].origin_country) if legs else None
    for i in range(len(legs) - 1):
        arrive = legs[i].arrive_at.astimezone(tz).date()
        leave = legs[i + 1].depart_at.astimezone(tz).date()
        nights = (leave - arrive).days
        at_home = (fold(legs[i].destination_city), legs[i].destination_country) == home
        if nights > 0 and (with_home or not at_home):  # nights back home pay no DSA
            out.append(StayPlan(i, legs[i].destination_city, legs[i].destination_country, arrive, nights))
    return out


def calculate(legs: list[Leg], provisions: dict[date, dsa.Provision] | None = None, *,
              needs_dsa: bool = True, prefix: str = "legs") -> dsa.DsaCalculation:
    """Resolve the rates of each stay from the table and run the pure calculation."""
    if not needs_dsa:
        return dsa.DsaCalculation((), Decimal("0.00"))
    pol = policy()
    stays: list[dsa.Stay] = []
    errors: dict[str, list[str]] = {}
    for plan in stays_of(legs):
        rates: dict[date, dsa.NightlyRate] = {}
        label = None
        month = plan.first_night.replace(day=1)
        last = plan.first_night + timedelta(days=plan.nights - 1)
        while month <= last:
            row = rate_for(plan.city, plan.country, month)
            if row is None:
                errors.setdefault(f"{prefix}.{plan.leg_index}.destination_city", []).append(
                    f"No DSA rate for {plan.city}, {plan.country} in {month:%Y-%m} and no "
                    f"'{ELSEWHERE}' rate for {plan.country}: the travel officer must add one first.")
                break
            rates[month] = dsa.NightlyRate(row.usd_per_night, row.room_pct)
            if label is None:
                label = plan.city if row.city_key == fold(plan.city) else f"{plan.city} ({ELSEWHERE})"
            month = (month + timedelta(days=32)).replace(day=1)
        stays.append(dsa.Stay(f"{label}, {plan.country}", plan.first_night, plan.nights, rates))
    if errors:
        raise ValidationFailed(errors, "A DSA rate is missing for a place of the itinerary.")
    return dsa.calculate(stays, pol.terminals_per_journey * journeys_of(legs), provisions=provisions, policy=pol)


def journeys_of(legs: list[Leg]) -> int:
    """Journeys between the places where the traveller actually stops, for terminal expenses.

    The stops are home (where the trip starts and ends) and each stay of at least one
    night; a connection the same day, or any stop without a night, is transit and pays
    no terminals. BSB → GRU → EZE (3 nights) → GRU → BSB with same-day connections at
    GRU is two journeys (BSB → EZE, EZE → BSB), so four terminals, as a plain return
    trip. A round trip with no night away (a day trip) is still two journeys, out and
    back: the place visited is where the traveller stops that day.
    """
    journeys = len(stays_of(legs, with_home=True)) + 1
    home, end = legs[0], legs[-1]
    if journeys == 1 and (fold(end.destination_city), end.destination_country) == (
            fold(home.origin_city), home.origin_country):
        journeys = 2
    return journeys


def estimate(data: dict) -> dict:
    """The DSA estimate of an itinerary, without writing anything."""
    legs = legs_from(data.get("legs"))
    calc = calculate(legs, provisions_from(data.get("provisions")), needs_dsa=data.get("needs_dsa", True))
    return {"lines": list(calc.lines), "total": calc.total, "advance": dsa.advance(calc.total, policy())}


# --- filing ----------------------------------------------------------------------------


def overlapping_trip(tr: TravelRequest, starts: datetime | None = None, ends: datetime | None = None,
                     agency_id: int | None = None) -> TravelRequest | None:
    """Another approved trip of the same traveller that overlaps this one in time."""
    starts = starts or tr.starts_at
    ends = ends or tr.ends_at
    same = (TravelRequest.traveller_id == tr.traveller_id) if tr.traveller_id else and_(
        TravelRequest.traveller_key == tr.traveller_key,
        ServiceRequest.agency_id == (agency_id or tr.request.agency_id))
    stmt = (select(TravelRequest).join(ServiceRequest, ServiceRequest.id == TravelRequest.request_id)
            .where(ServiceRequest.status.in_(APPROVED_STATES), TravelRequest.starts_at < ends,
                   TravelRequest.ends_at > starts, same))
    if tr.id is not None:
        stmt = stmt.where(TravelRequest.id != tr.id)
    return db.session.scalars(stmt.order_by(TravelRequest.starts_at).limit(1)).first()


def overlap_message(other: TravelRequest) -> str:
    tz = facility_tz()
    return (f"{other.traveller_name} already has an approved trip at that time: "
            f"{other.request.reference} ({_fmt(other.starts_at, tz)} to {_fmt(other.ends_at, tz)}).")


def _traveller(user: User, data: dict) -> tuple[User | None, str]:
    email = (data.get("traveller_email") or "").strip().lower()
    name = " ".join((data.get("traveller_name") or "").split())
    if email:
        person = db.session.scalar(select(User).where(User.email == email))
        if person is None or person.agency_id != user.agency_id:
            raise ValidationFailed({"traveller_email": ["No staff member of your agency has this e-mail."]})
        return person, name or person.name
    if name:
        return None, name
    return user, user.name


def create_travel(user: User, data: dict) -> TravelRequest:
    """File a travel request (a draft, or submitted at once with ``submit``).

    Everything is checked before anything is written: the itinerary, the provisions,
    the rates of every place, the traveller's other approved trips."""
    authz.ensure_can_change(user)
    legs = legs_from(data.get("legs"))
    provisions = provisions_from(data.get("provisions"))
    if legs[0].depart_at <= utcnow():
        raise ValidationFailed({"legs.0.depart_at": ["The trip must start in the future."]})
    if data.get("travel_class", "economy") not in TRAVEL_CLASSES:
        raise ValidationFailed({"travel_class": [f"One of: {', '.join(TRAVEL_CLASSES)}."]})
    needs_dsa = data.get("needs_dsa", True)
    calc = calculate(legs, provisions, needs_dsa=needs_dsa)
    nights = {p.first_night + timedelta(days=k) for p in stays_of(legs) for k in range(p.nights)}
    stray = sorted(d for d in provisions if d not in nights)
    if stray:
        raise ValidationFailed({"provisions": [f"{stray[0]} is not a night of the trip away from home."]})
    person, name = _traveller(user, data)
    probe = TravelRequest(traveller_id=person.id if person else None, traveller_name=name,
                          traveller_key=fold(name), starts_at=legs[0].depart_at, ends_at=legs[-1].arrive_at)
    other = overlapping_trip(probe, agency_id=user.agency_id)
    if other is not None:
        raise ValidationFailed({"legs": [overlap_message(other)]}, "The traveller has an overlapping trip.")
    sr = workflow.create_request(user, TYPE, title=data.get("title") or "", description=data.get("purpose") or "",
                                 amount_usd=calc.total)
    tr = TravelRequest(request=sr, traveller_id=probe.traveller_id, traveller_name=name, traveller_key=fold(name),
                       purpose=data.get("purpose") or "", travel_class=data.get("travel_class", "economy"),
                       needs_ticket=data.get("needs_ticket", True), needs_visa=data.get("needs_visa", False),
                       needs_dsa=needs_dsa, advance_requested=data.get("advance_requested", True) and needs_dsa,
                       stage="", starts_at=legs[0].depart_at, ends_at=legs[-1].arrive_at,
                       estimate_lines=[ln.as_dict() for ln in calc.lines], estimate_total=calc.total)
    tr.legs = _leg_rows(legs, "planned")
    tr.provisions = [TravelProvision(night=d, accommodation=p.accommodation, breakfast="breakfast" in p.meals,
                                     lunch="lunch" in p.meals, dinner="dinner" in p.meals)
                     for d, p in sorted(provisions.items())]
    db.session.add(tr)
    audit.record(user, "travel.create", tr, after=_travel_snapshot(tr))
    if data.get("submit"):
        workflow.perform(user, sr, "submit")
    return tr


def _leg_rows(legs: list[Leg], kind: str) -> list[TravelLeg]:
    return [TravelLeg(kind=kind, seq=i + 1, origin_city=leg.origin_city, origin_country=leg.origin_country,
                      destination_city=leg.destination_city, destination_country=leg.destination_country,
                      depart_at=leg.depart_at, arrive_at=leg.arrive_at) for i, leg in enumerate(legs)]


def _travel_snapshot(tr: TravelRequest) -> dict:
    snap = audit.snapshot(tr)
    snap["legs"] = [audit.snapshot(leg) for leg in tr.legs]
    return snap


def provisions_of(tr: TravelRequest) -> dict[date, dsa.Provision]:
    return {p.night: dsa.Provision(p.accommodation, frozenset(m for m in dsa.MEALS if getattr(p, m)))
            for p in tr.provisions}


def legs_of(rows: list[TravelLeg]) -> list[Leg]:
    return [Leg(r.origin_city, r.origin_country, r.destination_city, r.destination_country, r.depart_at,
                r.arrive_at) for r in rows]


# --- reading ---------------------------------------------------------------------------


def travel_query(user: User, status: str | None = None):
    stmt = select(TravelRequest).join(ServiceRequest, ServiceRequest.id == TravelRequest.request_id)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    return stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())


def ticketing_queue_query(user: User):
    """The travel officer's work: approved or started trips still to ticket, then the rest
    of the trips in progress, the earliest departure first."""
    if not (authz.is_officer_for(user, SERVICE_LINE) or user.has_role(Role.MANAGER, Role.AUDITOR)):
        raise Forbidden("The ticketing queue is for the travel officer and the manager.")
    return (select(TravelRequest).join(ServiceRequest, ServiceRequest.id == TravelRequest.request_id)
            .where(ServiceRequest.status.in_((Status.APPROVED, Status.IN_PROGRESS)))
            .order_by(TravelRequest.starts_at, ServiceRequest.id))


def get_travel(user: User, reference: str) -> TravelRequest:
    sr = workflow.get_by_reference(user, reference)
    tr = db.session.scalar(select(TravelRequest).where(TravelRequest.request_id == sr.id))
    if tr is None:
        raise NotFound("No such travel request.")
    return tr


def lines_of(raw: list | None) -> list[dsa.DsaLine]:
    return [dsa.DsaLine.from_dict(d) for d in raw or []]


# --- facility steps ---------------------------------------------------------------------


def _local_today() -> date:
    return utcnow().astimezone(facility_tz()).date()


def record_quote(user: User, tr: TravelRequest, data: dict, version: int | None = None) -> TravelQuote:
    currency = _currency(data["currency"])
    if data["fare"] <= 0:
        raise ValidationFailed({"fare": ["Must be positive."]})
    tr._pending = {"quote": {"carrier": data["carrier"].strip(), "fare": data["fare"], "currency": currency,
                             "notes": data.get("notes") or ""}}
    try:
        workflow.perform(user, tr.request, "quote", data.get("comment", ""), version)
    finally:
        tr._pending = None
    return tr.quotes[-1]


def issue_ticket(user: User, tr: TravelRequest, data: dict, version: int | None = None) -> TravelRequest:
    currency = _currency(data["currency"])
    errors = {}
    if data["fare"] <= 0:
        errors["fare"] = ["Must be positive."]
    if not (data.get("carrier") or "").strip():
        errors["carrier"] = ["Name the carrier."]
    if not (data.get("booking_reference") or "").strip():
        errors["booking_reference"] = ["Give the booking reference (PNR)."]
    if errors:
        raise ValidationFailed(errors)
    tr._pending = {"ticket": {"carrier": data["carrier"].strip(), "fare": data["fare"], "currency": currency,
                              "booking_reference": data["booking_reference"].strip().upper()}}
    try:
        workflow.perform(user, tr.request, "ticket", data.get("comment", ""), version)
    finally:
        tr._pending = None
    return tr


def file_claim(user: User, tr: TravelRequest, data: dict, version: int | None = None) -> TravelRequest:
    """The traveller's claim with the actual itinerary; the DSA is computed again."""
    legs = legs_from(data.get("legs") or [], "legs")
    tr._pending = {"claim": legs}
    try:
        workflow.perform(user, tr.request, "claim", data.get("comment", ""), version)
    finally:
        tr._pending = None
    return tr


def cancel(user: User, tr: TravelRequest, data: dict, version: int | None = None) -> TravelRequest:
    """Cancel; after ticketing the airline's cancellation fee must be given."""
    pending = {}
    if data.get("cancellation_fee") is not None:
        if data["cancellation_fee"] < 0:
            raise ValidationFailed({"cancellation_fee": ["Must not be negative."]})
        pending = {"fee": data["cancellation_fee"], "currency": _currency(data.get("currency") or "USD")}
    tr._pending = {"cancel": pending}
    try:
        workflow.perform(user, tr.request, "cancel", data.get("comment", ""), version)
    finally:
        tr._pending = None
    return tr


def _currency(code: str) -> str:
    try:
        return check_currency(code)
    except MoneyError as exc:
        raise ValidationFailed({"currency": [str(exc)]}) from None


def _pending(tr: TravelRequest, key: str, message: str):
    pending = getattr(tr, "_pending", None) or {}
    if key not in pending:
        raise ValidationFailed({"_schema": [message]})
    return pending[key]


def on_transition(tr: TravelRequest, t, user: User) -> None:
    """The travel side of each move (inside the engine's savepoint)."""
    sr = tr.request
    now = sr.status_changed_at
    ref = sr.reference
    if t.action in ("quote", "ticket") and sr.started_at is None:
        sr.started_at = now
    if t.action == "submit":
        calc = calculate(legs_of(tr.planned_legs), provisions_of(tr), needs_dsa=tr.needs_dsa)
        tr.estimate_lines = [ln.as_dict() for ln in calc.lines]
        tr.estimate_total = calc.total
        sr.amount_usd = calc.total
    elif t.action == "approve":
        tr.advance_usd = dsa.advance(tr.estimate_total, policy()) if tr.advance_requested and tr.needs_dsa else None
    elif t.action == "quote":
        q = _pending(tr, "quote", f"Record a quote with its fare: POST /api/v1/travel/requests/{ref}/quotes.")
        tr.quotes.append(TravelQuote(carrier=q["carrier"], fare=q["fare"], currency=q["currency"],
                                     notes=q["notes"], created_at=now, created_by_id=user.id))
        tr.stage = "quoted"
    elif t.action == "ticket":
        k = _pending(tr, "ticket", f"Issue the ticket with its details: POST /api/v1/travel/requests/{ref}/ticket.")
        today = _local_today()
        tr.carrier, tr.fare, tr.fare_currency = k["carrier"], k["fare"], k["currency"]
        tr.booking_reference = k["booking_reference"]
        tr.fare_usd = to_usd(k["fare"], k["currency"], today)
        tr.ticketed_at, tr.ticketed_by_id, tr.stage = now, user.id, "ticketed"
        charges.record(user, source_ref=f"{ref}/ticket", service_line=SERVICE_LINE, agency=sr.agency,
                       service_item="ticket_issuance", quantity=1, value_usd=tr.fare_usd, delivered_on=today,
                       kind="fee", description=f"Ticket {tr.booking_reference} ({tr.carrier}) for {tr.traveller_name}")
        charges.record(user, source_ref=f"{ref}/fare", service_line=SERVICE_LINE, agency=sr.agency,
                       service_item="ticket_fare", quantity=1, value_usd=tr.fare_usd, delivered_on=today,
                       kind="pass_through",
                       description=f"Fare {tr.fare_currency} {tr.fare} ({tr.carrier}, {tr.booking_reference})")
    elif t.action == "mark_travelled":
        tr.travelled_at, tr.stage = now, "travelled"
    elif t.action == "claim":
        legs = _pending(tr, "claim", f"File the claim with the actual itinerary: POST /api/v1/travel/requests/{ref}/claim.")
        calc = calculate(legs, provisions_of(tr), needs_dsa=True)
        tr.legs.extend(_leg_rows(legs, "actual"))
        tr.claim_lines = [ln.as_dict() for ln in calc.lines]
        tr.claim_total = calc.total
        tr.claim_balance = dsa.settle(tr.estimate_total, calc.total, tr.advance_usd or Decimal("0.00")).balance
        tr.claimed_at, tr.stage = now, "claimed"
    elif t.action == "settle":
        tr.settled_at, tr.stage = now, "settled"
    elif t.action == "cancel" and tr.stage in TICKETED_STAGES:
        fee = (getattr(tr, "_pending", None) or {}).get("cancel")
        if not fee:
            raise ValidationFailed({"cancellation_fee": [
                "The ticket was issued: give the airline's cancellation fee (0 if none) with the cancellation."]})
        tr.cancellation_fee, tr.cancellation_fee_currency = fee["fee"], fee["currency"]
        tr.cancellation_fee_usd = to_usd(fee["fee"], fee["currency"], _local_today())
        if tr.cancellation_fee_usd > 0:
            charges.record(user, source_ref=f"{ref}/cancellation", service_line=SERVICE_LINE, agency=sr.agency,
                           service_item="ticket_cancellation", quantity=1, value_usd=tr.cancellation_fee_usd,
                           delivered_on=_local_today(), kind="pass_through",
                           description=f"Cancellation fee {fee['currency']} {fee['fee']} ({tr.booking_reference})")
    audit.record(user, f"travel.{t.action}", tr, after={
        "stage": tr.stage, "estimate_total": str(tr.estimate_total),
        "claim_total": None if tr.claim_total is None else str(tr.claim_total)})


# --- demo ------------------------------------------------------------------------------

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

