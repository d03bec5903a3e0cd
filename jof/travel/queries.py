"""Reads on travel records that the transition table's guards and the services share:
the travel details of a request and the traveller's overlapping trips.

Models-level on purpose: ``states.py`` asks these questions in its guards, and it must
import no service module (the services depend on the table, never the other way).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from jof.core import calendar
from jof.core.db import db
from jof.core.workflow import ServiceRequest, Status
from jof.travel.models import TravelRequest

#: Trips that block another trip of the same traveller at the same time.
APPROVED_STATES = (Status.APPROVED, Status.IN_PROGRESS, Status.COMPLETED)


def travel_of(sr: ServiceRequest) -> TravelRequest | None:
    return db.session.scalar(select(TravelRequest).where(TravelRequest.request_id == sr.id))


def local_text(value: datetime) -> str:
    """An instant as the facility reads it: ``2026-12-14 08:00``."""
    return value.astimezone(calendar.facility_zone()).strftime("%Y-%m-%d %H:%M")


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
    return (f"{other.traveller_name} already has an approved trip at that time: "
            f"{other.request.reference} ({local_text(other.starts_at)} to {local_text(other.ends_at)}).")


def not_yet_returned(tr: TravelRequest, step: str = "marked travelled") -> str | None:
    """Why the trip cannot count as travelled yet: its return date (the last planned
    arrival, in the facility's calendar) has not passed. None once it has."""
    back = calendar.local_date(tr.ends_at)
    if back >= calendar.local_today():
        return f"The trip returns on {back.isoformat()}: it can be {step} from the day after."
    return None
