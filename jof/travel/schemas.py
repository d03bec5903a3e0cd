"""Input and output schemas of the travel resources (API bodies and the HTML forms)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.core.apikit import DecimalString
from jof.core.calendar import MONTH_MESSAGE
from jof.core.money import MoneyError, check_currency
from jof.core.paging import PaginationQuery
from jof.core.schemas import TimelineOut
from jof.travel.models import TRAVEL_CLASSES

_COUNTRY = validate.Regexp(r"^[A-Za-z]{2}$", error="ISO 3166 alpha-2 code, e.g. BR.")
_CITY = validate.Length(min=1, max=100)
#: Rate months from 2000-01 to 2099-12 (ASCII digits only).
_MONTH = validate.Regexp(r"^20[0-9]{2}-(0[1-9]|1[0-2])$", error=MONTH_MESSAGE)
_DT_HELP = "ISO 8601; without an offset it is read in the facility's time zone."


class LegIn(ma.Schema):
    origin_city = fields.String(required=True, validate=_CITY)
    origin_country = fields.String(required=True, validate=_COUNTRY)
    destination_city = fields.String(required=True, validate=_CITY)
    destination_country = fields.String(required=True, validate=_COUNTRY)
    depart_at = fields.DateTime(required=True, metadata={"description": _DT_HELP})
    arrive_at = fields.DateTime(required=True, metadata={"description": _DT_HELP})


class ProvisionIn(ma.Schema):
    from_night = fields.Date(required=True, metadata={"description": "First night (the day it starts)."})
    to_night = fields.Date(load_default=None, allow_none=True, metadata={"description": "Last night, inclusive."})
    accommodation = fields.Boolean(load_default=False)
    breakfast = fields.Boolean(load_default=False)
    lunch = fields.Boolean(load_default=False)
    dinner = fields.Boolean(load_default=False)


class EstimateIn(ma.Schema):
    legs = fields.List(fields.Nested(LegIn), required=True, validate=validate.Length(min=1, max=12))
    provisions = fields.List(fields.Nested(ProvisionIn), load_default=list)
    needs_dsa = fields.Boolean(load_default=True)


class TravelIn(EstimateIn):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    purpose = fields.String(load_default="", validate=validate.Length(max=5000))
    traveller_email = fields.Email(load_default=None, allow_none=True, metadata={
        "description": "A staff member of your agency; default: you (or traveller_name)."})
    traveller_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                                   metadata={"description": "A traveller without an account."})
    travel_class = fields.String(load_default="economy", validate=validate.OneOf(TRAVEL_CLASSES))
    needs_ticket = fields.Boolean(load_default=True)
    needs_visa = fields.Boolean(load_default=False)
    advance_requested = fields.Boolean(load_default=True, metadata={
        "description": "Pay 80% of the DSA estimate before travel."})
    submit = fields.Boolean(load_default=False, metadata={"description": "Submit at once instead of keeping a draft."})


class DsaLineOut(ma.Schema):
    kind = fields.String(metadata={"description": "dsa, or terminal (nights then counts terminals)."})
    location = fields.String()
    nights = fields.Integer()
    rate = DecimalString()
    percentage = DecimalString(places=4)
    amount = DecimalString()
    first_night = fields.Date(allow_none=True)
    last_night = fields.Date(allow_none=True)


class EstimateOut(ma.Schema):
    lines = fields.List(fields.Nested(DsaLineOut))
    total = DecimalString()
    advance = DecimalString(metadata={"description": "The advance payable before travel (default 80%)."})


class LegOut(ma.Schema):
    seq = fields.Integer()
    origin_city = fields.String()
    origin_country = fields.String()
    destination_city = fields.String()
    destination_country = fields.String()
    depart_at = fields.DateTime()
    arrive_at = fields.DateTime()


class ProvisionOut(ma.Schema):
    night = fields.Date()
    accommodation = fields.Boolean()
    breakfast = fields.Boolean()
    lunch = fields.Boolean()
    dinner = fields.Boolean()


class QuoteOut(ma.Schema):
    id = fields.Integer()
    carrier = fields.String()
    fare = DecimalString()
    currency = fields.String()
    notes = fields.String()
    created_at = fields.DateTime()


class TicketOut(ma.Schema):
    carrier = fields.String(allow_none=True)
    booking_reference = fields.String(allow_none=True)
    fare = DecimalString(allow_none=True)
    fare_currency = fields.String(allow_none=True)
    fare_usd = DecimalString(allow_none=True)
    ticketed_at = fields.DateTime(allow_none=True)


class DsaOut(ma.Schema):
    estimate_lines = fields.List(fields.Nested(DsaLineOut))
    estimate_total = DecimalString()
    advance_usd = DecimalString(allow_none=True)
    claim_lines = fields.List(fields.Nested(DsaLineOut), allow_none=True)
    claim_total = DecimalString(allow_none=True)
    claim_difference = DecimalString(allow_none=True, metadata={"description": "Claim minus estimate."})
    claim_balance = DecimalString(allow_none=True, metadata={
        "description": "Payable on settlement: claim minus advance (negative: to recover)."})


#: Shared by every row a list dumps (a schema is built once, not per trip).
_LEGS, _TICKET, _TIMELINE = LegOut(many=True), TicketOut(), TimelineOut(many=True)


class TravelOut(ma.Schema):
    reference = fields.Function(lambda t: t.request.reference)
    status = fields.Function(lambda t: t.request.status)
    version = fields.Function(lambda t: t.request.version)
    agency = fields.Function(lambda t: t.request.agency.code)
    requester = fields.Function(lambda t: t.request.requester.email)
    title = fields.Function(lambda t: t.request.title)
    stage = fields.String(metadata={"description": "The facility's step inside in_progress."})
    traveller_name = fields.String()
    traveller_email = fields.Function(lambda t: t.traveller.email if t.traveller else None)
    purpose = fields.String()
    travel_class = fields.String()
    needs_ticket = fields.Boolean()
    needs_visa = fields.Boolean()
    needs_dsa = fields.Boolean()
    advance_requested = fields.Boolean()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    legs = fields.Function(lambda t: _LEGS.dump(t.planned_legs))
    actual_legs = fields.Function(lambda t: _LEGS.dump(t.actual_legs))
    provisions = fields.List(fields.Nested(ProvisionOut))
    estimate_total = DecimalString()
    advance_usd = DecimalString(allow_none=True)
    ticket = fields.Function(lambda t: _TICKET.dump(t) if t.ticketed_at else None)
    quotes = fields.List(fields.Nested(QuoteOut))
    claim_total = DecimalString(allow_none=True)
    claim_balance = DecimalString(allow_none=True)
    cancellation_fee = DecimalString(allow_none=True)
    cancellation_fee_currency = fields.String(allow_none=True)


class TravelDetailOut(TravelOut):
    timeline = fields.Function(lambda t: _TIMELINE.dump(t.request.timeline))
    allowed_actions = fields.List(fields.String())


class TravelQuery(PaginationQuery):
    status = fields.String(validate=validate.Length(max=30))


class _StepIn(ma.Schema):
    version = fields.Integer(required=True, metadata={"description": "The request version you last read."})
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


def _currency(code: str) -> None:
    try:
        check_currency(code)
    except MoneyError as exc:
        raise ma.ValidationError(str(exc)) from None


def _given(message: str):
    def check(value: str) -> None:
        if not value.strip():
            raise ma.ValidationError(message)

    return check


class _Currency(fields.String):
    """An ISO 4217 code JOF knows, read in capitals."""

    def __init__(self, **kw):
        super().__init__(validate=[validate.Regexp(r"^[A-Za-z]{3}$", error="ISO 4217 code."), _currency], **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class _Payload(ma.Schema):
    """The details a step carries, checked by the engine before the move (DESIGN §2).

    The same fields arrive on the line's own path (``…/quotes``, ``…/ticket``, …) with the
    request's version; a step sent to the spine's generic transitions path without them is
    told where to send it."""

    #: Said when the step arrives with no details at all.
    missing = ""

    @ma.pre_load
    def _not_empty(self, data, **_kw):
        if not data and self.missing:
            raise ma.ValidationError(self.missing)
        return data


class _QuoteFields(ma.Schema):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=100))
    fare = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be positive."))
    currency = _Currency(required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class _TicketFields(ma.Schema):
    carrier = fields.String(required=True, validate=[validate.Length(min=1, max=100), _given("Name the carrier.")])
    fare = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be positive."))
    currency = _Currency(required=True)
    booking_reference = fields.String(required=True, validate=[
        validate.Length(min=1, max=40), _given("Give the booking reference (PNR).")])


class _ClaimFields(ma.Schema):
    legs = fields.List(fields.Nested(LegIn), required=True, validate=validate.Length(min=1, max=12),
                       metadata={"description": "The itinerary as travelled."})


class _CancellationFields(ma.Schema):
    cancellation_fee = DecimalString(load_default=None, allow_none=True, validate=validate.Range(
        min=0, error="Must not be negative."), metadata={
        "description": "Required once the ticket was issued (0 if the airline charged none)."})
    currency = _Currency(load_default="USD")


class QuotePayload(_QuoteFields, _Payload):
    missing = "Record a quote with its fare: POST /api/v1/travel/requests/<reference>/quotes."


class TicketPayload(_TicketFields, _Payload):
    missing = "Issue the ticket with its details: POST /api/v1/travel/requests/<reference>/ticket."


class ClaimPayload(_ClaimFields, _Payload):
    missing = "File the claim with the actual itinerary: POST /api/v1/travel/requests/<reference>/claim."


class CancellationPayload(_CancellationFields, _Payload):
    """A cancellation may carry nothing (before the ticket is issued)."""


#: The schema of each step that carries details, for the engine (see ``jof.travel.install``).
PAYLOADS = {"quote": QuotePayload, "ticket": TicketPayload, "claim": ClaimPayload, "cancel": CancellationPayload}


class QuoteIn(_QuoteFields, _StepIn):
    pass


class TicketIn(_TicketFields, _StepIn):
    pass


class ClaimIn(_ClaimFields, _StepIn):
    pass


class CancellationIn(_CancellationFields, _StepIn):
    pass


class DsaRateIn(ma.Schema):
    city = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "City, or Elsewhere for the country's fallback rate."})
    country = fields.String(required=True, validate=_COUNTRY)
    month = fields.String(required=True, validate=_MONTH)
    usd_per_night = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))
    room_pct = DecimalString(required=True, validate=validate.Range(min=0, max=100))


class DsaRateOut(ma.Schema):
    id = fields.Integer()
    city = fields.String()
    country = fields.String()
    month = fields.Function(lambda r: r.month.strftime("%Y-%m"))
    usd_per_night = DecimalString()
    room_pct = DecimalString()


class DsaRateQuery(PaginationQuery):
    country = fields.String(validate=_COUNTRY)
    city = fields.String(validate=_CITY)
    month = fields.String(validate=_MONTH)


class DsaRateImportIn(ma.Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000), metadata={
        "description": "CSV text with the header city,country,month,usd_per_night,room_pct."})


class DsaRateImportOut(ma.Schema):
    imported = fields.Integer()
    rejected = fields.List(fields.Dict(), metadata={"description": "Always empty on success."})
