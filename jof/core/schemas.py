"""Input and output schemas of the core resources (used by the API and the forms)."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from jof.core.apikit import DecimalString, LeanSchema
from jof.core.calendar import MONTH_MESSAGE
from jof.core.paging import PaginationQuery
from jof.core.people import AGENCY_ROLES, FACILITY_ROLES, SERVICE_LINES, Membership

__all__ = ["DecimalString"]  # re-exported: lines import it from here

ROLES = sorted(AGENCY_ROLES | FACILITY_ROLES)


class TokenIn(ma.Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000), load_only=True)
    name = fields.String(load_default="api", validate=validate.Length(max=100),
                         metadata={"description": "A label for the token, e.g. the system using it."})


class TokenOut(ma.Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class HeadcountSchema(ma.Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1945, max=2200))
    #: Staff of one agency in one country: far below this, and within any integer column.
    headcount = fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))


class AgencyOut(ma.Schema):
    code = fields.String()
    name = fields.String()
    country = fields.String()
    membership = fields.String()
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)
    approval_limit_usd = DecimalString()
    address = fields.String()
    alternate_email = fields.Function(lambda a: a.alternate.email if a.alternate else None)
    headcounts = fields.List(fields.Nested(HeadcountSchema))


class AgencyUpdate(ma.Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    country = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2 code, e.g. BR."))
    membership = fields.String(validate=validate.OneOf([m.value for m in Membership]))
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)
    approval_limit_usd = DecimalString(validate=validate.Range(min=0))
    address = fields.String(validate=validate.Length(max=2000))
    alternate_email = fields.Email(allow_none=True)
    headcounts = fields.List(fields.Nested(HeadcountSchema), metadata={
        "description": "Headcount per year; each year at most once."})

    @ma.validates_schema
    def _one_headcount_per_year(self, data, **kwargs):
        years = [h["year"] for h in data.get("headcounts") or []]
        twice = sorted({y for y in years if years.count(y) > 1})
        if twice:
            raise ma.ValidationError([f"Year {y} is given more than once." for y in twice], "headcounts")


class AgencyIn(AgencyUpdate):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z][A-Z0-9]{1,11}(-[A-Z]{2})?$", error="Letters and digits, e.g. UNDP or UNDP-AR."))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2 code, e.g. BR."))
    joined_on = fields.Date(required=True)


class UserOut(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    agency = fields.Function(lambda u: u.agency.code if u.agency else None)
    roles = fields.Function(lambda u: sorted(u.roles))
    service_lines = fields.Function(lambda u: sorted(u.service_lines))
    active = fields.Boolean()
    locale = fields.String()


class UserUpdate(ma.Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    service_lines = fields.List(fields.String(validate=validate.OneOf(SERVICE_LINES)))
    active = fields.Boolean()
    locale = fields.String(validate=validate.OneOf(["en", "pt_BR"]))
    password = fields.String(load_only=True, validate=validate.Length(max=1000),
                             metadata={"description": "At least 12 characters; ends the user's sessions."})


class UserIn(UserUpdate):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    agency = fields.String(allow_none=True, metadata={
        "description": "Agency code for agency staff; null for facility staff."})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000),
                             metadata={"description": "At least 12 characters."})


class MeUpdate(ma.Schema):
    locale = fields.String(required=True, validate=validate.OneOf(["en", "pt_BR"]))


class RateIn(ma.Schema):
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. BRL."))
    #: The shape only: the range (2000-01..2099-12, core's calendar) is checked by the
    #: service once the caller is known to be the administrator.
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error=MONTH_MESSAGE))
    units_per_usd = DecimalString(places=6, required=True)


class RateOut(ma.Schema):
    currency = fields.String()
    month = fields.Function(lambda r: r.month.strftime("%Y-%m"))
    units_per_usd = DecimalString(places=6)


class RateQuery(PaginationQuery):
    currency = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="ISO 4217 code, e.g. BRL."),
                             metadata={"description": "Only this currency."})


class RateImportIn(ma.Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000), metadata={
        "description": "CSV text with the header currency,month,units_per_usd; month as YYYY-MM."})


class RateImportOut(ma.Schema):
    imported = fields.Integer(metadata={"description": "Rates written (new or corrected)."})
    rejected = fields.List(fields.Dict(), metadata={"description": "Always empty on success."})


class TimelineOut(LeanSchema):
    at = fields.DateTime()
    actor = fields.Function(lambda t: t.actor.email if t.actor else None)
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    comment = fields.String()


class RequestOut(LeanSchema):
    reference = fields.String()
    request_type = fields.String()
    agency = fields.Function(lambda r: r.agency_code)
    requester = fields.Function(lambda r: r.requester_email)
    title = fields.String()
    description = fields.String()
    status = fields.String()
    amount_usd = DecimalString(allow_none=True)
    service_line = fields.Function(lambda r: r.service_line)
    needs_certification = fields.Boolean(metadata={
        "description": "Above the agency's approval limit: its head must certify before approval."})
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    certified_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    sla_due_at = fields.DateTime(allow_none=True)
    sla_breached = fields.Boolean()
    version = fields.Integer()


class RequestDetailOut(RequestOut):
    timeline = fields.List(fields.Nested(TimelineOut))
    allowed_actions = fields.List(fields.String(), metadata={
        "description": "What the caller may do now (POST one to …/transitions)."})


def _known_status(value: str) -> None:
    from jof.core.workflow import registered_types

    known = sorted({state for rt in registered_types() for state in rt.states})
    if value not in known:
        raise ma.ValidationError(f"Unknown status; one of: {', '.join(known)}.")


def _known_line(value: str) -> None:
    from jof.core.workflow import registered_types

    known = sorted(set(SERVICE_LINES) | {rt.code for rt in registered_types()})
    if value not in known:
        raise ma.ValidationError(f"Unknown line; one of: {', '.join(known)}.")


class RequestQuery(PaginationQuery):
    line = fields.String(validate=_known_line, metadata={
        "description": "Service line (" + ", ".join(SERVICE_LINES) + ") or one request type's code."})
    agency = fields.String(validate=validate.Length(min=2, max=20), metadata={
        "description": "Agency code, e.g. UNDP (facility staff; agency users only see their own)."})
    status = fields.String(validate=_known_status, metadata={"description": "Current status, e.g. submitted."})
    min_age_days = fields.Integer(validate=validate.Range(min=0, max=36500), metadata={
        "description": "Only requests created at least this many days ago."})
    sla_breached = fields.Boolean(metadata={"description": "true: only past their SLA; false: only within it."})
    open_only = fields.Boolean(load_default=False, metadata={
        "description": "Leave out completed, rejected and cancelled requests."})


class TransitionIn(ma.Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "submit, certify, approve, reject, start, complete, cancel, … "
                       "(GET the request for the actions open to you)."})
    comment = fields.String(load_default="", validate=validate.Length(max=5000), metadata={
        "description": "Required to reject, and to cancel work in progress."})
    version = fields.Integer(required=True, metadata={"description": "The version you last read; a stale one gets 409."})
    payload = fields.Dict(keys=fields.String(), load_default=None, metadata={
        "description": "The action's details, for the actions that take some (a ticket's fare, "
                       "a claim's legs …): validated by the line's schema, 422 per field."})


class NotificationQuery(PaginationQuery):
    unread_only = fields.Boolean(load_default=False)


class NotificationOut(ma.Schema):
    id = fields.Integer()
    message = fields.String()
    link = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class AuditOut(ma.Schema):
    seq = fields.Integer()
    at = fields.DateTime()
    actor_email = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    request_id = fields.String()
    hash = fields.String()


class AuditQuery(PaginationQuery):
    actor = fields.String(metadata={"description": "E-mail of the actor."})
    action = fields.String(metadata={"description": "Action, or its prefix (e.g. `agency.` or `request.approve`)."})
    object_type = fields.String(metadata={"description": "e.g. agency, user, service_request."})
    object_id = fields.String()
    since = fields.Date(validate=validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31)),
                        metadata={"description": "From this day (UTC), inclusive."})
    until = fields.Date(validate=validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31)),
                        metadata={"description": "To this day (UTC), inclusive."})

    @ma.validates_schema
    def _order(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise ma.ValidationError("Must not be before since.", "until")
