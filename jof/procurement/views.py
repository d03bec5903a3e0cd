"""Procurement pages: requesters file and follow requisitions; officers run tenders,
bids, evaluation, orders and agreements; the manager follows savings. Thin: load,
authorize, validate with the API's schemas, call a service, render."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core import authz, field_messages, forms, listing, templating, workflow
from jof.core.calendar import facility_zone, local_today
from jof.core.db import db
from jof.core.errors import DomainError, Forbidden, ValidationFailed
from jof.core.people import Agency, Role
from jof.procurement import awards, lists, queries, requisitions, states
from jof.procurement import evaluation as lot_evaluation
from jof.procurement import ltas as agreements
from jof.procurement import orders as purchase_orders
from jof.procurement import requisition_form as rf
from jof.procurement import savings as savings_report
from jof.procurement import schemas as s
from jof.procurement import suppliers as supplier_register
from jof.procurement import tenders as tendering
from jof.procurement.models import (
    EVALUATION_METHODS,
    SUPPLIER_STATUSES,
    PurchaseOrder,
)

bp = Blueprint("procurement", __name__, url_prefix="/procurement", template_folder="templates")

LINE_ROWS = 5


def register_labels() -> None:
    """The words a reader sees for this line's own states, steps and request type (the
    core knows only the spine's; without these a Portuguese page would show English
    codes). Called by ``jof.procurement.install``."""
    field_messages.FIELD_LABELS.update({
        "unspsc": _l("UNSPSC code"), "evaluation_method": _l("Evaluation method"), "closing_at": _l("Closing time"),
        "supplier_id": _l("Supplier"), "bid_id": _l("Bid"), "ceiling_usd": _l("Ceiling (USD)"),
        "categories": _l("UNSPSC categories"), "tax_id": _l("Tax id"), "contact_name": _l("Contact name"),
        "contact_email": _l("Contact e-mail"), "contact_phone": _l("Contact phone"),
        "received_on": _l("Received on"), "technical_score": _l("Technical score"), "lots": _l("Lots")})
    templating.STATUS_LABELS.update({states.SOURCING: _l("Sourcing"), states.ORDERED: _l("Ordered")})
    templating.ACTION_LABELS.update({"source": _l("Start sourcing"), "order": _l("Ordered")})
    templating.ACTION_DONE_LABELS.update({"source": _l("Sourcing started"), "order": _l("Ordered")})
    templating.TYPE_LABELS.update({states.CODE: _l("Requisition")})



@bp.app_template_filter("procurement_word")
def _word(code: str | None) -> str:
    return lists.word(code)


def _is_officer(user) -> bool:
    return authz.is_officer_for(user, "procurement") or user.has_role(Role.MANAGER)


# --- requisitions --------------------------------------------------------------------------


@bp.route("/")
def index():
    user = authz.require_user()
    status = request.args.get("status") or None
    stmt = requisitions.requisitions_query(user, status).options(*lists.REQUISITION_LOADS)
    return listing.respond(lists.REQUISITIONS, stmt, "procurement/index.html", _("Requisitions"), 25,
                           status=status, can_file=user.has_role(Role.REQUESTER) and not user.is_facility_staff,
                           is_officer=_is_officer(user), states=states)


def _requisition_form(user, req=None):
    """New requisition or a draft's edit: save the draft, or save and submit it at once."""
    form = request.form if request.method == "POST" else (rf.form_of(req) if req else {})
    intent = request.form.get("intent", "draft")
    if request.method == "GET" or intent == "add_line":
        return _render_requisition_form(req, form, extra=1 if intent == "add_line" else 0)
    data, rows = rf.data_of(form)
    try:
        data = forms.load(s.RequisitionIn(), data)
        if req is None:
            req = requisitions.create_requisition(user, data)
        else:
            requisitions.update_requisition(user, req, data, _int(form.get("version")))
    except ValidationFailed as exc:
        db.session.rollback()
        errors, summary = rf.plain_errors(exc.errors, rows, form)
        return _render_requisition_form(req, form, errors=errors, summary=summary), 422
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _render_requisition_form(req, form, summary=[exc.detail]), status
    ref = req.request.reference
    if intent == "submit":
        try:
            workflow.perform(user, req.request, "submit", version=req.request.version)
        except DomainError as exc:  # the move is undone; the draft is kept
            flash(_("%(ref)s is saved as a draft, but it could not be submitted: %(why)s", ref=ref,
                    why=exc.detail), "error")
            return redirect(url_for("procurement.requisition", reference=ref))
        flash(_("%(ref)s is submitted; the manager (or your agency's head, above its limit) acts next.",
                ref=ref), "success")
    else:
        flash(_("%(ref)s is saved as a draft; you can edit it and submit it from its page.", ref=ref),
              "success")
    return redirect(url_for("procurement.requisition", reference=ref))


