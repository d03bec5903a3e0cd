"""Input and output schemas of the ICT resources (the API and the forms share them)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.core.paging import PaginationQuery
from jof.core.schemas import DecimalString
from jof.ict.models import SERVICE_KINDS, TICKET_CATEGORIES, TICKET_KINDS
from jof.ict.sla import LEVEL_NAMES, LEVELS, PRIORITIES

LEVEL = validate.OneOf(list(LEVELS))


class WholeNumber(fields.Integer):
    """A count of seats or units: ``3`` from JSON or ``"3"`` from a form. Strict, so a
    fraction (``2.9``, or ``"2.9"``) is refused instead of being truncated to 2."""

    default_error_messages = {"invalid": "Not a whole number."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise self.make_error("invalid", input=value) from None
        return super()._validated(value)


class IctServiceOut(ma.Schema):
    code = fields.String(metadata={"description": "The price-list item code, e.g. email_account."})
    name = fields.String()
    description = fields.String()
    kind = fields.String(metadata={"description": "recurring (per seat and month) or one_off."})
    unit_price_usd = DecimalString(metadata={"description": "USD per seat-month (recurring) or per unit."})
    active = fields.Boolean()


class IctServiceUpdate(ma.Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    unit_price_usd = DecimalString(validate=validate.Range(min=0))
    active = fields.Boolean()


class IctServiceIn(IctServiceUpdate):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{1,59}$", error="Lower-case letters, digits and _, e.g. email_account."))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.String(load_default="recurring", validate=validate.OneOf(SERVICE_KINDS))
    unit_price_usd = DecimalString(required=True, validate=validate.Range(min=0))


class IctServiceQuery(ma.Schema):
    include_inactive = fields.Boolean(load_default=False)


class IctPeriodOut(ma.Schema):
    seq = fields.Integer()
    seats = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class IctSubscriptionOut(ma.Schema):
    id = fields.Integer()
    reference = fields.Function(lambda s: s.request.reference)
    agency = fields.Function(lambda s: s.request.agency.code)
    requester = fields.Function(lambda s: s.request.requester.email)
    status = fields.Function(lambda s: s.request.status)
    version = fields.Function(lambda s: s.request.version)
    service = fields.Function(lambda s: s.service.code)
    seats = fields.Integer(metadata={"description": "Seats (or units) ordered."})
    current_seats = fields.Integer(metadata={"description": "Seats in force in the latest period."})
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    periods = fields.List(fields.Nested(IctPeriodOut))
    filed_for = fields.String(allow_none=True, metadata={
        "description": "The request of another line this order was filed for (an HR recruitment's "
                       "onboarding files the new person's e-mail account); null for the agency's own orders."})


class IctSubscriptionIn(ma.Schema):
    service = fields.String(required=True, metadata={"description": "Service code from the catalogue."})
    seats = WholeNumber(required=True, validate=validate.Range(min=1, max=100_000))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    title = fields.String(validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    agency = fields.String(metadata={"description": "Agency code; only the manager orders for an agency."})
    submit = fields.Boolean(load_default=True, metadata={
        "description": "Submit the order for approval at once (default) or keep it as a draft."})


class IctSubscriptionQuery(PaginationQuery):
    agency = fields.String()
    status = fields.String()


class IctSeatChangeIn(ma.Schema):
    seats = WholeNumber(required=True, validate=validate.Range(min=1, max=100_000))
    effective_from = fields.Date(required=True)


class IctEndIn(ma.Schema):
    ends_on = fields.Date(required=True, metadata={"description": "The last day of service."})


class IctCommentOut(ma.Schema):
    id = fields.Integer()
    author = fields.Function(lambda c: c.author.email)
    author_name = fields.Function(lambda c: c.author.name)
    body = fields.String()
    at = fields.DateTime()


class IctCommentIn(ma.Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))


def _left(value):
    return None if value is None else int(value.total_seconds())


class IctTicketOut(ma.Schema):
    reference = fields.Function(lambda t: t.request.reference)
    title = fields.Function(lambda t: t.request.title)
    description = fields.Function(lambda t: t.request.description)
    agency = fields.Function(lambda t: t.request.agency.code)
    requester = fields.Function(lambda t: t.request.requester.email)
    status = fields.Function(lambda t: t.request.status)
    version = fields.Function(lambda t: t.request.version)
    kind = fields.String()
    category = fields.String()
    service = fields.Function(lambda t: t.service.code if t.service else None)
    urgency = fields.Function(lambda t: LEVEL_NAMES[t.urgency])
    impact = fields.Function(lambda t: LEVEL_NAMES[t.impact])
    priority = fields.String()
    assignee = fields.Function(lambda t: t.assignee.email if t.assignee else None)
    opened_at = fields.DateTime(allow_none=True)
    owned_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    own_due_at = fields.DateTime(allow_none=True)
    resolve_due_at = fields.DateTime(allow_none=True)
    paused = fields.Function(lambda t: t.clock.paused, metadata={
        "description": "The resolve clock is stopped (waiting on the requester)."})
    resolve_seconds_left = fields.Function(lambda t: _left(t.clock.resolve_left), metadata={
        "description": "Working seconds left to resolve (negative when late); null once resolved."})
    own_seconds_left = fields.Function(lambda t: _left(t.clock.own_left), metadata={
        "description": "Working seconds left for someone to take it; null once owned."})
    own_breached = fields.Function(lambda t: t.clock.own_breached)
    resolve_breached = fields.Function(lambda t: t.clock.resolve_breached)


class IctTicketDetailOut(IctTicketOut):
    comments = fields.List(fields.Nested(IctCommentOut))


class IctTicketIn(ma.Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    kind = fields.String(load_default="incident", validate=validate.OneOf(TICKET_KINDS))
    category = fields.String(load_default="other", validate=validate.OneOf(TICKET_CATEGORIES))
    service = fields.String(load_default=None, allow_none=True)
    urgency = fields.String(required=True, validate=LEVEL)
    impact = fields.String(required=True, validate=LEVEL)
    agency = fields.String(metadata={"description": "Agency code; only the manager files for an agency."})


class IctTicketUpdate(ma.Schema):
    urgency = fields.String(required=True, validate=LEVEL)
    impact = fields.String(required=True, validate=LEVEL)
    version = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "The ticket's version as read (its GET); stale: 409, missing: 428."})


class IctAssignIn(ma.Schema):
    assignee = fields.Email(required=True, metadata={"description": "E-mail of an ICT officer."})
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    version = fields.Integer(load_default=None, allow_none=True)


class IctAssignPayload(ma.Schema):
    """The payload of a ticket's ``assign`` move: the officer who will own it."""

    assignee = fields.Email(required=True, error_messages={
        "required": "Name the ICT officer to assign the ticket to."},
        metadata={"description": "E-mail of an ICT officer."})


#: action → schema of its payload, for the ``ict_ticket`` request type.
TICKET_PAYLOADS = {"assign": IctAssignPayload}


class IctTicketQuery(PaginationQuery):
    status = fields.String()
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    assigned_to_me = fields.Boolean(load_default=False)
    open = fields.Boolean(load_default=False, metadata={"description": "Only tickets still being worked on."})
    breached = fields.Boolean(load_default=None, allow_none=True)
    sort = fields.String(load_default="time_left", validate=validate.OneOf(["time_left", "created"]),
                         metadata={"description": "time_left (least working time left first) or created."})

