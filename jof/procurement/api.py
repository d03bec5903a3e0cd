"""Procurement API under /api/v1/procurement (resource map of DESIGN §10)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy.orm import joinedload, selectinload

from jof.core import authz
from jof.core.apikit import Blueprint, if_match, page_schema
from jof.core.paging import PaginationQuery, page_of
from jof.procurement import awards, manual, requisitions
from jof.procurement import evaluation as lot_evaluation
from jof.procurement import ltas as agreements
from jof.procurement import orders as ordering
from jof.procurement import savings as savings_report
from jof.procurement import schemas as s
from jof.procurement import suppliers as supplier_register
from jof.procurement import tenders as tendering
from jof.procurement.lists import with_consumed
from jof.procurement.models import (
    LongTermAgreement,
    Lot,
    PurchaseOrder,
    Requisition,
)

#: What each list's representation reads, for a whole page in a fixed number of statements.
TENDER_LOADS = (tendering.LOT_LINES,)
ORDER_LOADS = (joinedload(PurchaseOrder.agency), joinedload(PurchaseOrder.supplier),
               joinedload(PurchaseOrder.lot).joinedload(Lot.tender),
               joinedload(PurchaseOrder.requisition).joinedload(Requisition.request), selectinload(PurchaseOrder.lines))
LTA_LOADS = (joinedload(LongTermAgreement.supplier), selectinload(LongTermAgreement.agencies),
             selectinload(LongTermAgreement.lines))

blp = Blueprint("procurement_api", __name__, url_prefix="/api/v1/procurement",
                description="Pooled procurement: suppliers, requisitions, joint tenders, orders, LTAs")


@blp.route("/manuals")
@blp.response(200, s.ManualOut(many=True))
def manuals():
    """Every version of the procurement manual, newest first, and which is in force today."""
    authz.require_user()
    return manual.manuals()


# --- suppliers ---------------------------------------------------------------------------


@blp.route("/suppliers")
class Suppliers(MethodView):
    @blp.arguments(s.SupplierQuery, location="query")
    @blp.response(200, page_schema(s.SupplierOut, "SupplierPage"))
    def get(self, q):
        """The supplier register; filter by name or tax id, status, UNSPSC category."""
        authz.require_user()
        page = page_of(supplier_register.suppliers_query(q.get("q"), q.get("status"), q.get("category")),
                       q["page"], q["per_page"])
        page["items"] = supplier_register.with_ratings(page["items"])
        return page

    @blp.arguments(s.SupplierIn)
    @blp.response(201, s.SupplierOut)
    @blp.errors(403, 422)
    def post(self, data):
        """Register a supplier (procurement officer); the tax id is unique per country."""
        return supplier_register.with_rating(supplier_register.create_supplier(authz.require_user(), data))


@blp.route("/suppliers/<int:supplier_id>")
class SupplierItem(MethodView):
    @blp.response(200, s.SupplierOut)
    @blp.errors(404)
    def get(self, supplier_id):
        authz.require_user()
        return supplier_register.with_rating(supplier_register.get_supplier(supplier_id))

    @blp.arguments(s.SupplierUpdate)
    @blp.response(200, s.SupplierOut)
    @blp.errors(403, 404, 422)
    def patch(self, data, supplier_id):
        user = authz.require_user()
        supplier = supplier_register.get_supplier(supplier_id)
        with if_match(supplier, s.SupplierOut, supplier_register.with_rating):
            return supplier_register.with_rating(supplier_register.update_supplier(user, supplier, data))


@blp.route("/suppliers/<int:supplier_id>/status", methods=["POST"])
@blp.arguments(s.SupplierStatusIn)
@blp.response(200, s.SupplierOut)
@blp.errors(403, 404, 422)
def supplier_status(data, supplier_id):
    """Suspend, debar (reason required) or reinstate a supplier."""
    user = authz.require_user()
    supplier = supplier_register.get_supplier(supplier_id)
    return supplier_register.with_rating(supplier_register.set_supplier_status(user, supplier, data["status"], data["reason"]))


# --- requisitions -------------------------------------------------------------------------


@blp.route("/requisitions")
class Requisitions(MethodView):
    @blp.arguments(s.RequisitionQuery, location="query")
    @blp.response(200, page_schema(s.RequisitionOut, "RequisitionPage"))
    def get(self, q):
        """Requisitions: an agency's own, or every agency's for facility staff."""
        user = authz.require_user()
        return page_of(requisitions.requisitions_query(user, q.get("status"), q.get("agency")), q["page"], q["per_page"])

    @blp.arguments(s.RequisitionIn)
    @blp.response(201, s.RequisitionOut)
    @blp.errors(403, 422)
    def post(self, data):
        """File a draft requisition for the caller's agency; move it with /requests/<reference>/transitions."""
        return requisitions.create_requisition(authz.require_user(), data)


