"""The DSA calculation: a pure function from stays to explained lines and a total.

The rule (DESIGN §4, after the UNDP POPP policy on daily subsistence allowance and the
UN terminal-expense rate):

* **Nights pay the rate of the place where they are spent.** A stay at a location runs
  from the day the traveller arrives there to the day they leave it; each calendar night
  in between is one night at that location's rate for the night's month. A night spent
  travelling (an overnight flight) belongs to no stay and pays no DSA; nor does the
  traveller's home, where the trip starts and ends.
* **Long stays are reduced**, counted per continuous stay at one location: nights 1–60
  at 100% of the rate, 61–120 at 75%, from 121 at 60% (the schedule is configurable).
* **Provided accommodation removes the room percentage** of that location's rate for the
  night; **provided meals** deduct configurable percentages (default 0 until the board
  sets them). Deductions apply to the (possibly reduced) rate of the night.
* **Terminal expenses**: USD 47 per terminal, two per journey between places where the
  traveller stops (home and each stay of at least one night): four per return trip, and
  none at a transit point (a connection the same day). The caller counts the journeys.
* Each line is quantized to the cent (half up) once, on the line's amount; the total is
  the exact sum of the lines. An **advance** (default 80% of the total, to the cent) is
  paid before travel and the claim pays the rest, so advance + balance is the total.

Everything is ``Decimal``; nothing here touches the database or the clock. The caller
dates the nights (in the facility's time zone, not the destination's; see
``jof.travel.itinerary.stays_of``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MEALS = ("breakfast", "lunch", "dinner")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NightlyRate:
    """One location's DSA rate in force for a month: USD per night and the share of it
    that pays for the room (percent)."""

    usd_per_night: Decimal
    room_pct: Decimal


@dataclass(frozen=True)
class Provision:
    """What the host provides on one night (the day that ends with that night)."""

    accommodation: bool = False
    meals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Stay:
    """Nights at one location: ``nights`` consecutive nights from ``first_night``.

    ``rates`` maps the first day of each month the stay touches to the rate in force.
    """

    location: str
    first_night: date
    nights: int
    rates: Mapping[date, NightlyRate]


@dataclass(frozen=True)
class DsaPolicy:
    #: (last night of the band or None for "and after", percent of the rate).
    schedule: tuple[tuple[int | None, Decimal], ...] = (
        (60, Decimal(100)), (120, Decimal(75)), (None, Decimal(60)))
    terminal_usd: Decimal = Decimal(47)
    #: Terminals per journey between two stops (out of one place, into the next).
    terminals_per_journey: int = 2
    #: Percent of the night's rate deducted per meal provided (default 0 until set).
    meal_pct: Mapping[str, Decimal] = field(default_factory=lambda: {m: Decimal(0) for m in MEALS})
    advance_pct: Decimal = Decimal(80)

    def stage_pct(self, night_number: int) -> Decimal:
        for last, pct in self.schedule:
            if last is None or night_number <= last:
                return pct
        return self.schedule[-1][1]


DEFAULT_POLICY = DsaPolicy()


@dataclass(frozen=True)
class DsaLine:
    """One explained line. For ``kind == "dsa"``: nights at a location at ``percentage`` of
    ``rate``; for ``kind == "terminal"``: ``nights`` holds the number of terminals."""

    kind: str
    location: str
    nights: int
    rate: Decimal
    percentage: Decimal
    amount: Decimal
    first_night: date | None = None
    last_night: date | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "location": self.location, "nights": self.nights,
                "rate": str(self.rate), "percentage": str(self.percentage), "amount": str(self.amount),
                "first_night": self.first_night.isoformat() if self.first_night else None,
                "last_night": self.last_night.isoformat() if self.last_night else None}

    @classmethod
    def from_dict(cls, d: dict) -> DsaLine:
        return cls(d["kind"], d["location"], int(d["nights"]), Decimal(d["rate"]), Decimal(d["percentage"]),
                   Decimal(d["amount"]),
                   date.fromisoformat(d["first_night"]) if d.get("first_night") else None,
                   date.fromisoformat(d["last_night"]) if d.get("last_night") else None)


@dataclass(frozen=True)
class DsaCalculation:
    lines: tuple[DsaLine, ...]
    total: Decimal

    @property
    def dsa_total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == "dsa"), Decimal("0.00"))

    @property
    def terminal_total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == "terminal"), Decimal("0.00"))


def _night_pct(policy: DsaPolicy, night_number: int, rate: NightlyRate, provision: Provision | None) -> Decimal:
    stage = policy.stage_pct(night_number)
    deduction = Decimal(0)
    if provision is not None:
        if provision.accommodation:
            deduction += rate.room_pct
        for meal in provision.meals:
            deduction += Decimal(policy.meal_pct.get(meal, 0))
    remaining = max(HUNDRED - deduction, Decimal(0))
    return stage * remaining / HUNDRED


def calculate(stays: Sequence[Stay], terminals: int, *, provisions: Mapping[date, Provision] | None = None,
              policy: DsaPolicy = DEFAULT_POLICY) -> DsaCalculation:
    """DSA and terminal expenses of a trip, as explained lines and their total.

    Consecutive nights of one stay at the same rate and percentage make one line, whose
    amount is rate × percentage × nights rounded once to the cent.
    """
    provisions = provisions or {}
    lines: list[DsaLine] = []
    for stay in stays:
        if stay.nights < 0:
            raise ValueError("a stay cannot have a negative number of nights")
        run: list | None = None  # [rate, pct, first, last, count]
        for i in range(stay.nights):
            night = stay.first_night + timedelta(days=i)
            try:
                rate = stay.rates[night.replace(day=1)]
            except KeyError:
                raise ValueError(f"no rate for {stay.location} in {night:%Y-%m}") from None
            pct = _night_pct(policy, i + 1, rate, provisions.get(night))
            if run is not None and run[0] == rate.usd_per_night and run[1] == pct:
                run[3] = night
                run[4] += 1
                continue
            if run is not None:
                lines.append(_dsa_line(stay.location, run))
            run = [rate.usd_per_night, pct, night, night, 1]
        if run is not None:
            lines.append(_dsa_line(stay.location, run))
    if terminals:
        lines.append(DsaLine("terminal", "Terminal expenses", terminals, policy.terminal_usd, HUNDRED,
                             cents(policy.terminal_usd * terminals)))
    total = sum((ln.amount for ln in lines), Decimal("0.00"))
    return DsaCalculation(tuple(lines), total)


def _dsa_line(location: str, run: list) -> DsaLine:
    rate, pct, first, last, count = run
    return DsaLine("dsa", location, count, rate, pct, cents(rate * pct / HUNDRED * count), first, last)


def advance(total: Decimal, policy: DsaPolicy = DEFAULT_POLICY) -> Decimal:
    """The advance paid before travel: ``advance_pct`` of the total, to the cent."""
    return cents(total * policy.advance_pct / HUNDRED)


@dataclass(frozen=True)
class Settlement:
    """What the claim settles: the actual entitlement, what was advanced, the balance
    still payable (negative: to recover) and the change against the estimate."""

    estimate_total: Decimal
    actual_total: Decimal
    advance_paid: Decimal
    balance: Decimal
    difference: Decimal


def settle(estimate_total: Decimal, actual_total: Decimal, advance_paid: Decimal) -> Settlement:
    return Settlement(estimate_total, actual_total, advance_paid, actual_total - advance_paid,
                      actual_total - estimate_total)
