"""Input and output schemas of the HR resources (the API and the forms share them)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import fields, validate

from jof.core.calendar import local_today
from jof.core.paging import PaginationQuery
from jof.core.schemas import DecimalString
from jof.hr.models import CONTRACT_TYPES, EDUCATION_LEVELS, GENDERS, LEVELS
from jof.hr.screening import screen_application

SCORE_RANGE = validate.Range(min=0, max=100)
#: The largest id a primary key holds (a 32-bit INTEGER on PostgreSQL).
MAX_ID = 2**31 - 1
LANGUAGE = fields.String(validate=validate.Length(min=2, max=40))


class MethodIn(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=80))
    weight = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))


def not_past(day) -> None:
    """A vacancy cannot close before it is advertised (the facility's today counts)."""
    if day < local_today():
        raise ma.ValidationError(_("This day has passed: choose today or a later day to close applications."))


class RecruitmentIn(ma.Schema):
    post_title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    title = fields.String(validate=validate.Length(max=200), metadata={
        "description": "The request's title; the post title when omitted."})
    description = fields.String(validate=validate.Length(max=5000))
    job_family = fields.String(required=True, validate=validate.Length(min=2, max=80))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    contract_type = fields.String(required=True, validate=validate.OneOf(CONTRACT_TYPES))
    duty_station = fields.String(required=True, validate=validate.Length(min=2, max=120))
    closing_date = fields.Date(required=True, validate=not_past)
    estimated_cost_usd = DecimalString(required=True, validate=validate.Range(min=0), metadata={
        "description": "The post's estimated yearly cost in USD; above the agency's approval "
                       "limit its head must certify the request."})
    min_education = fields.String(required=True, validate=validate.OneOf(EDUCATION_LEVELS))
    min_years_experience = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=50))
    required_languages = fields.List(LANGUAGE, load_default=list, validate=validate.Length(max=10))
    desirable_languages = fields.List(LANGUAGE, load_default=list, validate=validate.Length(max=10))
    methods = fields.List(fields.Nested(MethodIn), required=True, validate=validate.Length(min=1, max=10),
                          metadata={"description": "The assessment plan: methods and weights summing to 100."})
    pass_mark = DecimalString(required=True, validate=validate.Range(min=0, max=100))
    hiring_manager = fields.Email(metadata={
        "description": "E-mail of the agency's requester or head who runs the selection; the filer by default."})
    from_roster = fields.Boolean(load_default=False, metadata={
        "description": "Hire from the roster of the job family and level: once approved, no advertising "
                       "or assessment; selection among the roster candidates who agree to be considered."})


class MethodOut(ma.Schema):
    name = fields.String()
    weight = fields.Integer()


class RecruitmentOut(ma.Schema):
    reference = fields.String(attribute="request.reference")
    status = fields.String(attribute="request.status")
    version = fields.Integer(attribute="request.version")
    agency = fields.String(attribute="request.agency.code")
    post_title = fields.String()
    job_family = fields.String()
    level = fields.String()
    contract_type = fields.String()
    duty_station = fields.String()
    closing_date = fields.Date()
    estimated_cost_usd = DecimalString(attribute="request.amount_usd")
    min_education = fields.String()
    min_years_experience = fields.Integer()
    required_languages = fields.List(fields.String())
    desirable_languages = fields.List(fields.String())
    methods = fields.List(fields.Nested(MethodOut))
    pass_mark = DecimalString()
    hiring_manager = fields.String(attribute="hiring_manager.email")
    from_roster = fields.Boolean()


class RecruitmentQuery(PaginationQuery):
    status = fields.String(validate=validate.Length(max=30))


class ApplicationIn(ma.Schema):
    full_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default="", validate=validate.Length(max=40))
    education = fields.String(required=True, validate=validate.OneOf(EDUCATION_LEVELS))
    years_experience = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=70))
    languages = fields.List(LANGUAGE, load_default=list, validate=validate.Length(max=20))
    gender = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GENDERS), metadata={
        "description": "Self-declared, optional; reported only as aggregates (never answered per candidate)."})
    nationality = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Give the two-letter country code, e.g. BR."), metadata={
        "description": "ISO 3166-1 alpha-2, self-declared, optional; reported only as aggregates."})


class CandidateOut(ma.Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()
    phone = fields.String()
    education = fields.String()
    years_experience = fields.Integer()
    languages = fields.List(fields.String())


class CheckOut(ma.Schema):
    requirement = fields.String()
    met = fields.Boolean()
    reason = fields.String()


class ScoreOut(ma.Schema):
    method = fields.String(attribute="method.name")
    score = DecimalString()


class ApplicationOut(ma.Schema):
    id = fields.Integer()
    seq = fields.Integer(metadata={"description": "Order of recording within the recruitment; breaks the last tie."})
    applied_at = fields.DateTime()
    candidate = fields.Nested(CandidateOut)
    meets_requirements = fields.Boolean(metadata={"description": "The automatic screening."})
    screening = fields.Method("_screening", metadata={
        "description": "One line per requirement, e.g. \"3 years of experience, 5 required\"."})
    reasons = fields.Method("_reasons", metadata={"description": "The requirements not met."})
    override = fields.Boolean(allow_none=True)
    override_comment = fields.String()
    screened_in = fields.Boolean()
    short_listed = fields.Boolean()
    selected = fields.Boolean()
    scores = fields.List(fields.Nested(ScoreOut))

    def _screening(self, app):
        return CheckOut(many=True).dump(screen_application(app.recruitment, app.candidate).checks)

    def _reasons(self, app):
        return screen_application(app.recruitment, app.candidate).reasons


class OverrideIn(ma.Schema):
    screened_in = fields.Boolean(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ScoreIn(ma.Schema):
    method = fields.String(required=True, validate=validate.Length(min=1, max=80))
    score = DecimalString(required=True, validate=SCORE_RANGE)


class ScoresIn(ma.Schema):
    scores = fields.List(fields.Nested(ScoreIn), required=True, validate=validate.Length(min=1, max=10))


class TermOut(ma.Schema):
    method = fields.String()
    score = DecimalString()
    weight = fields.Integer()
    points = DecimalString(places=4)


class RowOut(ma.Schema):
    rank = fields.Integer()
    application_id = fields.Integer()
    candidate_id = fields.Integer()
    seq = fields.Integer()
    terms = fields.List(fields.Nested(TermOut))
    total = DecimalString(places=4)
    passed = fields.Boolean()


class RankingOut(ma.Schema):
    pass_mark = DecimalString()
    tie_break = fields.List(fields.String(), metadata={
        "description": "Methods in the order their scores break a tie of totals; then the earlier application."})
    rows = fields.List(fields.Nested(RowOut))


class SelectPayload(ma.Schema):
    """The payload of ``select``: the application of the candidate the agency chooses."""

    #: Bounded to what a primary key holds: a bigger number is no application (422), not
    #: an overflow in the database driver.
    application_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))


class ReadvertisePayload(ma.Schema):
    """The payload of ``readvertise``: the new round closes on a new day."""

    closing_date = fields.Date(required=True, validate=not_past, metadata={
        "description": "The last day of the new round's applications (the facility's date)."})


PAYLOADS = {"select": SelectPayload, "readvertise": ReadvertisePayload}