@blp.route("/requisitions/<reference>")
@blp.response(200, s.RequisitionOut)
@blp.errors(404)
def requisition(reference):
    return requisitions.get_requisition(authz.require_user(), reference)


@blp.route("/requisitions/<reference>/splitting-acknowledgement", methods=["POST"])
@blp.response(200, s.RequisitionOut)
@blp.errors(403, 404, 409)
def acknowledge_splitting(reference):
    """A procurement officer acknowledges the splitting warning so sourcing can start."""
    user = authz.require_user()
    return requisitions.acknowledge_splitting(user, requisitions.get_requisition(user, reference))


# --- tenders ------------------------------------------------------------------------------


@blp.route("/tenders")
class Tenders(MethodView):
    @blp.arguments(PaginationQuery, location="query")
    @blp.response(200, page_schema(s.TenderOut, "TenderPage"))
    @blp.errors(403)
    def get(self, q):
        return page_of(tendering.tenders_query(authz.require_user()).options(*TENDER_LOADS), q["page"], q["per_page"])

    @blp.arguments(s.TenderIn)
    @blp.response(201, s.TenderOut)
    @blp.errors(403, 409, 422)
    def post(self, data):
        """Pool approved requisitions into one joint tender; lines are grouped into lots."""
        return tendering.create_tender(authz.require_user(), data)


@blp.route("/tenders/<int:tender_id>")
@blp.response(200, s.TenderOut)
@blp.errors(403, 404)
def tender(tender_id):
    return tendering.get_tender(authz.require_user(), tender_id)


@blp.route("/tenders/<int:tender_id>/publish", methods=["POST"])
@blp.arguments(s.PublishIn)
@blp.response(200, s.TenderOut)
@blp.errors(403, 404, 409, 422)
def publish(data, tender_id):
    user = authz.require_user()
    return tendering.publish(user, tendering.get_tender(user, tender_id), data["closing_at"])


@blp.route("/tenders/<int:tender_id>/lots/<int:number>/bids")
class Bids(MethodView):
    @blp.response(200, s.BidOut(many=True))
    @blp.errors(403, 404, 409)
    def get(self, tender_id, number):
        """The bids of a lot, once the tender has closed (sealed until then)."""
        user = authz.require_user()
        lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
        lot_evaluation.ensure_unsealed(user, lot)
        return tendering.bids_of(lot)

    @blp.arguments(s.BidIn)
    @blp.response(201, s.BidOut)
    @blp.errors(403, 404, 409, 422)
    def post(self, data, tender_id, number):
        """Record a bid; refused after the closing time and for a supplier that is not active (409)."""
        user = authz.require_user()
        return tendering.record_bid(user, tendering.get_lot(tendering.get_tender(user, tender_id), number), data)


@blp.route("/tenders/<int:tender_id>/lots/<int:number>/evaluation")
@blp.response(200, s.EvaluationOut)
@blp.errors(403, 404, 409)
def evaluation(tender_id, number):
    """The evaluation table of a lot with every term (DESIGN §3); once the lot is awarded,
    the table frozen at the award (``frozen``: true), whatever happened to the bidders since."""
    user = authz.require_user()
    lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
    return lot_evaluation.table_for(user, lot)


@blp.route("/tenders/<int:tender_id>/lots/<int:number>/committee", methods=["POST"])
@blp.response(200, s.LotOut)
@blp.errors(403, 404, 409)
def committee(tender_id, number):
    """The contracts committee's sign-off, where the manual requires it."""
    user = authz.require_user()
    return lot_evaluation.committee_sign_off(user, tendering.get_lot(tendering.get_tender(user, tender_id), number))


