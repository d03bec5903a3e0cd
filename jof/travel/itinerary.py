"""The itinerary (DESIGN §4): legs checked to hold together in place and time, the
nights on which the host provides accommodation or meals, the stays and journeys they
make, and the DSA they pay with the rates of the table (the pure part is ``dsa.py``).

Days are dated in the **facility's** time zone (see :func:`stays_of`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from jof.core import calendar
from jof.core.errors import ValidationFailed
from jof.travel import dsa
from jof.travel.models import ELSEWHERE, TravelLeg, TravelRequest, fold
from jof.travel.queries import local_text
from jof.travel.rates import policy, rate_for

MAX_LEGS = 12
#: Itinerary dates are accepted from this many days ago (a claim filed late) ...
WINDOW_PAST_DAYS = 2 * 366
#: ... to this many days ahead; beyond that no trip is planned, and dates near year 9999
#: would overflow in time-zone arithmetic.
WINDOW_FUTURE_DAYS = 5 * 366
#: The longest trip, first departure to last arrival (an assignment longer than this is
#: not a trip on DSA).
MAX_TRIP_NIGHTS = 400


def aware(value: datetime, tz: ZoneInfo) -> datetime:
    """Itinerary times without an offset are read in the facility's time zone."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


@dataclass(frozen=True)
class Leg:
    origin_city: str
    origin_country: str
    destination_city: str
    destination_country: str
    depart_at: datetime
    arrive_at: datetime



def date_window() -> tuple[date, date]:
    """The first and last day an itinerary or a provided night may fall on."""
    today = calendar.local_today()
    return today - timedelta(days=WINDOW_PAST_DAYS), today + timedelta(days=WINDOW_FUTURE_DAYS)


def _window_message(first: date, last: date) -> str:
    return f"Must be between {first.isoformat()} and {last.isoformat()}."


def legs_from(data: Iterable[dict], prefix: str = "legs") -> list[Leg]:
    """Check an itinerary: every date within :func:`date_window`, legs chain in place and
    time, each arrives after it departs, the whole trip at most ``MAX_TRIP_NIGHTS``."""
    tz = calendar.facility_zone()
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
                f"Leg {i + 1} arrives ({local_text(leg.arrive_at)}) before it departs ({local_text(leg.depart_at)})."]
        if legs:
            prev = legs[-1]
            if (fold(prev.destination_city), prev.destination_country) != (fold(leg.origin_city), leg.origin_country):
                errors[f"{where}.origin_city"] = [
                    f"Leg {i + 1} must start where leg {i} ends ({prev.destination_city}, {prev.destination_country})."]
            if leg.depart_at < prev.arrive_at:
                errors[f"{where}.depart_at"] = [
                    f"Leg {i + 1} departs ({local_text(leg.depart_at)}) before leg {i} arrives "
                    f"({local_text(prev.arrive_at)})."]
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
    tz = calendar.facility_zone()
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
            month = calendar.next_month(month)
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



def leg_rows(legs: list[Leg], kind: str) -> list[TravelLeg]:
    return [TravelLeg(kind=kind, seq=i + 1, origin_city=leg.origin_city, origin_country=leg.origin_country,
                      destination_city=leg.destination_city, destination_country=leg.destination_country,
                      depart_at=leg.depart_at, arrive_at=leg.arrive_at) for i, leg in enumerate(legs)]


def provisions_of(tr: TravelRequest) -> dict[date, dsa.Provision]:
    return {p.night: dsa.Provision(p.accommodation, frozenset(m for m in dsa.MEALS if getattr(p, m)))
            for p in tr.provisions}


def legs_of(rows: list[TravelLeg]) -> list[Leg]:
    return [Leg(r.origin_city, r.origin_country, r.destination_city, r.destination_country, r.depart_at,
                r.arrive_at) for r in rows]


def lines_of(raw: list | None) -> list[dsa.DsaLine]:
    return [dsa.DsaLine.from_dict(d) for d in raw or []]
