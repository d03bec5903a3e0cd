"""Input and output schemas of the board, keys, pools and allocations."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from jof.core.paging import PaginationQuery
from jof.core.schemas import DecimalString
from jof.governance.models import CHOICES, KINDS, POOL_CATEGORIES, QUORUM_RULES, THRESHOLDS
from jof.governance.states import DecisionStatus

PERIOD = validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="Expected YYYY-MM, from 2000-01 to 2099-12.")


class DecisionIn(ma.Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    text = fields.String(load_default="", validate=validate.Length(max=20000))
    kind = fields.String(load_default="general", validate=validate.OneOf(KINDS))
    threshold = fields.String(load_default="simple_majority", validate=validate.OneOf(THRESHOLDS))
    quorum_rule = fields.String(load_default="more_than_half", validate=validate.OneOf(QUORUM_RULES))
    payload = fields.Dict(allow_none=True, metadata={
        "description": "Effect of the decision when adopted, for kinds cost_sharing_key "
                       "({effective_from, components: {equal: '40', usage_count: '60'}}), membership "
                       "({effective_from, action: join|leave|change, agency, membership, name, country}), "
                       "price_list and procurement_manual."})


class DecisionUpdate(DecisionIn):
    title = fields.String(validate=validate.Length(min=3, max=200))
    text = fields.String(validate=validate.Length(max=20000))
    kind = fields.String(validate=validate.OneOf(KINDS))
    threshold = fields.String(validate=validate.OneOf(THRESHOLDS))
    quorum_rule = fields.String(validate=validate.OneOf(QUORUM_RULES))


class OpenIn(ma.Schema):
    closes_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with time zone"})


class AttachmentIn(ma.Schema):
    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, .txt, DOCX, XLSX or ODT; at most 5 MB."})


class AttachmentOut(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Function(lambda a: a.uploaded_by.email)
    uploaded_at = fields.DateTime()
    url = fields.Function(lambda a: f"/api/v1/governance/decisions/{a.decision_id}/attachments/{a.id}")


class VoteIn(ma.Schema):
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))
    statement = fields.String(load_default="", validate=validate.Length(max=5000))


class VoteOut(ma.Schema):
    agency = fields.Function(lambda v: v.agency.code)
    choice = fields.String()
    statement = fields.String()
    cast_by = fields.Function(lambda v: v.cast_by.email)
    cast_at = fields.DateTime()
    changes = fields.Integer()


class EffectOut(ma.Schema):
    kind = fields.String()
    effective_from = fields.Date()
    status = fields.String()
    summary = fields.String()


class DecisionOut(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    text = fields.String()
    kind = fields.String()
    status = fields.String()
    threshold = fields.String()
    quorum_rule = fields.String()
    payload = fields.Dict(allow_none=True)
    proposed_by = fields.Function(lambda d: d.proposed_by.email if d.proposed_by else None)
    opened_at = fields.DateTime(allow_none=True)
    closes_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    voting_members = fields.Function(lambda d: [v.agency.code for v in d.voters])
    voted = fields.Function(lambda d: sorted(v.agency.code for v in d.votes),
                            metadata={"description": "Agencies that have voted so far (not how)."})
    outcome = fields.String(allow_none=True)
    resolution_number = fields.String(allow_none=True)
    tally = fields.Dict(allow_none=True, metadata={"description": "Frozen at closing, with each agency's vote."})
    effects = fields.List(fields.Nested(EffectOut))
    attachments = fields.List(fields.Nested(AttachmentOut))


class DecisionQuery(PaginationQuery):
    status = fields.String(validate=validate.OneOf([s.value for s in DecisionStatus]))


class KeyOut(ma.Schema):
    id = fields.Integer()
    components = fields.Dict()
    effective_from = fields.Date()
    resolution_number = fields.Function(lambda k: k.decision.resolution_number)
    in_force = fields.Boolean()


class PoolIn(ma.Schema):
    period = fields.String(required=True, validate=PERIOD)
    category = fields.String(required=True, validate=validate.OneOf(POOL_CATEGORIES))
    amount = DecimalString(required=True, validate=validate.Range(min=0))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class PoolUpdate(ma.Schema):
    amount = DecimalString(validate=validate.Range(min=0))
    description = fields.String(validate=validate.Length(max=2000))


class PoolOut(ma.Schema):
    id = fields.Integer()
    period = fields.Function(lambda p: p.period.strftime("%Y-%m"))
    category = fields.String()
    amount = DecimalString()
    description = fields.String()


class PeriodQuery(ma.Schema):
    period = fields.String(required=True, validate=PERIOD)


class ShareOut(ma.Schema):
    agency = fields.String()
    amount = DecimalString()
    explanation = fields.Dict()


class PoolAllocationOut(ma.Schema):
    pool = fields.Nested(PoolOut)
    shares = fields.List(fields.Nested(ShareOut))
    total = DecimalString()


class AllocationOut(ma.Schema):
    period = fields.String()
    key = fields.Nested(KeyOut)
    pools = fields.List(fields.Nested(PoolAllocationOut))
    recorded = fields.Boolean()
    digest = fields.String(allow_none=True, metadata={
        "description": "In a preview: the fingerprint of its key, pools and inputs, sent back to record it."})


class AllocationIn(ma.Schema):
    period = fields.String(required=True, validate=PERIOD)
    confirm = fields.Boolean(required=True, validate=validate.Equal(True, error="Confirm with \"confirm\": true after reading the preview."))
    digest = fields.String(required=True, validate=validate.Length(max=64), metadata={
        "description": "The digest of the preview read; 409 if the figures changed since."})


AGENCY_CODE = validate.Regexp(r"^[A-Z][A-Z0-9]{1,11}(-[A-Z]{2})?$",
                              error="An agency code: letters and digits, e.g. UNDP or UNDP-AR.")


class MembershipPayload(ma.Schema):
    """The effect of a ``membership`` decision; checked before it can reach the database."""

    class Meta:
        unknown = ma.RAISE

    effective_from = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("join", "leave", "change"),
                                                                  error="Use join, leave or change."))
    agency = fields.String(required=True, validate=[validate.Length(max=20), AGENCY_CODE])
    membership = fields.String(load_default="member", validate=validate.OneOf(("member", "partner"),
                                                                              error="member or partner."))
    name = fields.String(validate=validate.Length(min=2, max=200))
    country = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2 code, e.g. BR."))

    @ma.pre_load
    def normalise(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("agency", "country"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().upper()
        if isinstance(data.get("name"), str):
            data["name"] = data["name"].strip()
        return data
