"""Input and output schemas of procurement (used by the API and the forms alike)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import fields, validate

from jof.core.apikit import DecimalString
from jof.core.calendar import local_today
from jof.core.paging import PaginationQuery
from jof.procurement.models import EVALUATION_METHODS, SUPPLIER_STATUSES

UNSPSC = validate.Regexp(r"^\d{8}$", error="A UNSPSC commodity code has 8 digits, e.g. 43211503.")
UNSPSC_PREFIX = validate.Regexp(r"^\d{2}(\d{2}){0,3}$",
                                error="UNSPSC segment, family, class or commodity: 2, 4, 6 or 8 digits.")
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="ISO 4217 code, e.g. USD or BRL.")
COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2 code, e.g. BR.")
#: The largest id a primary key holds (a 32-bit INTEGER on PostgreSQL): a bigger id in a
#: body names no row, and SQLite's driver overflows beyond 64 bits.
MAX_ID = 2**31 - 1


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class TextLength(validate.Length):
    """Not blank once trimmed, then within the length: one message for an empty text
    ("Must not be blank."), not that and the length's too. A ``Length`` still, so the
    OpenAPI document gives its bounds."""

    def __call__(self, value):
        not_blank(value)
        return super().__call__(value)


def Text(max_length: int, **kw) -> fields.String:  # noqa: N802 - a field factory
    """A required-looking text: not blank once trimmed, at most ``max_length`` characters."""
    return fields.String(validate=TextLength(min=1, max=max_length), **kw)


def Id(**kw) -> fields.Integer:  # noqa: N802 - a field factory
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID, error="No such id."), **kw)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- manuals ---------------------------------------------------------------------------


class ManualOut(ma.Schema):
    id = fields.Integer()
    version = fields.String()
    effective_from = fields.Date()
    rfq_from_usd = DecimalString()
    itb_from_usd = DecimalString()
    committee_from_usd = DecimalString()
    micro_min_quotes = fields.Integer()
    rfq_min_quotes = fields.Integer()
    rfq_min_working_days = fields.Integer()
    itb_min_offers = fields.Integer()
    itb_min_working_days = fields.Integer()
    technical_minimum = DecimalString()
    technical_weight = DecimalString()
    financial_weight = DecimalString()
    decision_id = fields.Integer(allow_none=True)
    in_force = fields.Boolean(metadata={"description": "The version in force today."})


# --- suppliers -------------------------------------------------------------------------


class SupplierUpdate(Strict):
    name = fields.String(validate=validate.Length(min=2, max=200))
    categories = fields.List(fields.String(validate=UNSPSC_PREFIX), validate=validate.Length(max=100))
    contact_name = fields.String(validate=validate.Length(max=200))
    contact_email = fields.Email(allow_none=True)
    contact_phone = fields.String(validate=validate.Length(max=40))


class SupplierIn(SupplierUpdate):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    country = fields.String(required=True, validate=COUNTRY)
    tax_id = fields.String(required=True, validate=validate.Length(min=3, max=40),
                           metadata={"description": "CNPJ in Brazil; unique per country."})


class SupplierStatusIn(Strict):
    status = fields.String(required=True, validate=validate.OneOf(SUPPLIER_STATUSES))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class SupplierOut(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()
    tax_id = fields.String()
    categories = fields.List(fields.String())
    contact_name = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    status = fields.String()
    status_reason = fields.String()
    status_since = fields.Date(allow_none=True)
    rating = DecimalString(allow_none=True, metadata={
        "description": "Average of the 1–5 ratings given at goods receipt; null before any."})


class SupplierQuery(PaginationQuery):
    q = fields.String(metadata={"description": "Name or tax id contains."})
    status = fields.String(validate=validate.OneOf(SUPPLIER_STATUSES))
    category = fields.String(validate=UNSPSC_PREFIX, metadata={
        "description": "Suppliers trading in this UNSPSC code (or a broader one)."})


# --- requisitions ----------------------------------------------------------------------


class RequisitionLineIn(Strict):
    description = Text(500, required=True)
    unspsc = fields.String(required=True, validate=UNSPSC)
    quantity = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))
    unit = Text(20, required=True)
    unit_price = DecimalString(places=4, required=True, validate=validate.Range(min=0, min_inclusive=False))
    currency = fields.String(load_default="USD", validate=CURRENCY)


def not_past(value) -> None:
    """A date needed by is today or later: a field's own check, so that it is reported
    together with every other field's error, in one round."""
    if value is not None and value < local_today():
        raise ma.ValidationError(_("The date needed by cannot be in the past."))


