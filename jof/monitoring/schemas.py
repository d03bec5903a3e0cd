"""Monitoring schemas: agreements (input and output) and the dashboard filters, shared by
the API and the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from jof.monitoring.agreements import MAX_TARGET
from jof.monitoring.targets import KINDS

MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2099, 12, 31)
#: The longest period a dashboard covers at once.
MAX_PERIOD_DAYS = 3 * 366


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


def _day(**kw) -> fields.Date:
    return fields.Date(validate=validate.Range(min=MIN_DAY, max=MAX_DAY, error="A day from 2000 to 2099."), **kw)


class SlaIn(Strict):
    agency_id = fields.Integer(strict=True, load_default=None, allow_none=True,
                               validate=validate.Range(min=1, max=2**31 - 1, error="No such agency."),
                               metadata={"description": "The agency; empty for the facility-wide default."})
    valid_from = _day(required=True)
    valid_to = _day(load_default=None, allow_none=True)
    reference = fields.String(load_default="", validate=validate.Length(max=120))
    notes = fields.String(load_default="", validate=validate.Length(max=4000))
    targets = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(KINDS), error="Unknown service kind.")),
        values=fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_TARGET)),
        load_default=dict,
        metadata={"description": "Service kind → target in the kind's unit (working days or hours); "
                                 "kinds left out take the facility default."})


class SlaEndIn(Strict):
    valid_to = _day(required=True)


class SlaOut(ma.Schema):
    id = fields.Integer()
    agency = fields.Function(lambda s: s.agency.code if s.agency else None,
                             metadata={"description": "Agency code; null for the facility default."})
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    reference = fields.String()
    notes = fields.String()
    targets = fields.Function(lambda s: {t.kind: t.amount for t in s.targets})
    document_name = fields.String(allow_none=True)
    document_sha256 = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class SlaDocumentIn(ma.Schema):
    file = Upload(required=True, metadata={"description": "The signed agreement: a PDF of at most 5 MB."})


class KindOut(ma.Schema):
    code = fields.String()
    line = fields.String()
    unit = fields.String()
    default = fields.Integer()
    label = fields.Function(lambda k: str(k.label))


class DashboardQuery(Strict):
    """Period (local days, both included; default: the last twelve months), line, agency."""

    start = _day(load_default=None)
    end = _day(load_default=None)
    line = fields.String(load_default=None, validate=validate.OneOf(
        ("procurement", "travel", "ict", "hr", "billing", "governance"), error="Unknown service line."))
    agency = fields.String(load_default=None, validate=validate.Length(min=1, max=10),
                           metadata={"description": "Agency code."})

    @ma.validates_schema
    def _period(self, data, **kw):
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise ma.ValidationError("The period cannot end before it starts.", "end")
        if start and end and end - start > timedelta(days=MAX_PERIOD_DAYS):
            raise ma.ValidationError("A dashboard covers at most three years at once.", "end")


class TableOut(ma.Schema):
    key = fields.String()
    title = fields.Function(lambda t: str(t.title))
    headers = fields.Function(lambda t: [str(h) for h in t.columns])
    columns = fields.Function(lambda t: list(t.keys))
    rows = fields.Function(lambda t: [{k: _wire(v) for k, v in zip(t.keys, row, strict=True)} for row in t.rows])


def _wire(value):
    """Amounts as decimal strings (as everywhere in the API), days as ISO dates."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, (int, str)) else str(value)


class DashboardOut(ma.Schema):
    start = fields.Date()
    end = fields.Date()
    line = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    tables = fields.List(fields.Nested(TableOut))

