"""Input and output schemas of billing: price list, charges, periods, invoices, payments."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.billing import invoices
from jof.core.paging import PaginationQuery
from jof.core.schemas import DecimalString

PERIOD = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Expected YYYY-MM.")


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
    period = fields.String(load_default=None, validate=PERIOD)
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
    status = fields.String()
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
    period = fields.String(load_default=None, validate=PERIOD)
    agency = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(("draft", "issued")))


class InvoiceOut(ma.Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    agency = fields.Function(lambda i: i.agency.code)
    period = fields.Function(lambda i: _month(i.period))
    status = fields.Function(lambda i: invoices.status_of(i),
                             metadata={"description": "draft | issued | partially_paid | paid | overdue"})
    total_usd = DecimalString()
    local_currency = fields.String()
    exchange_rate = DecimalString(places=6)
    total_local = fields.Function(lambda i: str(invoices.local_total(i)),
                                  metadata={"description": "To the local currency's minor units."})
    credited = fields.Function(lambda i: str(invoices.credited(i)))
    paid = fields.Function(lambda i: str(invoices.paid(i)))
    balance = fields.Function(lambda i: str(invoices.balance(i)))
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


class StatementOut(ma.Schema):
    agency = fields.String()
    balance = DecimalString()
    entries = fields.List(fields.Nested(EntryOut))
