"""Input and output schemas of billing: price list, charges, periods, invoices, payments,
statements and jobs."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.billing import balances
from jof.billing.states import InvoiceStatus, JobKind, JobStatus, PeriodStatus, Standing
from jof.core.calendar import MONTH_MESSAGE, parse_month
from jof.core.errors import ValidationFailed
from jof.core.paging import PaginationQuery
from jof.core.schemas import DecimalString


class Month(fields.String):
    """A billing month ``YYYY-MM`` (2000-01 to 2099-12, ``core.calendar``), loaded as the
    first day of the month."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_month(value if isinstance(value, str) else None)
        except ValidationFailed:
            raise ma.ValidationError(MONTH_MESSAGE) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime("%Y-%m") if value else None


def _values(enum) -> str:
    return " | ".join(enum)


def _month(value) -> str | None:
    return value.strftime("%Y-%m") if value else None


class PriceItemOut(ma.Schema):
    code = fields.String()
    service_line = fields.String()
    description = fields.String()
    unit = fields.String()
    method = fields.String(metadata={"description": "flat | percentage"})
    amount = DecimalString(places=4, allow_none=True)
    rate = DecimalString(places=4, allow_none=True, metadata={"description": "Percentage of the value."})
    floor = DecimalString(allow_none=True)
    cap = DecimalString(allow_none=True)


class PriceListOut(ma.Schema):
    version = fields.Integer()
    effective_from = fields.Date()
    decision_id = fields.Integer(allow_none=True)
    notes = fields.String()
    items = fields.List(fields.Nested(PriceItemOut))


class PriceListQuery(ma.Schema):
    on = fields.Date(load_default=None, metadata={"description": "The version in force on this date (default today)."})


class ChargeQuery(PaginationQuery):
    period = Month(load_default=None, metadata={"description": "YYYY-MM"})
    agency = fields.String(load_default=None)


class ChargeOut(ma.Schema):
    id = fields.Integer()
    source_ref = fields.String()
    agency = fields.Function(lambda c: c.agency.code)
    period = fields.Function(lambda c: _month(c.period))
    service_line = fields.String()
    item_code = fields.String()
    kind = fields.String()
    description = fields.String()
    quantity = DecimalString(places=4)
    unit_price = DecimalString(places=4, allow_none=True)
    amount = DecimalString()
    delivered_on = fields.Date()
    note = fields.String()
    invoice = fields.Function(lambda c: c.invoice_id)


class PeriodOut(ma.Schema):
    period = fields.Function(lambda p: _month(p.month))
    status = fields.String(metadata={"description": _values(PeriodStatus)})
    closed_at = fields.DateTime(allow_none=True)
    summary = fields.Dict(allow_none=True)


class CloseOut(ma.Schema):
    period = fields.Function(lambda r: _month(r.period))
    changed = fields.Boolean(metadata={"description": "False when the period was closed already."})
    message = fields.String()
    invoices = fields.Function(lambda r: [i.id for i in r.invoices])


class LineOut(ma.Schema):
    position = fields.Integer()
    kind = fields.String()
    service_line = fields.String()
    item_code = fields.String()
    description = fields.String()
    quantity = DecimalString(places=4)
    unit_price = DecimalString(places=4, allow_none=True)
    amount = DecimalString()
    explanation = fields.Dict(allow_none=True)


class PaymentIn(ma.Schema):
    paid_on = fields.Date(required=True)
    amount = DecimalString(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=120))


class PaymentOut(ma.Schema):
    id = fields.Integer()
    paid_on = fields.Date()
    amount = DecimalString()
    reference = fields.String()


class CreditNoteIn(ma.Schema):
    invoice = fields.String(required=True, metadata={"description": "Number of the issued invoice."})
    amount = DecimalString(load_default=None, allow_none=True,
                           metadata={"description": "Omit for a full credit of what remains."})
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class CreditNoteOut(ma.Schema):
    number = fields.String()
    invoice = fields.Function(lambda c: c.invoice.number)
    agency = fields.Function(lambda c: c.invoice.agency.code)
    amount = DecimalString()
    reason = fields.String()
    issued_on = fields.Date()


class InvoiceQuery(PaginationQuery):
    period = Month(load_default=None, metadata={"description": "YYYY-MM"})
    agency = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(tuple(InvoiceStatus)))


class InvoiceOut(ma.Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    agency = fields.Function(lambda i: i.agency.code)
    period = fields.Function(lambda i: _month(i.period))
    status = fields.Function(lambda i: str(balances.standing(i)), metadata={
        "description": f"{_values(Standing)}: credited when credit notes cancel the whole total."})
    total_usd = DecimalString()
    local_currency = fields.String()
    exchange_rate = DecimalString(places=6)
    total_local = fields.Function(lambda i: str(balances.local_total(i)),
                                  metadata={"description": "To the local currency's minor units."})
    credited = fields.Function(lambda i: str(balances.credited(i)))
    paid = fields.Function(lambda i: str(balances.paid(i)))
    balance = fields.Function(lambda i: str(balances.balance(i)))
    issued_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    lines = fields.List(fields.Nested(LineOut))


class EntryOut(ma.Schema):
    on = fields.Date()
    kind = fields.String()
    reference = fields.String()
    description = fields.String()
    debit = DecimalString()
    credit = DecimalString()
    balance = DecimalString()
    status = fields.String(allow_none=True, metadata={
        "description": f"Where an invoice stands today ({_values(Standing)}); null for other entries."})


class StatementOut(ma.Schema):
    agency = fields.String()
    balance = DecimalString()
    entries = fields.List(fields.Nested(EntryOut))


class JobIn(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(JobKind)))
    period = Month(required=True, metadata={"description": "YYYY-MM"})


class JobOut(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": _values(JobKind)})
    period = fields.Function(lambda j: _month(j.period))
    status = fields.String(metadata={"description": _values(JobStatus)})
    done = fields.Integer(metadata={"description": "Items done so far (invoices rendered)."})
    total = fields.Integer()
    message = fields.String(metadata={"description": "The outcome, or why it failed."})
    result = fields.Dict(allow_none=True)
    requested_by = fields.Function(lambda j: j.requested_by.email)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