class RequisitionIn(Strict):
    title = Text(200, required=True)
    justification = fields.String(load_default="", validate=validate.Length(max=5000))
    needed_by = fields.Date(load_default=None, allow_none=True, validate=not_past)
    budget_code = fields.String(load_default="", validate=validate.Length(max=60))
    lines = fields.List(fields.Nested(RequisitionLineIn), required=True, validate=validate.Length(min=1, max=200))


class RequisitionLineOut(ma.Schema):
    id = fields.Integer()
    line_no = fields.Integer()
    description = fields.String()
    unspsc = fields.String()
    quantity = DecimalString()
    unit = fields.String()
    unit_price = DecimalString(places=4)
    currency = fields.String()
    estimate_usd = DecimalString()


class RequisitionOut(ma.Schema):
    reference = fields.Function(lambda r: r.request.reference)
    agency = fields.Function(lambda r: r.request.agency.code)
    requester = fields.Function(lambda r: r.request.requester.email)
    title = fields.Function(lambda r: r.request.title)
    status = fields.Function(lambda r: r.request.status)
    version = fields.Function(lambda r: r.request.version)
    justification = fields.String()
    needed_by = fields.Date(allow_none=True)
    budget_code = fields.String()
    estimate_usd = DecimalString()
    estimated_on = fields.Date()
    manual_version = fields.Function(lambda r: r.manual.version if r.manual else None)
    method = fields.String(allow_none=True)
    committee_required = fields.Boolean()
    method_rule = fields.String()
    splitting_warning = fields.String()
    splitting_acknowledged_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(RequisitionLineOut))


class RequisitionQuery(PaginationQuery):
    status = fields.String()
    agency = fields.String()


# --- tenders ---------------------------------------------------------------------------


class LotIn(Strict):
    description = fields.String(load_default="", validate=validate.Length(max=200))
    line_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))


class TenderIn(Strict):
    title = Text(200, required=True)
    evaluation_method = fields.String(load_default="cumulative", validate=validate.OneOf(EVALUATION_METHODS))
    requisitions = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=100),
                               metadata={"description": "References of approved requisitions."})
    lots = fields.List(fields.Nested(LotIn), load_default=None, metadata={
        "description": "Lines per lot; when left out, lines are grouped by UNSPSC class."})


class PublishIn(Strict):
    closing_at = fields.AwareDateTime(required=True, metadata={
        "description": "When bids close (with its time zone offset)."})


class LotLineOut(ma.Schema):
    id = fields.Integer()
    requisition = fields.Function(lambda ll: ll.requisition_line.requisition.request.reference)
    agency = fields.Function(lambda ll: ll.requisition_line.requisition.request.agency.code)
    description = fields.Function(lambda ll: ll.requisition_line.description)
    unspsc = fields.Function(lambda ll: ll.requisition_line.unspsc)
    quantity = fields.Function(lambda ll: str(ll.requisition_line.quantity))
    unit = fields.Function(lambda ll: ll.requisition_line.unit)
    estimate_usd = fields.Function(lambda ll: str(ll.requisition_line.estimate_usd))