@blp.route("/tenders/<int:tender_id>/lots/<int:number>/award", methods=["POST"])
@blp.arguments(s.AwardIn)
@blp.response(201, s.PurchaseOrderOut(many=True))
@blp.errors(403, 404, 409, 422)
def award(data, tender_id, number):
    """Award the lot to its evaluated winner: one purchase order per agency."""
    user = authz.require_user()
    lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
    return awards.award(user, lot, data["bid_id"], data["justification"])


@blp.route("/tenders/<int:tender_id>/lots/<int:number>/lta", methods=["POST"])
@blp.arguments(s.LotLtaIn)
@blp.response(201, s.LtaOut)
@blp.errors(403, 404, 409, 422)
def lot_lta(data, tender_id, number):
    """The awarded lot becomes a long-term agreement with the winning bid's supplier and unit prices."""
    user = authz.require_user()
    lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
    return agreements.with_consumed(agreements.lta_from_lot(user, lot, data))


# --- purchase orders ------------------------------------------------------------------------


@blp.route("/purchase-orders")
@blp.arguments(s.PurchaseOrderQuery, location="query")
@blp.response(200, page_schema(s.PurchaseOrderOut, "PurchaseOrderPage"))
def purchase_orders(q):
    user = authz.require_user()
    return page_of(ordering.orders_query(user, q.get("agency"), q.get("status")).options(*ORDER_LOADS),
                   q["page"], q["per_page"])


@blp.route("/purchase-orders/<number>")
@blp.response(200, s.PurchaseOrderOut)
@blp.errors(404)
def purchase_order(number):
    return ordering.get_order(authz.require_user(), number)


@blp.route("/purchase-orders/<number>/receipts")
class Receipts(MethodView):
    @blp.response(200, s.ReceiptOut(many=True))
    @blp.errors(404)
    def get(self, number):
        return ordering.get_order(authz.require_user(), number).receipts

    @blp.arguments(s.ReceiptIn)
    @blp.response(201, s.ReceiptOut)
    @blp.errors(403, 404, 409, 422)
    def post(self, data, number):
        """Record goods received (partly or fully) with a 1–5 rating of the supplier."""
        user = authz.require_user()
        return ordering.receive(user, ordering.get_order(user, number), data)


# --- long-term agreements --------------------------------------------------------------------


@blp.route("/ltas")
class Ltas(MethodView):
    @blp.arguments(PaginationQuery, location="query")
    @blp.response(200, page_schema(s.LtaOut, "LtaPage"))
    def get(self, q):
        authz.require_user()
        page = page_of(agreements.ltas_query().options(*LTA_LOADS), q["page"], q["per_page"])
        with_consumed(page["items"])  # one grouped statement for the page
        return page

    @blp.arguments(s.LtaIn)
    @blp.response(201, s.LtaOut)
    @blp.errors(403, 409, 422)
    def post(self, data):
        """Enter a long-term agreement: catalogue, validity (at most 3 years), ceiling, participants."""
        return agreements.with_consumed(agreements.create_lta(authz.require_user(), data))


@blp.route("/ltas/<int:lta_id>")
@blp.response(200, s.LtaOut)
@blp.errors(404)
def lta(lta_id):
    authz.require_user()
    return agreements.with_consumed(agreements.get_lta(lta_id))


@blp.route("/ltas/<int:lta_id>/call-offs", methods=["POST"])
@blp.arguments(s.CallOffIn)
@blp.response(201, s.PurchaseOrderOut)
@blp.errors(403, 404, 409, 422)
def call_off(data, lta_id):
    """Place a call-off order; refused past the ceiling or validity, or for a non-participant."""
    user = authz.require_user()
    return agreements.call_off(user, agreements.get_lta(lta_id, lock=True), data)


# --- savings -----------------------------------------------------------------------------------


@blp.route("/savings")
@blp.arguments(s.SavingsQuery, location="query")
@blp.response(200, s.TenderSavingOut(many=True))
@blp.errors(403)
def savings(q):
    """Per tender and per agency: estimates minus award."""
    return savings_report.savings(authz.require_user(), q.get("tender_id"))