def _int(text) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise ValidationFailed({"version": [_("The form lost the draft's version; reload the page.")]}) from None


def _render_requisition_form(req, form, *, extra: int = 0, errors: dict | None = None,
                             summary: list | None = None):
    return render_template("procurement/requisition_new.html", req=req, form=form, errors=errors or {},
                           summary=summary or [], rows=rf.rows_shown(form, extra), fields=rf.FIELDS,
                           rates=rf.rates(local_today()), min_day=local_today().isoformat())


@bp.route("/requisitions/new", methods=["GET", "POST"])
def requisition_new():
    user = authz.require_user()
    authz.ensure_can_change(user)
    return _requisition_form(user)


@bp.route("/requisitions/<reference>/edit", methods=["GET", "POST"])
def requisition_edit(reference):
    user = authz.require_user()
    req = requisitions.get_requisition(user, reference)
    authz.ensure_can_change(user)
    if req.request.requester_id != user.id:
        raise Forbidden(_("Only the requester who filed a draft may edit it, and only while it is a draft."))
    if req.request.status != workflow.Status.DRAFT:
        flash(_("Only the requester who filed a draft may edit it, and only while it is a draft."), "error")
        return redirect(url_for("procurement.requisition", reference=reference))
    return _requisition_form(user, req)


@bp.route("/requisitions/<reference>")
def requisition(reference):
    user = authz.require_user()
    req = requisitions.get_requisition(user, reference)
    return render_template("procurement/requisition.html", req=req, sr=req.request,
                           tender=queries.tender_of(req), orders=queries.orders_of(req),
                           is_officer=_is_officer(user),
                           actions=workflow.available_transitions(user, req.request))


