"""After the trip (DESIGN §4): marking it travelled, the traveller's claim with the
itinerary as travelled (the DSA computed again, the balance against the advance), and
the officer's settlement.

A trip counts as travelled, and is claimed, only once its return date has passed: the
last arrival, dated in the facility's calendar, is before today (the transition table's
guards say so for the planned itinerary; :func:`write_claim` for the one claimed). A claim
for a trip cancelled midway is not supported: see docs/travel.md.
"""

from __future__ import annotations

from decimal import Decimal

from jof.core import calendar, workflow
from jof.core.errors import Conflict
from jof.core.people import User
from jof.core.workflow import ServiceRequest
from jof.travel import dsa, schemas
from jof.travel.itinerary import calculate, leg_rows, legs_from, provisions_of
from jof.travel.models import TravelRequest
from jof.travel.queries import travel_of
from jof.travel.states import STAGES
from jof.travel.trips import record_step


def file_claim(user: User, tr: TravelRequest, data: dict) -> TravelRequest:
    """The traveller's claim (``data`` as loaded by ``ClaimIn``) with the actual itinerary."""
    workflow.perform(user, tr.request, "claim", data.get("comment", ""), data["version"],
                     payload=schemas.ClaimPayload().dump(data))
    return tr


def mark_travelled(sr: ServiceRequest, user: User, _payload) -> None:
    tr = travel_of(sr)
    STAGES.move(tr, "mark_travelled")
    tr.travelled_at = sr.status_changed_at
    record_step(user, tr, "mark_travelled")


def write_claim(sr: ServiceRequest, user: User, claim: dict) -> None:
    """Compute the DSA of the itinerary as travelled (same rules and provided nights as the
    estimate) and the balance payable on settlement: claim total minus the advance."""
    tr = travel_of(sr)
    legs = legs_from(claim["legs"], "legs")
    back = calendar.local_date(legs[-1].arrive_at)
    if back >= calendar.local_today():
        raise Conflict(f"The itinerary as travelled returns on {back.isoformat()}: file the claim after that day.")
    STAGES.move(tr, "claim")
    calc = calculate(legs, provisions_of(tr), needs_dsa=True)
    tr.legs.extend(leg_rows(legs, "actual"))
    tr.claim_lines = [ln.as_dict() for ln in calc.lines]
    tr.claim_total = calc.total
    tr.claim_balance = dsa.settle(tr.estimate_total, calc.total, tr.advance_usd or Decimal("0.00")).balance
    tr.claimed_at = sr.status_changed_at
    record_step(user, tr, "claim")


def settle(sr: ServiceRequest, user: User, _payload) -> None:
    tr = travel_of(sr)
    STAGES.move(tr, "settle")
    tr.settled_at = sr.status_changed_at
    record_step(user, tr, "settle")