class LotOut(ma.Schema):
    number = fields.Integer()
    description = fields.String()
    unspsc_class = fields.String()
    estimate_usd = DecimalString()
    committee_required = fields.Boolean()
    committee_signed_at = fields.DateTime(allow_none=True)
    awarded_bid_id = fields.Integer(allow_none=True)
    award_total = DecimalString(allow_none=True)
    award_justification = fields.String()
    awarded_at = fields.DateTime(allow_none=True)
    status = fields.String()
    lines = fields.List(fields.Nested(LotLineOut))


class TenderOut(ma.Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    method = fields.String()
    evaluation_method = fields.String()
    status = fields.String()
    technical_minimum = DecimalString()
    technical_weight = DecimalString()
    financial_weight = DecimalString()
    closing_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    lots = fields.List(fields.Nested(LotOut))


class BidLineIn(Strict):
    lot_line_id = Id(required=True)
    unit_price = DecimalString(places=4, required=True, validate=validate.Range(min=0, min_inclusive=False))


class BidIn(Strict):
    supplier_id = Id(required=True)
    technical_score = DecimalString(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))
    technically_compliant = fields.Boolean(load_default=True)
    lines = fields.List(fields.Nested(BidLineIn), required=True, validate=validate.Length(min=1))


class BidLineOut(ma.Schema):
    lot_line_id = fields.Integer()
    unit_price = DecimalString(places=4)
    amount_usd = DecimalString()


class BidOut(ma.Schema):
    id = fields.Integer()
    supplier_id = fields.Integer()
    supplier = fields.Function(lambda b: b.supplier.name)
    submitted_at = fields.DateTime()
    technical_score = DecimalString(allow_none=True)
    technically_compliant = fields.Boolean()
    total_usd = DecimalString()
    lines = fields.List(fields.Nested(BidLineOut))


class EvaluationRowOut(ma.Schema):
    rank = fields.Integer(allow_none=True)
    bid_id = fields.Integer()
    supplier = fields.String()
    supplier_status = fields.String()
    submitted_at = fields.DateTime()
    price_usd = DecimalString()
    technical_score = DecimalString(allow_none=True)
    technically_compliant = fields.Boolean()
    considered = fields.Boolean()
    reason = fields.String(metadata={"description": "Why a bid is not considered."})
    technical_points = fields.String(allow_none=True, metadata={
        "description": "technical score / 100 × technical weight, to 4 decimals."})
    financial_points = fields.String(allow_none=True, metadata={
        "description": "lowest considered price / this price × financial weight, to 4 decimals."})
    total_points = fields.String(allow_none=True)
    winner = fields.Boolean()


class CommitteeOut(ma.Schema):
    required = fields.Boolean()
    signed_at = fields.DateTime(allow_none=True)
    signed_by = fields.String(allow_none=True)


class EvaluationOut(ma.Schema):
    method = fields.String()
    technical_minimum = DecimalString()
    technical_weight = DecimalString()
    financial_weight = DecimalString()
    lowest_considered_price = DecimalString(allow_none=True)
    winner_bid_id = fields.Integer(allow_none=True)
    warnings = fields.List(fields.String())
    rows = fields.List(fields.Nested(EvaluationRowOut))
    frozen = fields.Boolean(metadata={"description": "True once the lot is awarded: the table the award was made on."})
    awarded_at = fields.DateTime(allow_none=True)
    awarded_by = fields.String(allow_none=True)
    committee = fields.Nested(CommitteeOut, allow_none=True)


class AwardIn(Strict):
    bid_id = Id(required=True)
    justification = fields.String(required=True, validate=validate.Length(max=5000))


class PurchaseOrderLineOut(ma.Schema):
    id = fields.Integer()
    description = fields.String()
    unspsc = fields.String()
    quantity = DecimalString()
    unit = fields.String()
    unit_price = DecimalString(places=4)
    amount_usd = DecimalString()
    received_quantity = DecimalString()


