"""Input and output schemas of the core resources (used by the API and the forms)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.core.people import AGENCY_ROLES, FACILITY_ROLES, SERVICE_LINES, Membership

ROLES = sorted(AGENCY_ROLES | FACILITY_ROLES)


class DecimalString(fields.Decimal):
    """A decimal sent and returned as a string, never a float."""

    def __init__(self, places: int = 2, **kw):
        super().__init__(places=places, as_string=True, allow_nan=False, **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ma.ValidationError("Send amounts as strings (e.g. \"1250.00\"), not as floats.")
        result = super()._deserialize(value, attr, data, **kwargs)
        if result != result.quantize(self.places):
            raise ma.ValidationError(f"At most {-self.places.as_tuple().exponent} decimals.")
        return result


class TokenIn(ma.Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1))
    name = fields.String(load_default="api", validate=validate.Length(max=100))


class TokenOut(ma.Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class HeadcountSchema(ma.Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1945, max=2200))
    headcount = fields.Integer(required=True, validate=validate.Range(min=0))


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
    headcounts = fields.List(fields.Nested(HeadcountSchema))


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
    password = fields.String(load_only=True)


class UserIn(UserUpdate):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    agency = fields.String(allow_none=True)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    password = fields.String(required=True, load_only=True)


class MeUpdate(ma.Schema):
    locale = fields.String(required=True, validate=validate.OneOf(["en", "pt_BR"]))


class RateIn(ma.Schema):
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. BRL."))
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Expected YYYY-MM."))
    units_per_usd = DecimalString(places=6, required=True)


class RateOut(ma.Schema):
    currency = fields.String()
    month = fields.Function(lambda r: r.month.strftime("%Y-%m"))
    units_per_usd = DecimalString(places=6)


class RateQuery(ma.Schema):
    currency = fields.String()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=200))


class RateImportIn(ma.Schema):
    csv = fields.String(required=True, metadata={"description": "CSV text with columns currency,month,units_per_usd"})


class RateImportOut(ma.Schema):
    imported = fields.Integer()
    rejected = fields.List(fields.Dict())


class TimelineOut(ma.Schema):
    at = fields.DateTime()
    actor = fields.Function(lambda t: t.actor.email if t.actor else None)
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    comment = fields.String()


class RequestOut(ma.Schema):
    reference = fields.String()
    request_type = fields.String()
    agency = fields.Function(lambda r: r.agency.code)
    requester = fields.Function(lambda r: r.requester.email)
    title = fields.String()
    description = fields.String()
    status = fields.String()
    amount_usd = DecimalString(allow_none=True)
    needs_certification = fields.Boolean()
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
    allowed_actions = fields.List(fields.String())


class RequestQuery(ma.Schema):
    line = fields.String()
    agency = fields.String()
    status = fields.String()
    min_age_days = fields.Integer(validate=validate.Range(min=0))
    sla_breached = fields.Boolean()
    open_only = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=200))


class TransitionIn(ma.Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    version = fields.Integer(required=True, metadata={"description": "The version you last read; a stale one gets 409."})


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


class AuditQuery(ma.Schema):
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    since = fields.Date()
    until = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=200))
