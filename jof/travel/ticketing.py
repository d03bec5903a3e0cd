"""The travel officer's steps before the trip (DESIGN §4): fare quotes, the ticket with
its charges, and a cancellation with the airline's fee once the ticket was issued.

Each step is a move of the workflow engine with its payload (validated by the schemas
of ``schemas.py`` before the move); the effects below write the step's details inside
the move's savepoint and move the stage through ``states.STAGES``.
"""

from __future__ import annotations

from jof.core import calendar, charges, workflow
from jof.core.errors import ValidationFailed
from jof.core.money import to_usd
from jof.core.people import User
from jof.core.workflow import ServiceRequest
from jof.travel import schemas
from jof.travel.models import TICKETED_STAGES, TravelQuote, TravelRequest
from jof.travel.queries import travel_of
from jof.travel.states import SERVICE_LINE, STAGES
from jof.travel.trips import record_step


def record_quote(user: User, tr: TravelRequest, data: dict) -> TravelQuote:
    """Record a fare quote (``data`` as loaded by ``QuoteIn``); starts the work."""
    workflow.perform(user, tr.request, "quote", data.get("comment", ""), data["version"],
                     payload=schemas.QuotePayload().dump(data))
    return tr.quotes[-1]


def issue_ticket(user: User, tr: TravelRequest, data: dict) -> TravelRequest:
    """Issue the ticket (``data`` as loaded by ``TicketIn``); starts the work."""
    workflow.perform(user, tr.request, "ticket", data.get("comment", ""), data["version"],
                     payload=schemas.TicketPayload().dump(data))
    return tr


def cancel(user: User, tr: TravelRequest, data: dict) -> TravelRequest:
    """Cancel; after ticketing the airline's cancellation fee must be given."""
    workflow.perform(user, tr.request, "cancel", data.get("comment", ""), data["version"],
                     payload=schemas.CancellationPayload().dump(data))
    return tr


def _start(sr: ServiceRequest) -> None:
    if sr.started_at is None:
        sr.started_at = sr.status_changed_at


def add_quote(sr: ServiceRequest, user: User, quote: dict) -> None:
    tr = travel_of(sr)
    _start(sr)
    STAGES.move(tr, "quote")
    tr.quotes.append(TravelQuote(carrier=quote["carrier"].strip(), fare=quote["fare"], currency=quote["currency"],
                                 notes=quote["notes"], created_at=sr.status_changed_at, created_by_id=user.id))
    record_step(user, tr, "quote")


def write_ticket(sr: ServiceRequest, user: User, ticket: dict) -> None:
    """The ticket and its two chargeable events, unique per source: the issuance fee
    (priced by billing) and the fare as a pass-through cost, at the month's rate."""
    tr = travel_of(sr)
    _start(sr)
    STAGES.move(tr, "ticket")
    today = calendar.local_today()
    tr.carrier, tr.fare, tr.fare_currency = ticket["carrier"].strip(), ticket["fare"], ticket["currency"]
    tr.booking_reference = ticket["booking_reference"].strip().upper()
    tr.fare_usd = to_usd(tr.fare, tr.fare_currency, today)
    tr.ticketed_at, tr.ticketed_by_id = sr.status_changed_at, user.id
    charges.record(user, source_ref=f"{sr.reference}/ticket", service_line=SERVICE_LINE, agency=sr.agency,
                   service_item="ticket_issuance", quantity=1, value_usd=tr.fare_usd, delivered_on=today,
                   kind="fee", description=f"Ticket {tr.booking_reference} ({tr.carrier}) for {tr.traveller_name}")
    charges.record(user, source_ref=f"{sr.reference}/fare", service_line=SERVICE_LINE, agency=sr.agency,
                   service_item="ticket_fare", quantity=1, value_usd=tr.fare_usd, delivered_on=today,
                   kind="pass_through",
                   description=f"Fare {tr.fare_currency} {tr.fare} ({tr.carrier}, {tr.booking_reference})")
    record_step(user, tr, "ticket")


def on_cancel(sr: ServiceRequest, user: User, fee: dict) -> None:
    """Once the ticket was issued, the airline's fee (0 if none) is required; above 0 it
    is charged to the agency as a pass-through cost."""
    tr = travel_of(sr)
    if tr is None:
        return
    if tr.stage in TICKETED_STAGES:
        if fee.get("cancellation_fee") is None:
            raise ValidationFailed({"cancellation_fee": [
                "The ticket was issued: give the airline's cancellation fee (0 if none) with the cancellation."]})
        today = calendar.local_today()
        tr.cancellation_fee, tr.cancellation_fee_currency = fee["cancellation_fee"], fee["currency"]
        tr.cancellation_fee_usd = to_usd(tr.cancellation_fee, tr.cancellation_fee_currency, today)
        if tr.cancellation_fee_usd > 0:
            charges.record(user, source_ref=f"{sr.reference}/cancellation", service_line=SERVICE_LINE,
                           agency=sr.agency, service_item="ticket_cancellation", quantity=1,
                           value_usd=tr.cancellation_fee_usd, delivered_on=today, kind="pass_through",
                           description=f"Cancellation fee {tr.cancellation_fee_currency} {tr.cancellation_fee} "
                                       f"({tr.booking_reference})")
    record_step(user, tr, "cancel")