class PurchaseOrderOut(ma.Schema):
    number = fields.String()
    agency = fields.Function(lambda po: po.agency.code)
    supplier = fields.Function(lambda po: po.supplier.name)
    supplier_id = fields.Integer()
    tender = fields.Function(lambda po: po.lot.tender.number if po.lot else None)
    lot = fields.Function(lambda po: po.lot.number if po.lot else None)
    requisition = fields.Function(lambda po: po.requisition.request.reference if po.requisition else None)
    lta_id = fields.Integer(allow_none=True)
    service_item = fields.String()
    total_usd = DecimalString()
    status = fields.String()
    issued_at = fields.DateTime()
    lines = fields.List(fields.Nested(PurchaseOrderLineOut))


class PurchaseOrderQuery(PaginationQuery):
    agency = fields.String()
    status = fields.String()


class ReceiptLineIn(Strict):
    order_line_id = Id(required=True)
    quantity = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))


class ReceiptIn(Strict):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    received_on = fields.Date(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(ReceiptLineIn), load_default=None, metadata={
        "description": "Quantities received per order line; when left out, everything outstanding."})


class ReceiptOut(ma.Schema):
    id = fields.Integer()
    order = fields.Function(lambda r: r.order.number)
    order_status = fields.Function(lambda r: r.order.status)
    received_on = fields.Date()
    rating = fields.Integer()
    note = fields.String()


# --- long-term agreements ----------------------------------------------------------------


class LtaLineIn(Strict):
    description = Text(500, required=True)
    unspsc = fields.String(required=True, validate=UNSPSC)
    unit = Text(20, required=True)
    unit_price = DecimalString(places=4, required=True, validate=validate.Range(min=0, min_inclusive=False))


class LtaIn(Strict):
    title = Text(200, required=True)
    supplier_id = Id(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Defaults to two years after valid_from; at most three."})
    ceiling_usd = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))
    agencies = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    lines = fields.List(fields.Nested(LtaLineIn), required=True, validate=validate.Length(min=1, max=200))


class LotLtaIn(Strict):
    """An awarded lot becomes an agreement: the supplier and unit prices come from the award."""

    title = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "Defaults to the tender's title and the lot number."})
    valid_from = fields.Date(load_default=None, allow_none=True, metadata={"description": "Defaults to today."})
    valid_to = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Defaults to two years after valid_from; at most three."})
    ceiling_usd = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))
    agencies = fields.List(fields.String(validate=validate.Length(max=20)), load_default=None, metadata={
        "description": "Participating agencies; defaults to those whose requisitions are in the lot."})


class LtaLineOut(ma.Schema):
    id = fields.Integer()
    description = fields.String()
    unspsc = fields.String()
    unit = fields.String()
    unit_price = DecimalString(places=4)


class LtaOut(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    supplier_id = fields.Integer()
    supplier = fields.Function(lambda lta: lta.supplier.name)
    valid_from = fields.Date()
    valid_to = fields.Date()
    ceiling_usd = DecimalString()
    consumed_usd = DecimalString()
    agencies = fields.Function(lambda lta: [a.code for a in lta.agencies])
    lines = fields.List(fields.Nested(LtaLineOut))


class CallOffLineIn(Strict):
    lta_line_id = Id(required=True)
    quantity = DecimalString(required=True, validate=validate.Range(min=0, min_inclusive=False))


class CallOffIn(Strict):
    agency = fields.String(load_default=None, allow_none=True, metadata={
        "description": "For facility staff ordering on an agency's behalf; agency users order for their own."})
    lines = fields.List(fields.Nested(CallOffLineIn), required=True, validate=validate.Length(min=1))


# --- savings -----------------------------------------------------------------------------


class AgencySavingOut(ma.Schema):
    agency = fields.String()
    estimate_usd = DecimalString()
    awarded_usd = DecimalString()
    savings_usd = DecimalString()


class TenderSavingOut(ma.Schema):
    tender_id = fields.Integer()
    tender = fields.String()
    estimate_usd = DecimalString()
    awarded_usd = DecimalString()
    savings_usd = DecimalString()
    agencies = fields.List(fields.Nested(AgencySavingOut))


class SavingsQuery(Strict):
    tender_id = Id(load_default=None)