@bp.route("/requisitions/<reference>/acknowledge", methods=["POST"])
def acknowledge(reference):
    user = authz.require_user()
    req = requisitions.get_requisition(user, reference)
    try:
        requisitions.acknowledge_splitting(user, req)
        flash(_("Splitting warning acknowledged; sourcing may start."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    return redirect(url_for("procurement.requisition", reference=reference))


# --- suppliers -------------------------------------------------------------------------------


@bp.route("/suppliers")
def suppliers():
    user = authz.require_user()
    q = request.args.get("q") or None
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    if status not in (None, *SUPPLIER_STATUSES):
        status = None
    if category and not category.isdigit():
        category = None
    return listing.respond(lists.SUPPLIERS, supplier_register.suppliers_query(q, status, category),
                           "procurement/suppliers.html", _("Suppliers"), 25, prepare=lists.with_ratings,
                           q=q or "", status=status or "", category=category or "",
                           statuses=SUPPLIER_STATUSES, is_officer=_is_officer(user))


def _supplier_form_data(form) -> dict:
    data = {k: form.get(k, "").strip() for k in ("name", "country", "tax_id", "contact_name", "contact_phone")}
    data["country"] = data["country"].upper()
    if form.get("contact_email", "").strip():
        data["contact_email"] = form["contact_email"].strip()
    data["categories"] = [c for c in form.get("categories", "").replace(",", " ").split() if c]
    return data


@bp.route("/suppliers/new", methods=["GET", "POST"])
def supplier_new():
    user = authz.require_user()
    if not _is_officer(user):
        authz.require_roles(user, Role.OFFICER, why=_("Only a procurement officer registers suppliers."))
    form = request.form if request.method == "POST" else {"country": "BR"}
    errors: dict = {}
    if request.method == "POST":
        try:
            supplier = supplier_register.create_supplier(user, forms.load(s.SupplierIn(), _supplier_form_data(form)))
            db.session.flush()
            flash(_("Supplier registered."), "success")
            return redirect(url_for("procurement.supplier", supplier_id=supplier.id))
        except ValidationFailed as exc:
            errors = exc.errors
            db.session.rollback()
    return render_template("procurement/supplier_new.html", form=form, errors=errors), 422 if errors else 200


@bp.route("/suppliers/<int:supplier_id>", methods=["GET", "POST"])
def supplier(supplier_id):
    user = authz.require_user()
    sup = supplier_register.get_supplier(supplier_id)
    errors: dict = {}
    if request.method == "POST":
        try:
            data = forms.load(s.SupplierStatusIn(), {"status": request.form.get("status", ""),
                                                "reason": request.form.get("reason", "")})
            supplier_register.set_supplier_status(user, sup, data["status"], data["reason"])
            flash(_("Supplier status changed to %(status)s.", status=data["status"]), "success")
            return redirect(url_for("procurement.supplier", supplier_id=supplier_id))
        except ValidationFailed as exc:
            errors = exc.errors
            db.session.rollback()
            sup = supplier_register.get_supplier(supplier_id)
    return _supplier_page(user, sup, errors, request.form)


def _supplier_page(user, sup, errors: dict, form):
    bids = supplier_register.opened_bids_of(user, sup)
    orders = db.session.scalars(purchase_orders.orders_query(user).where(PurchaseOrder.supplier_id == sup.id)).all()
    return render_template("procurement/supplier.html", sup=supplier_register.with_rating(sup), bids=bids, orders=orders,
                           statuses=SUPPLIER_STATUSES, errors=errors, form=form,
                           show_bids=user.is_facility_staff, is_officer=_is_officer(user)), 422 if errors else 200


#: What each status does to the supplier, for the confirmation page.
STATUS_CONSEQUENCES = {
    "suspended": _l("Suspend %(name)s: until reinstated, the supplier cannot bid, be awarded a lot, sign a "
                    "long-term agreement or receive call-off orders."),
    "debarred": _l("Debar %(name)s: the supplier cannot bid, be awarded a lot, sign a long-term agreement or "
                   "receive call-off orders; only a reinstatement, with its reason, lifts it."),
    "active": _l("Reinstate %(name)s: the supplier may bid, be awarded lots and receive orders again."),
}


@bp.route("/suppliers/<int:supplier_id>/confirm-status")
def supplier_confirm_status(supplier_id):
    """The status and the reason are checked, then the consequence named; the form saves."""
    user = authz.require_user()
    sup = supplier_register.get_supplier(supplier_id)
    if not _is_officer(user):
        raise Forbidden("Only the procurement officer changes a supplier's status.")
    form = {"status": request.args.get("status", ""), "reason": request.args.get("reason", "")}
    try:
        data = forms.load(s.SupplierStatusIn(), form)
    except ValidationFailed as exc:
        return _supplier_page(user, sup, exc.errors, form)
    return render_template(
        "core/confirm.html", heading=_("Change the status of %(name)s", name=sup.name),
        consequence=str(STATUS_CONSEQUENCES[data["status"]]) % {"name": sup.name},
        action=url_for("procurement.supplier", supplier_id=sup.id),
        hidden={"status": data["status"], "reason": data["reason"]}, comment=None,
        confirm=_("Yes, change the status"), back_url=url_for("procurement.supplier", supplier_id=sup.id),
        back=_("Keep the current status"))


# --- tenders ---------------------------------------------------------------------------------


@bp.route("/tenders")
def tenders():
    user = authz.require_user()
    return listing.respond(lists.TENDERS, tendering.tenders_query(user), "procurement/tenders.html",
                           _("Joint tenders"), 25, is_officer=_is_officer(user))


@bp.route("/tenders/new", methods=["GET", "POST"])
def tender_new():
    user = authz.require_user()
    if not _is_officer(user):
        authz.require_roles(user, Role.MANAGER, why=_("Only a procurement officer creates tenders."))
    approved = db.session.scalars(requisitions.requisitions_query(user, workflow.Status.APPROVED)).all()
    form = request.form if request.method == "POST" else {"evaluation_method": "cumulative"}
    errors: dict = {}
    if request.method == "POST":
        try:
            data = forms.load(s.TenderIn(), {"title": form.get("title", ""),
                                        "evaluation_method": form.get("evaluation_method", ""),
                                        "requisitions": request.form.getlist("requisitions")})
            tender = tendering.create_tender(user, data)
            flash(_("Tender %(number)s created from %(n)s requisitions.", number=tender.number,
                    n=len(data["requisitions"])), "success")
            return redirect(url_for("procurement.tender", tender_id=tender.id))
        except DomainError as exc:
            errors = exc.errors or {"_schema": [exc.detail]}
            db.session.rollback()
            approved = db.session.scalars(requisitions.requisitions_query(user, workflow.Status.APPROVED)).all()
    return render_template("procurement/tender_new.html", form=form, errors=errors, approved=approved,
                           chosen=request.form.getlist("requisitions"),
                           methods=EVALUATION_METHODS), 422 if errors else 200


def _render_tender(user, tender, errors=None, status=200, form=None, lot_no=None):
    tendering.with_lots_loaded(tender)
    closed = tendering.is_closed(tender)
    orders, agreements = tendering.orders_and_agreements(tender)
    lots = [{"lot": lot, "evaluation": lot_evaluation.table(lot) if closed else None,
             "orders": orders.get(lot.id, []), "lta": agreements.get(lot.id)} for lot in tender.lots]
    # Every supplier is listed (with its status): a bid from one that is not active is
    # refused by the service with its reason, not silently impossible.
    active = db.session.scalars(supplier_register.suppliers_query()).all()
    return render_template("procurement/tender.html", tender=tender, lots=lots, closed=closed,
                           suppliers=active, errors=errors or {}, form=form or {}, lot_no=lot_no,
                           savings=savings_report.tender_savings(tender), is_officer=_is_officer(user),
                           is_manager=user.has_role(Role.MANAGER)), status


@bp.route("/tenders/<int:tender_id>")
def tender(tender_id):
    user = authz.require_user()
    return _render_tender(user, tendering.get_tender(user, tender_id))


@bp.route("/tenders/<int:tender_id>/publish", methods=["POST"])
def tender_publish(tender_id):
    user = authz.require_user()
    t = tendering.get_tender(user, tender_id)
    raw = request.form.get("closing_at", "")
    try:
        closing = datetime.fromisoformat(raw).replace(tzinfo=facility_zone()).astimezone(UTC)
    except ValueError:
        return _render_tender(user, t, {"closing_at": [_("Give the closing date and time.")]}, 422, request.form)
    try:
        tendering.publish(user, t, closing)
    except DomainError as exc:
        db.session.rollback()
        return _render_tender(user, tendering.get_tender(user, tender_id), exc.errors or {"_schema": [exc.detail]},
                              exc.status, request.form)
    flash(_("Tender published; bids close at the time set."), "success")
    return redirect(url_for("procurement.tender", tender_id=tender_id))


@bp.route("/tenders/<int:tender_id>/lots/<int:number>/bids", methods=["POST"])
def bid_new(tender_id, number):
    user = authz.require_user()
    t = tendering.get_tender(user, tender_id)
    lot = tendering.get_lot(t, number)
    f = request.form
    raw = {"supplier_id": f.get("supplier_id", ""), "technically_compliant": f.get("technically_compliant") == "on",
           "lines": [{"lot_line_id": ll.id, "unit_price": f.get(f"price-{ll.id}", "").strip()} for ll in lot.lines]}
    if f.get("technical_score", "").strip():
        raw["technical_score"] = f["technical_score"].strip()
    try:
        tendering.record_bid(user, lot, forms.load(s.BidIn(), raw))
    except DomainError as exc:
        db.session.rollback()
        t = tendering.get_tender(user, tender_id)
        return _render_tender(user, t, exc.errors or {"_schema": [exc.detail]}, exc.status, f, lot_no=number)
    flash(_("Bid recorded for lot %(n)s.", n=number), "success")
    return redirect(url_for("procurement.tender", tender_id=tender_id))


@bp.route("/tenders/<int:tender_id>/lots/<int:number>/committee", methods=["POST"])
def lot_committee(tender_id, number):
    user = authz.require_user()
    lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
    try:
        lot_evaluation.committee_sign_off(user, lot)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.detail, "error")
    return redirect(url_for("procurement.tender", tender_id=tender_id))


@bp.route("/tenders/<int:tender_id>/lots/<int:number>/award", methods=["POST"])
def lot_award(tender_id, number):
    user = authz.require_user()
    t = tendering.get_tender(user, tender_id)
    lot = tendering.get_lot(t, number)
    try:
        data = forms.load(s.AwardIn(), {"bid_id": request.form.get("bid_id", ""),
                                   "justification": request.form.get("justification", "")})
        orders = awards.award(user, lot, data["bid_id"], data["justification"])
    except DomainError as exc:
        db.session.rollback()
        t = tendering.get_tender(user, tender_id)
        return _render_tender(user, t, exc.errors or {"_schema": [exc.detail]}, exc.status, request.form,
                              lot_no=number)
    flash(_("Lot %(n)s awarded; purchase orders %(numbers)s issued.", n=number,
            numbers=", ".join(po.number for po in orders)), "success")
    return redirect(url_for("procurement.tender", tender_id=tender_id))


@bp.route("/tenders/<int:tender_id>/lots/<int:number>/lta", methods=["POST"])
def lot_lta(tender_id, number):
    """The awarded lot becomes a long-term agreement (supplier and prices from the award)."""
    user = authz.require_user()
    lot = tendering.get_lot(tendering.get_tender(user, tender_id), number)
    f = request.form
    raw = {k: f.get(k, "").strip() for k in ("title", "valid_from", "valid_to", "ceiling_usd")}
    raw = {k: v for k, v in raw.items() if v or k == "ceiling_usd"}
    try:
        agreement = agreements.lta_from_lot(user, lot, forms.load(s.LotLtaIn(), raw))
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        return _render_tender(user, tendering.get_tender(user, tender_id), exc.errors or {"_schema": [exc.detail]},
                              exc.status, f, lot_no=number)
    flash(_("Lot %(n)s became the long-term agreement %(title)s.", n=number, title=agreement.title), "success")
    return redirect(url_for("procurement.lta", lta_id=agreement.id))


# --- purchase orders -------------------------------------------------------------------------


@bp.route("/purchase-orders")
def orders():
    user = authz.require_user()
    stmt = purchase_orders.orders_query(user).options(*lists.ORDER_LOADS)
    return listing.respond(lists.ORDERS, stmt, "procurement/orders.html", _("Purchase orders"), 25)


@bp.route("/purchase-orders/<number>", methods=["GET", "POST"])
def order(number):
    user = authz.require_user()
    po = purchase_orders.get_order(user, number)
    errors: dict = {}
    if request.method == "POST":
        f = request.form
        raw = {"rating": f.get("rating", ""), "note": f.get("note", "")}
        if f.get("received_on"):
            raw["received_on"] = f["received_on"]
        lines = [{"order_line_id": pl.id, "quantity": f.get(f"qty-{pl.id}", "").strip()}
                 for pl in po.lines if f.get(f"qty-{pl.id}", "").strip() not in ("", "0")]
        if lines:
            raw["lines"] = lines
        try:
            purchase_orders.receive(user, po, forms.load(s.ReceiptIn(), raw))
            flash(_("Goods receipt recorded; the order is %(status)s.", status=lists.word(po.status).lower()),
                  "success")
            return redirect(url_for("procurement.order", number=number))
        except DomainError as exc:
            errors = exc.errors or {"_schema": [exc.detail]}
            db.session.rollback()
            po = purchase_orders.get_order(user, number)
            return render_template("procurement/order.html", po=po, errors=errors, form=f,
                                   is_officer=_is_officer(user)), exc.status
    return render_template("procurement/order.html", po=po, errors=errors, form={}, is_officer=_is_officer(user))


# --- long-term agreements -----------------------------------------------------------------------


@bp.route("/ltas")
def ltas():
    user = authz.require_user()
    return listing.respond(lists.LTAS, agreements.ltas_query().options(*lists.LTA_LOADS), "procurement/ltas.html",
                           _("Long-term agreements"), 25, prepare=lists.with_consumed, is_officer=_is_officer(user))


def _lta_form_data(form) -> dict:
    lines = []
    for i in range(LINE_ROWS):
        row = {k: (form.get(f"lines-{i}-{k}") or "").strip() for k in ("description", "unspsc", "unit", "unit_price")}
        if any(row.values()):
            lines.append(row)
    data = {k: form.get(k, "").strip() for k in ("title", "supplier_id", "valid_from", "ceiling_usd")}
    if form.get("valid_to", "").strip():
        data["valid_to"] = form["valid_to"].strip()
    data["agencies"] = form.getlist("agencies")
    data["lines"] = lines
    return data


@bp.route("/ltas/new", methods=["GET", "POST"])
def lta_new():
    """An officer enters an agreement made outside a JOF tender (one from a lot: see the tender page)."""
    user = authz.require_user()
    if not _is_officer(user):
        authz.require_roles(user, Role.OFFICER, why=_("Only a procurement officer enters long-term agreements."))
    form = request.form if request.method == "POST" else {}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            agreement = agreements.create_lta(user, forms.load(s.LtaIn(), _lta_form_data(form)))
            db.session.flush()
            flash(_("Long-term agreement %(title)s entered.", title=agreement.title), "success")
            return redirect(url_for("procurement.lta", lta_id=agreement.id))
        except DomainError as exc:
            db.session.rollback()
            errors, status = exc.errors or {"_schema": [exc.detail]}, exc.status
    return render_template("procurement/lta_new.html", form=form, errors=errors, rows=range(LINE_ROWS),
                           chosen=request.form.getlist("agencies"),
                           suppliers=db.session.scalars(supplier_register.suppliers_query(status="active")).all(),
                           agencies=db.session.scalars(select(Agency).order_by(Agency.code)).all()), status


@bp.route("/ltas/<int:lta_id>", methods=["GET", "POST"])
def lta(lta_id):
    user = authz.require_user()
    agreement = agreements.get_lta(lta_id)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        f = request.form
        raw = {"lines": [{"lta_line_id": ln.id, "quantity": f.get(f"qty-{ln.id}", "").strip()}
                         for ln in agreement.lines if f.get(f"qty-{ln.id}", "").strip() not in ("", "0")]}
        if f.get("agency"):
            raw["agency"] = f["agency"]
        try:
            po = agreements.call_off(user, agreements.get_lta(lta_id, lock=True), forms.load(s.CallOffIn(), raw))
            db.session.flush()
            flash(_("Call-off %(number)s placed.", number=po.number), "success")
            return redirect(url_for("procurement.order", number=po.number))
        except DomainError as exc:
            errors = exc.errors or {"_schema": [exc.detail]}
            status = exc.status
            db.session.rollback()
            agreement = agreements.get_lta(lta_id)
    return render_template("procurement/lta.html", lta=agreements.with_consumed(agreement), errors=errors,
                           form=request.form, user_agency=user.agency), status

