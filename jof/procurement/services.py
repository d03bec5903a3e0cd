"""The rules of procurement (DESIGN §3). Services take the acting user, never commit,
and audit every change in the same transaction; refusals write nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, or_, select

from jof.core import audit, authz, charges, workflow
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import CURRENCIES, MAX_AMOUNT, quantize, to_decimal, to_usd
from jof.core.people import Agency, Facility, Role, User
from jof.core.timeutil import utcnow
from jof.governance import effects
from jof.procurement import states
from jof.procurement.models import (
    Bid,
    BidLine,
    GoodsReceipt,
    GoodsReceiptLine,
    LongTermAgreement,
    Lot,
    LotLine,
    LtaLine,
    ProcurementManual,
    PurchaseOrder,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
    Supplier,
    Tender,
)

LINE = "procurement"
ZERO = Decimal("0.00")
METHOD_LABELS = {"micro_purchase": "micro-purchase", "rfq": "request for quotation",
                 "itb": "invitation to bid / request for proposals"}
#: Price-list item charged when an order bought by each method is received (DESIGN §7).
SERVICE_ITEMS = {"micro_purchase": "micro_purchase", "rfq": "rfq_process", "itb": "itb_process"}
CALL_OFF_ITEM = "lta_call_off"
TOO_LARGE = "Quantity × unit price comes to USD {amount:,.2f}; amounts must stay below USD 1,000,000,000,000."
GOODS_ITEM = "goods"


def facility_tz():
    from zoneinfo import ZoneInfo

    facility = db.session.get(Facility, 1)
    return ZoneInfo(facility.time_zone if facility else "UTC")


def today() -> date:
    """The facility's local date (its year numbers tenders and orders too)."""
    return utcnow().astimezone(facility_tz()).date()


def _require_officer(user: User) -> None:
    authz.ensure_can_change(user)
    if not (authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER)):
        raise Forbidden("Only a procurement officer (or the facility manager) may do this.")


def _require_staff_reader(user: User) -> None:
    if not user.is_facility_staff:
        raise Forbidden("Tenders and bids are handled by the facility; agencies follow their requisitions.")


# --- the procurement manual --------------------------------------------------------------

MANUAL_FIELDS = {
    "rfq_from_usd": Decimal, "itb_from_usd": Decimal, "committee_from_usd": Decimal,
    "micro_min_quotes": int, "rfq_min_quotes": int, "rfq_min_working_days": int,
    "itb_min_offers": int, "itb_min_working_days": int,
    "technical_minimum": Decimal, "technical_weight": Decimal, "financial_weight": Decimal,
}
#: The demo version: DESIGN §3 (UNDP POPP raised the RFQ ceiling to 200,000 in Oct 2020).
DEMO_MANUAL = {
    "version": "POPP-2020-10", "rfq_from_usd": "5000.00", "itb_from_usd": "200000.00",
    "committee_from_usd": "200000.00", "micro_min_quotes": 1, "rfq_min_quotes": 3,
    "rfq_min_working_days": 5, "itb_min_offers": 3, "itb_min_working_days": 20,
    "technical_minimum": "70", "technical_weight": "70", "financial_weight": "30",
}


def validate_manual(payload: dict) -> dict:
    """Check and normalise a manual version (the governance payload of kind procurement_manual)."""
    if not isinstance(payload, dict):
        raise ValidationFailed({"payload": ["A procurement manual version is an object."]})
    errors: dict[str, list[str]] = {}
    out: dict = {}
    version = str(payload.get("version") or "").strip()
    if not version or len(version) > 40:
        errors["payload.version"] = ["Name the version (at most 40 characters), e.g. POPP-2027-01."]
    out["version"] = version
    for name, kind in MANUAL_FIELDS.items():
        raw = payload.get(name, DEMO_MANUAL[name])
        try:
            if kind is int:
                if isinstance(raw, bool) or not isinstance(raw, int | str):
                    raise ValueError
                value = int(raw)
                if value < 0:
                    raise ValueError
            else:
                value = to_decimal(raw)
                if value < 0 or value != quantize(value):
                    raise ValueError
        except (ValueError, ArithmeticError):
            errors[f"payload.{name}"] = ["A non-negative number (decimals as strings, at most 2 places)."]
            continue
        out[name] = str(value) if kind is Decimal else value
    if not errors:
        if Decimal(out["rfq_from_usd"]) > Decimal(out["itb_from_usd"]):
            errors["payload.itb_from_usd"] = ["The ITB threshold cannot be below the RFQ threshold."]
        if Decimal(out["technical_weight"]) + Decimal(out["financial_weight"]) != 100:
            errors["payload.financial_weight"] = ["Technical and financial weights must add up to 100."]
        if Decimal(out["technical_minimum"]) > 100:
            errors["payload.technical_minimum"] = ["A technical score is at most 100."]
    if errors:
        raise ValidationFailed(errors)
    if "effective_from" in payload:
        out["effective_from"] = payload["effective_from"]
    return out


def activate_manual(payload: dict, effective_from: date, actor: User | None,
                    decision_id: int | None = None) -> ProcurementManual:
    """Put a manual version in force from a date (called by the board's adopted decisions)."""
    data = validate_manual(payload)
    if db.session.scalar(select(ProcurementManual.id).where(ProcurementManual.version == data["version"])):
        raise Conflict(f"Manual version {data['version']} exists already; give the new version another name.")
    if db.session.scalar(select(ProcurementManual.id).where(ProcurementManual.effective_from == effective_from)):
        raise Conflict(f"A manual version already takes effect on {effective_from:%Y-%m-%d}.")
    manual = ProcurementManual(
        version=data["version"], effective_from=effective_from, decision_id=decision_id,
        created_at=utcnow(),
        **{k: (Decimal(data[k]) if kind is Decimal else data[k]) for k, kind in MANUAL_FIELDS.items()})
    db.session.add(manual)
    audit.record(actor, "procurement.manual.activate", manual, after=audit.snapshot(manual))
    return manual


def _apply_manual_decision(decision, payload: dict, actor) -> str:
    day = effects.effective_from(payload)
    manual = activate_manual(payload, day, actor, decision_id=decision.id)
    return f"Procurement manual {manual.version} in force from {day:%Y-%m-%d}."


effects.register("procurement_manual", validate_manual, _apply_manual_decision)


def manual_in_force(day: date) -> ProcurementManual | None:
    return db.session.scalar(select(ProcurementManual).where(ProcurementManual.effective_from <= day)
                             .order_by(ProcurementManual.effective_from.desc()).limit(1))


def manuals() -> list[ProcurementManual]:
    rows = db.session.scalars(select(ProcurementManual).order_by(ProcurementManual.effective_from.desc())).all()
    current = manual_in_force(today())
    for m in rows:
        m.in_force = current is not None and m.id == current.id
    return rows


@dataclass
class MethodDecision:
    method: str
    committee_required: bool
    rule: str


def decide_method(manual: ProcurementManual, estimate_usd: Decimal) -> MethodDecision:
    """The method for an estimate; each threshold counts from its own value up (inclusive)."""
    v = estimate_usd
    if v < manual.rfq_from_usd:
        method = "micro_purchase"
        rule = (f"below USD {manual.rfq_from_usd:,}: micro-purchase, at least "
                f"{manual.micro_min_quotes} quote")
    elif v < manual.itb_from_usd:
        method = "rfq"
        rule = (f"from USD {manual.rfq_from_usd:,} to below USD {manual.itb_from_usd:,}: request for "
                f"quotation, at least {manual.rfq_min_quotes} quotes and {manual.rfq_min_working_days} working days")
    else:
        method = "itb"
        rule = (f"from USD {manual.itb_from_usd:,}: invitation to bid / request for proposals, at least "
                f"{manual.itb_min_offers} offers and {manual.itb_min_working_days} working days")
    committee = v >= manual.committee_from_usd
    if committee:
        rule += f"; contracts committee review from USD {manual.committee_from_usd:,}"
    return MethodDecision(method, committee,
                          f"Manual {manual.version} (in force from {manual.effective_from:%Y-%m-%d}), "
                          f"estimate USD {v:,}: {rule}.")


def _manual_or_conflict(day: date) -> ProcurementManual:
    manual = manual_in_force(day)
    if manual is None:
        raise Conflict(f"No procurement manual is in force on {day:%Y-%m-%d}; the board must adopt one first.")
    return manual


# --- suppliers ---------------------------------------------------------------------------


def _supplier_fields(supplier: Supplier, data: dict) -> None:
    for key in ("name", "contact_name", "contact_phone"):
        if key in data:
            setattr(supplier, key, (data[key] or "").strip())
    if "contact_email" in data:
        supplier.contact_email = data["contact_email"] or ""
    if "categories" in data:
        supplier.categories = sorted(set(data["categories"]))


def create_supplier(actor: User, data: dict) -> Supplier:
    _require_officer(actor)
    tax_id = data["tax_id"].strip()
    if db.session.scalar(select(Supplier.id).where(Supplier.country == data["country"], Supplier.tax_id == tax_id)):
        raise ValidationFailed({"tax_id": [f"A supplier with tax id {tax_id} is already registered in {data['country']}."]})
    supplier = Supplier(country=data["country"], tax_id=tax_id, status="active", categories=[],
                        status_reason="", status_since=today(), created_at=utcnow())
    _supplier_fields(supplier, data)
    db.session.add(supplier)
    audit.record(actor, "procurement.supplier.create", supplier, after=audit.snapshot(supplier))
    return supplier


def update_supplier(actor: User, supplier: Supplier, data: dict) -> Supplier:
    _require_officer(actor)
    before = audit.snapshot(supplier)
    _supplier_fields(supplier, data)
    audit.record(actor, "procurement.supplier.update", supplier, before=before, after=audit.snapshot(supplier))
    return supplier


def set_supplier_status(actor: User, supplier: Supplier, status: str, reason: str = "") -> Supplier:
    """Suspend, debar or reinstate; a supplier that is not active is never awarded."""
    _require_officer(actor)
    reason = (reason or "").strip()
    if status != "active" and not reason:
        raise ValidationFailed({"reason": [f"Give the reason the supplier is {status}."]})
    before = audit.snapshot(supplier)
    supplier.status = status
    supplier.status_reason = reason
    supplier.status_since = today()
    audit.record(actor, "procurement.supplier.status", supplier, before=before, after=audit.snapshot(supplier))
    return supplier


def get_supplier(supplier_id: int) -> Supplier:
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound("No such supplier.")
    return supplier


def suppliers_query(q: str | None = None, status: str | None = None, category: str | None = None):
    stmt = select(Supplier)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Supplier.name).like(like), func.lower(Supplier.tax_id).like(like)))
    if status:
        stmt = stmt.where(Supplier.status == status)
    stmt = stmt.order_by(Supplier.name, Supplier.id)
    if category:
        # JSON lists are not portably searchable in SQL: filter the (small) register in Python.
        ids = [s.id for s in db.session.scalars(stmt) if trades_in(s, category)]
        stmt = select(Supplier).where(Supplier.id.in_(ids or [-1])).order_by(Supplier.name, Supplier.id)
    return stmt


def opened_bids_of(user: User, supplier: Supplier) -> list[Bid]:
    """A supplier's bids as facility staff may see them: only those of closed tenders.

    Bids stay sealed until their tender closes, and agencies never see bids at all.
    """
    if not user.is_facility_staff:
        return []
    return list(db.session.scalars(
        select(Bid).join(Lot, Lot.id == Bid.lot_id).join(Tender, Tender.id == Lot.tender_id)
        .where(Bid.supplier_id == supplier.id, Tender.closing_at.is_not(None), Tender.closing_at <= utcnow())
        .order_by(Bid.id.desc())))


def trades_in(supplier: Supplier, code: str) -> bool:
    """A supplier registered for a broader code (a segment, family or class) covers its children."""
    return any(code.startswith(c) or c.startswith(code) for c in (supplier.categories or []))


def supplier_rating(supplier: Supplier) -> Decimal | None:
    avg = db.session.execute(
        select(func.sum(GoodsReceipt.rating), func.count(GoodsReceipt.id))
        .join(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .where(PurchaseOrder.supplier_id == supplier.id)).one()
    if not avg[1]:
        return None
    return quantize(Decimal(int(avg[0])) / Decimal(avg[1]))


def with_rating(supplier: Supplier) -> Supplier:
    supplier.rating = supplier_rating(supplier)
    return supplier


# --- requisitions --------------------------------------------------------------------------


def requisition_of(sr: workflow.ServiceRequest) -> Requisition | None:
    return db.session.scalar(select(Requisition).where(Requisition.request_id == sr.id))


def _estimate_lines(lines: list[RequisitionLine], on: date) -> Decimal:
    total = ZERO
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        if line.currency not in CURRENCIES:
            raise ValidationFailed({f"lines.{i}.currency": [f"Unknown currency {line.currency}."]})
        usd = to_usd(line.quantity * line.unit_price, line.currency, on)
        if usd >= MAX_AMOUNT:
            errors[f"lines.{i}.quantity"] = [TOO_LARGE.format(amount=usd)]
            continue
        line.estimate_usd = usd
        total += usd
    if not errors and total >= MAX_AMOUNT:
        errors["lines"] = [f"The lines come to USD {total:,}; a requisition must stay below USD 1,000,000,000,000."]
    if errors:
        raise ValidationFailed(errors)
    return total


def create_requisition(actor: User, data: dict, agency: Agency | None = None) -> Requisition:
    """A requester files a draft for their agency; the estimate uses this month's rate."""
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(data["lines"]):
        if ln.get("currency", "USD") not in CURRENCIES:
            errors[f"lines.{i}.currency"] = [f"JOF has no operational rates for {ln['currency']}."]
    if errors:
        raise ValidationFailed(errors)
    sr = workflow.create_request(actor, states.CODE, title=data["title"], agency=agency,
                                 description=data.get("justification") or "")
    day = today()
    req = Requisition(request=sr, justification=data.get("justification") or "",
                      needed_by=data.get("needed_by"), budget_code=(data.get("budget_code") or "").strip(),
                      estimated_on=day)
    for i, ln in enumerate(data["lines"], start=1):
        req.lines.append(RequisitionLine(line_no=i, description=ln["description"].strip(),
                                         unspsc=ln["unspsc"], quantity=ln["quantity"], unit=ln["unit"].strip(),
                                         unit_price=ln["unit_price"], currency=ln.get("currency") or "USD"))
    req.estimate_usd = _estimate_lines(req.lines, day)
    sr.amount_usd = req.estimate_usd
    db.session.add(req)
    db.session.flush()
    audit.record(actor, "procurement.requisition.create", sr,
                 after={"estimate_usd": req.estimate_usd, "lines": len(req.lines)})
    return req


def on_submit(sr: workflow.ServiceRequest, user: User) -> None:
    """At submission: estimate at the submission month's rate, apply the manual in force, check splitting."""
    req = requisition_of(sr)
    day = today()
    req.estimated_on = day
    req.estimate_usd = _estimate_lines(req.lines, day)
    sr.amount_usd = req.estimate_usd
    manual = _manual_or_conflict(day)
    decided = decide_method(manual, req.estimate_usd)
    req.manual_id = manual.id
    req.method = decided.method
    req.committee_required = decided.committee_required
    req.method_rule = decided.rule
    req.splitting_warning = splitting_warning(req, manual, day)
    req.splitting_acknowledged_at = None
    req.splitting_acknowledged_by_id = None
    audit.record(user, "procurement.requisition.method", sr,
                 after={"estimate_usd": req.estimate_usd, "method": req.method, "manual": manual.version,
                        "splitting_warning": req.splitting_warning})


_RANK = {"micro_purchase": 0, "rfq": 1, "itb": 2}


def splitting_warning(req: Requisition, manual: ProcurementManual, day: date) -> str:
    """Same agency, same UNSPSC class within 12 months counts cumulatively (DESIGN §3).

    Warns when the cumulative value calls for a stricter method than this requisition
    alone: the sign of a requirement split to stay under a threshold.
    """
    sr = req.request
    since = datetime.combine(day - timedelta(days=365), datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    own = decide_method(manual, req.estimate_usd).method
    by_class: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in req.lines:
        by_class[line.unspsc_class] += line.estimate_usd
    messages = []
    for cls, amount in sorted(by_class.items()):
        rows = db.session.execute(
            select(workflow.ServiceRequest.reference, func.sum(RequisitionLine.estimate_usd))
            .join(Requisition, Requisition.request_id == workflow.ServiceRequest.id)
            .join(RequisitionLine, RequisitionLine.requisition_id == Requisition.id)
            .where(workflow.ServiceRequest.agency_id == sr.agency_id,
                   workflow.ServiceRequest.id != sr.id,
                   workflow.ServiceRequest.request_type == states.CODE,
                   workflow.ServiceRequest.status.not_in(("draft", "rejected", "cancelled")),
                   workflow.ServiceRequest.submitted_at >= since,
                   func.substr(RequisitionLine.unspsc, 1, 6) == cls)
            .group_by(workflow.ServiceRequest.reference)
            .order_by(workflow.ServiceRequest.reference)).all()
        if not rows:
            continue
        earlier = sum((Decimal(r[1]) for r in rows), ZERO)
        cumulative = amount + earlier
        method = decide_method(manual, cumulative).method
        if _RANK[method] > _RANK[own]:
            messages.append(
                f"{sr.agency.code} requested UNSPSC class {cls} for USD {earlier:,} in the last 12 months "
                f"({', '.join(r[0] for r in rows)}); with this requisition USD {cumulative:,} calls for "
                f"{METHOD_LABELS[method]}, not {METHOD_LABELS[own]}.")
    return " ".join(messages)


def acknowledge_splitting(actor: User, req: Requisition) -> Requisition:
    _require_officer(actor)
    if not req.splitting_warning:
        raise Conflict("This requisition carries no splitting warning.")
    if req.splitting_acknowledged_at is not None:
        raise Conflict("The splitting warning was acknowledged already.")
    req.splitting_acknowledged_at = utcnow()
    req.splitting_acknowledged_by_id = actor.id
    audit.record(actor, "procurement.requisition.splitting_acknowledged", req.request,
                 after={"warning": req.splitting_warning})
    return req


def get_requisition(user: User, reference: str) -> Requisition:
    sr = workflow.get_by_reference(user, reference)  # 404 for another agency's
    req = requisition_of(sr) if sr.request_type == states.CODE else None
    if req is None:
        raise NotFound("No such requisition.")
    return req


def requisitions_query(user: User, status: str | None = None, agency: str | None = None):
    stmt = (select(Requisition).join(workflow.ServiceRequest, workflow.ServiceRequest.id == Requisition.request_id))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(workflow.ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(workflow.ServiceRequest.status == status)
    if agency:
        stmt = stmt.join(Agency, Agency.id == workflow.ServiceRequest.agency_id).where(
            Agency.code == agency.strip().upper())
    return stmt.order_by(workflow.ServiceRequest.id.desc())


def all_lines_ordered(req: Requisition | None) -> bool:
    if req is None or not req.lines:
        return False
    ordered = set(db.session.scalars(select(PurchaseOrderLine.requisition_line_id).where(
        PurchaseOrderLine.requisition_line_id.in_([ln.id for ln in req.lines]))))
    return all(ln.id in ordered for ln in req.lines)


def orders_of(req: Requisition) -> list[PurchaseOrder]:
    return list(db.session.scalars(
        select(PurchaseOrder).join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(PurchaseOrderLine.requisition_line_id.in_([ln.id for ln in req.lines]))
        .distinct().order_by(PurchaseOrder.id)))


def all_orders_received(req: Requisition | None) -> bool:
    if req is None or not all_lines_ordered(req):
        return False
    return all(po.status == "received" for po in orders_of(req))


def tender_of(req: Requisition) -> Tender | None:
    return db.session.scalar(
        select(Tender).join(Lot, Lot.tender_id == Tender.id).join(LotLine, LotLine.lot_id == Lot.id)
        .where(LotLine.requisition_line_id.in_([ln.id for ln in req.lines])).limit(1))


# --- tenders -------------------------------------------------------------------------------


def _next_number(prefix: str) -> str:
    from jof.core.counters import next_value

    year = today().year
    return f"{prefix}-{year}-{next_value(f'ref:{prefix}:{year}'):05d}"


def create_tender(actor: User, data: dict) -> Tender:
    """Pool approved requisitions of one or more agencies into one tender with lots."""
    _require_officer(actor)
    reqs: list[Requisition] = []
    errors: dict[str, list[str]] = {}
    for ref in dict.fromkeys(data["requisitions"]):
        sr = db.session.scalar(select(workflow.ServiceRequest).where(workflow.ServiceRequest.reference == ref))
        req = requisition_of(sr) if sr is not None and sr.request_type == states.CODE else None
        if req is None:
            errors.setdefault("requisitions", []).append(f"{ref}: no such requisition.")
        elif sr.status != workflow.Status.APPROVED:
            errors.setdefault("requisitions", []).append(
                f"{ref} is {sr.status.replace('_', ' ')}; only approved requisitions can be tendered.")
        else:
            reason = states._may_source(sr, actor)
            if reason:
                errors.setdefault("requisitions", []).append(f"{ref}: {reason}")
            reqs.append(req)
    if errors:
        raise ValidationFailed(errors)
    all_lines = {ln.id: ln for req in reqs for ln in req.lines}
    if data.get("lots"):
        groups = []
        used: set[int] = set()
        for i, lot in enumerate(data["lots"]):
            lines = []
            for line_id in lot["line_ids"]:
                if line_id not in all_lines:
                    errors.setdefault(f"lots.{i}.line_ids", []).append(
                        f"Line {line_id} is not a line of the requisitions given.")
                elif line_id in used:
                    errors.setdefault(f"lots.{i}.line_ids", []).append(f"Line {line_id} is in another lot already.")
                else:
                    used.add(line_id)
                    lines.append(all_lines[line_id])
            classes = {ln.unspsc_class for ln in lines}
            if len(classes) > 1:
                errors.setdefault(f"lots.{i}.line_ids", []).append(
                    f"A lot holds one UNSPSC class; these lines span {', '.join(sorted(classes))}.")
            groups.append((lot.get("description") or "", lines))
        missing = sorted(set(all_lines) - used)
        if missing:
            errors.setdefault("lots", []).append(
                f"Every line of the requisitions must be in a lot; missing: {', '.join(map(str, missing))}.")
        if errors:
            raise ValidationFailed(errors)
    else:
        by_class: dict[str, list[RequisitionLine]] = defaultdict(list)
        for ln in all_lines.values():
            by_class[ln.unspsc_class].append(ln)
        groups = [("", by_class[c]) for c in sorted(by_class)]
    day = today()
    manual = _manual_or_conflict(day)
    total = sum((ln.estimate_usd for ln in all_lines.values()), ZERO)
    tender = Tender(number=_next_number("TND"), title=data["title"].strip(), method=decide_method(manual, total).method,
                    evaluation_method=data.get("evaluation_method") or "cumulative", status="draft",
                    manual_id=manual.id, technical_minimum=manual.technical_minimum,
                    technical_weight=manual.technical_weight, financial_weight=manual.financial_weight,
                    created_by_id=actor.id, created_at=utcnow())
    for n, (description, lines) in enumerate(groups, start=1):
        estimate = sum((ln.estimate_usd for ln in lines), ZERO)
        lot = Lot(number=n, description=description or lines[0].description, unspsc_class=lines[0].unspsc_class,
                  estimate_usd=estimate, committee_required=estimate >= manual.committee_from_usd)
        lot.lines = [LotLine(requisition_line=ln) for ln in sorted(lines, key=lambda x: x.id)]
        tender.lots.append(lot)
    db.session.add(tender)
    db.session.flush()
    for req in reqs:
        workflow.perform(actor, req.request, "source", comment=f"Pooled in tender {tender.number}.")
    audit.record(actor, "procurement.tender.create", tender,
                 after={"title": tender.title, "method": tender.method, "requisitions": [r.reference for r in reqs],
                        "lots": len(tender.lots)})
    return tender


def get_tender(user: User, tender_id: int) -> Tender:
    _require_staff_reader(user)
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound("No such tender.")
    return tender


def get_lot(tender: Tender, number: int) -> Lot:
    lot = next((lot for lot in tender.lots if lot.number == number), None)
    if lot is None:
        raise NotFound(f"Tender {tender.number} has no lot {number}.")
    return lot


def tenders_query(user: User, status: str | None = None):
    _require_staff_reader(user)
    stmt = select(Tender)
    if status:
        stmt = stmt.where(Tender.status == status)
    return stmt.order_by(Tender.id.desc())


def minimum_working_days(tender: Tender) -> int:
    m = tender.manual
    return {"rfq": m.rfq_min_working_days, "itb": m.itb_min_working_days}.get(tender.method, 0)


def publish(actor: User, tender: Tender, closing_at: datetime) -> Tender:
    _require_officer(actor)
    if tender.status != "draft":
        raise Conflict(f"Tender {tender.number} is {tender.status}; only a draft is published.")
    now = utcnow()
    if closing_at <= now:
        raise ValidationFailed({"closing_at": ["The closing time must be in the future."]})
    days = minimum_working_days(tender)
    if days:
        from jof.core.calendar import WorkingCalendar

        cal = WorkingCalendar.of_facility()
        earliest = cal.add_working_days(today(), days)
        if closing_at.astimezone(cal.tz).date() < earliest:
            raise ValidationFailed({"closing_at": [
                f"A {METHOD_LABELS[tender.method]} stays open at least {days} working days: close on "
                f"{earliest:%Y-%m-%d} or later."]})
    tender.status = "published"
    tender.closing_at = closing_at
    tender.published_at = now
    audit.record(actor, "procurement.tender.publish", tender, after={"closing_at": closing_at})
    return tender


def is_closed(tender: Tender, now: datetime | None = None) -> bool:
    return tender.closing_at is not None and (now or utcnow()) >= tender.closing_at


def record_bid(actor: User, lot: Lot, data: dict) -> Bid:
    """Record a supplier's offer for a lot; refused after closing and for a supplier not active."""
    _require_officer(actor)
    tender = lot.tender
    if tender.status != "published":
        raise Conflict(f"Tender {tender.number} is {tender.status}; bids are taken only while it is published.")
    now = utcnow()
    if is_closed(tender, now):
        raise Conflict(f"Tender {tender.number} closed at {tender.closing_at:%Y-%m-%d %H:%M} UTC; "
                       "bids received after the closing time are refused.")
    supplier = db.session.get(Supplier, data["supplier_id"])
    if supplier is None:
        raise ValidationFailed({"supplier_id": ["No such supplier."]})
    if supplier.status != "active":
        raise Conflict(f"{supplier.name} is {supplier.status}"
                       + (f" ({supplier.status_reason})" if supplier.status_reason else "")
                       + "; only active suppliers may bid.")
    if db.session.scalar(select(Bid.id).where(Bid.lot_id == lot.id, Bid.supplier_id == supplier.id)):
        raise Conflict(f"{supplier.name} has bid on lot {lot.number} already.")
    errors: dict[str, list[str]] = {}
    if tender.evaluation_method == "cumulative" and data.get("technical_score") is None:
        errors["technical_score"] = ["The cumulative method needs the bid's technical score (0–100)."]
    prices: dict[int, Decimal] = {}
    lot_lines = {ll.id: ll for ll in lot.lines}
    for i, ln in enumerate(data["lines"]):
        if ln["lot_line_id"] not in lot_lines:
            errors.setdefault(f"lines.{i}.lot_line_id", []).append(f"Not a line of lot {lot.number}.")
        elif ln["lot_line_id"] in prices:
            errors.setdefault(f"lines.{i}.lot_line_id", []).append("Priced twice.")
        else:
            prices[ln["lot_line_id"]] = ln["unit_price"]
    missing = sorted(set(lot_lines) - set(prices))
    if missing and "lines" not in errors:
        errors.setdefault("lines", []).append(
            f"Price every line of the lot; missing lot lines {', '.join(map(str, missing))}.")
    if errors:
        raise ValidationFailed(errors)
    total = ZERO
    bid_lines = []
    position = {ln["lot_line_id"]: i for i, ln in enumerate(data["lines"])}
    for ll_id in sorted(prices):
        amount = quantize(lot_lines[ll_id].requisition_line.quantity * prices[ll_id])
        if amount >= MAX_AMOUNT:
            errors[f"lines.{position[ll_id]}.unit_price"] = [TOO_LARGE.format(amount=amount)]
        bid_lines.append(BidLine(lot_line_id=ll_id, unit_price=prices[ll_id], amount_usd=amount))
        total += amount
    if not errors and total >= MAX_AMOUNT:
        errors["lines"] = [f"The bid comes to USD {total:,}; a bid must stay below USD 1,000,000,000,000."]
    if errors:
        raise ValidationFailed(errors)
    with db.session.no_autoflush:
        bid = Bid(supplier_id=supplier.id, submitted_at=now, technical_score=data.get("technical_score"),
                  technically_compliant=data.get("technically_compliant", True), recorded_by_id=actor.id,
                  total_usd=total, lines=bid_lines)
        lot.bids.append(bid)
    db.session.flush()
    audit.record(actor, "procurement.bid.record", bid,
                 after={"tender": tender.number, "lot": lot.number, "supplier": supplier.name,
                        "total_usd": total, "technical_score": bid.technical_score})
    return bid


# --- evaluation (DESIGN §3) ----------------------------------------------------------------


@dataclass
class EvaluationRow:
    bid: Bid
    considered: bool
    reason: str = ""
    technical_points: Fraction | None = None
    financial_points: Fraction | None = None
    total_points: Fraction | None = None
    rank: int | None = None
    winner: bool = False

    def as_dict(self) -> dict:
        def d4(x):
            return None if x is None else str(quantize(Decimal(x.numerator) / Decimal(x.denominator), 4))

        b = self.bid
        return {"rank": self.rank, "bid_id": b.id, "supplier": b.supplier.name, "supplier_status": b.supplier.status,
                "submitted_at": b.submitted_at, "price_usd": b.total_usd, "technical_score": b.technical_score,
                "technically_compliant": b.technically_compliant, "considered": self.considered,
                "reason": self.reason, "technical_points": d4(self.technical_points),
                "financial_points": d4(self.financial_points), "total_points": d4(self.total_points),
                "winner": self.winner}


@dataclass
class Evaluation:
    lot: Lot
    rows: list[EvaluationRow]
    lowest: Decimal | None
    winner: Bid | None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        t = self.lot.tender
        return {"method": t.evaluation_method, "technical_minimum": t.technical_minimum,
                "technical_weight": t.technical_weight, "financial_weight": t.financial_weight,
                "lowest_considered_price": self.lowest, "winner_bid_id": self.winner.id if self.winner else None,
                "warnings": self.warnings, "rows": [r.as_dict() for r in self.rows]}


def _frac(d: Decimal) -> Fraction:
    return Fraction(d)


def evaluate(lot: Lot) -> Evaluation:
    """Rank a lot's bids exactly (rational arithmetic, so ties are real ties).

    Cumulative: a bid is considered when its technical score reaches the minimum; total
    = score / 100 × technical weight + lowest considered price / price × financial
    weight. Lowest price: the cheapest technically compliant bid. Ties go to the higher
    technical score, then the earlier bid. A supplier no longer active is not considered.
    """
    t = lot.tender
    rows = []
    for b in sorted(lot.bids, key=lambda b: (b.submitted_at, b.id)):
        row = EvaluationRow(bid=b, considered=True)
        if b.supplier.status != "active":
            row.considered, row.reason = False, f"Supplier is {b.supplier.status}."
        elif t.evaluation_method == "cumulative":
            if b.technical_score is None or b.technical_score < t.technical_minimum:
                row.considered = False
                row.reason = f"Technical score below the minimum of {t.technical_minimum}."
        elif not b.technically_compliant:
            row.considered, row.reason = False, "Not technically compliant."
        rows.append(row)
    considered = [r for r in rows if r.considered]
    lowest = min((r.bid.total_usd for r in considered), default=None)
    for r in considered:
        score = _frac(r.bid.technical_score) if r.bid.technical_score is not None else Fraction(0)
        if t.evaluation_method == "cumulative":
            r.technical_points = score / 100 * _frac(t.technical_weight)
            r.financial_points = _frac(lowest) / _frac(r.bid.total_usd) * _frac(t.financial_weight)
            r.total_points = r.technical_points + r.financial_points
    if t.evaluation_method == "cumulative":
        def key(r):
            return (-r.total_points, -(r.bid.technical_score or 0), r.bid.submitted_at, r.bid.id)
    else:
        def key(r):
            return (r.bid.total_usd, -(r.bid.technical_score or 0), r.bid.submitted_at, r.bid.id)
    ranked = sorted(considered, key=key)
    for i, r in enumerate(ranked, start=1):
        r.rank = i
    winner = ranked[0].bid if ranked else None
    if ranked:
        ranked[0].winner = True
    warnings = []
    needed = {"micro_purchase": t.manual.micro_min_quotes, "rfq": t.manual.rfq_min_quotes,
              "itb": t.manual.itb_min_offers}[t.method]
    if len(lot.bids) < needed:
        warnings.append(f"The manual asks for at least {needed} offers for a {METHOD_LABELS[t.method]}; "
                        f"this lot received {len(lot.bids)}. Say why in the award justification.")
    return Evaluation(lot=lot, rows=rows + [], lowest=lowest, winner=winner, warnings=warnings)


def evaluation_for(user: User, lot: Lot) -> Evaluation:
    _require_staff_reader(user)
    if not is_closed(lot.tender):
        raise Conflict(f"Bids of tender {lot.tender.number} stay sealed until it closes "
                       f"({lot.tender.closing_at:%Y-%m-%d %H:%M} UTC)." if lot.tender.closing_at else
                       f"Tender {lot.tender.number} is not published yet.")
    return evaluate(lot)


def committee_sign_off(actor: User, lot: Lot) -> Lot:
    """The contracts committee's review, recorded by the facility manager who chairs it."""
    authz.ensure_can_change(actor)
    if not actor.has_role(Role.MANAGER):
        raise Forbidden("The facility manager records the contracts committee's sign-off.")
    if not lot.committee_required:
        raise Conflict("This lot is below the committee threshold; it needs no committee review.")
    if lot.committee_signed_at is not None:
        raise Conflict("The committee signed this lot off already.")
    if not is_closed(lot.tender):
        raise Conflict("The committee reviews the evaluation after the tender closes.")
    lot.committee_signed_at = utcnow()
    lot.committee_signed_by_id = actor.id
    audit.record(actor, "procurement.lot.committee", lot, after={"tender": lot.tender.number, "lot": lot.number})
    return lot


def _lock_lot(lot: Lot) -> tuple[Tender, Lot]:
    """Lock the lot's tender row and reload the tender and its lots as committed.

    Awards (and agreements made from them) of one tender are serialised: a second
    award of the same lot waits for the first, then sees it and is refused.
    """
    tender = db.session.scalar(select(Tender).where(Tender.id == lot.tender_id).with_for_update()
                               .execution_options(populate_existing=True))
    db.session.scalars(select(Lot).where(Lot.tender_id == tender.id)
                       .execution_options(populate_existing=True)).all()
    return tender, lot


def award(actor: User, lot: Lot, bid_id: int, justification: str) -> list[PurchaseOrder]:
    """Award a lot to its evaluated winner and issue one purchase order per agency.

    Each agency's order holds exactly its lines at the awarded unit prices; the line
    amounts are the bid's (each rounded once), so the orders of a lot sum exactly to
    the award, cents included.
    """
    _require_officer(actor)
    tender, lot = _lock_lot(lot)
    bid = next((b for b in lot.bids if b.id == bid_id), None)
    if bid is None:
        raise ValidationFailed({"bid_id": [f"Not a bid on lot {lot.number} of {tender.number}."]})
    if lot.awarded_bid_id is not None:
        raise Conflict(f"Lot {lot.number} of {tender.number} is awarded already.")
    if tender.status != "published" or not is_closed(tender):
        raise Conflict(f"Tender {tender.number} must be published and closed before an award.")
    stale = sorted({ll.requisition_line.requisition.request for ll in lot.lines
                    if ll.requisition_line.requisition.request.status != states.SOURCING},
                   key=lambda sr: sr.reference)
    if stale:
        raise Conflict("A lot is awarded only while every requisition in it is in sourcing: "
                       + "; ".join(f"{sr.reference} is {sr.status.replace('_', ' ')}" for sr in stale)
                       + ". Take its lines out with a new tender, or cancel this one.")
    if bid.supplier.status != "active":
        raise Conflict(f"{bid.supplier.name} is {bid.supplier.status}"
                       + (f" ({bid.supplier.status_reason})" if bid.supplier.status_reason else "")
                       + "; only an active supplier can be awarded.")
    justification = (justification or "").strip()
    if not justification:
        raise ValidationFailed({"justification": ["Write the justification of the award."]})
    evaluation = evaluate(lot)
    if evaluation.winner is None or evaluation.winner.id != bid.id:
        raise Conflict(f"The evaluation ranks "
                       f"{evaluation.winner.supplier.name if evaluation.winner else 'no bid'} first; "
                       "the award goes to the evaluated winner.")
    if lot.committee_required and lot.committee_signed_at is None:
        raise Conflict("The manual requires the contracts committee's review of this lot before the award.")
    now = utcnow()
    lot.awarded_bid_id = bid.id
    lot.award_total = bid.total_usd
    lot.award_justification = justification
    lot.awarded_at = now
    lot.awarded_by_id = actor.id
    by_agency: dict[int, list[BidLine]] = defaultdict(list)
    for bl in bid.lines:
        by_agency[bl.lot_line.requisition_line.requisition.request.agency_id].append(bl)
    orders = []
    for agency_id in sorted(by_agency, key=lambda a: db.session.get(Agency, a).code):
        lines = by_agency[agency_id]
        reqs = {bl.lot_line.requisition_line.requisition for bl in lines}
        po = PurchaseOrder(number=_next_number("PO"), agency_id=agency_id, supplier_id=bid.supplier_id, lot=lot,
                           requisition=next(iter(reqs)) if len(reqs) == 1 else None,
                           service_item=SERVICE_ITEMS[tender.method], status="issued", issued_at=now,
                           issued_by_id=actor.id, total_usd=sum((bl.amount_usd for bl in lines), ZERO))
        for bl in lines:
            rl = bl.lot_line.requisition_line
            po.lines.append(PurchaseOrderLine(requisition_line_id=rl.id, description=rl.description,
                                              unspsc=rl.unspsc, quantity=rl.quantity, unit=rl.unit,
                                              unit_price=bl.unit_price, amount_usd=bl.amount_usd,
                                              received_quantity=ZERO))
        db.session.add(po)
        orders.append(po)
    db.session.flush()
    assert sum((po.total_usd for po in orders), ZERO) == lot.award_total
    if all(lt.awarded_bid_id is not None for lt in tender.lots):
        tender.status = "awarded"
    audit.record(actor, "procurement.lot.award", lot,
                 after={"tender": tender.number, "lot": lot.number, "supplier": bid.supplier.name,
                        "total_usd": bid.total_usd, "justification": justification,
                        "orders": [po.number for po in orders]})
    for po in orders:
        audit.record(actor, "procurement.po.issue", po, after={"total_usd": po.total_usd})
    reqs_touched = {rl.requisition for po in orders for rl in
                    (db.session.get(RequisitionLine, pl.requisition_line_id) for pl in po.lines)}
    for req in sorted(reqs_touched, key=lambda r: r.id):
        if req.request.status == states.SOURCING and all_lines_ordered(req):
            workflow.perform(actor, req.request, "order", comment="Purchase order issued.")
    return orders


# --- purchase orders and receipts -------------------------------------------------------------


def orders_query(user: User, agency: str | None = None, status: str | None = None):
    stmt = select(PurchaseOrder)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(PurchaseOrder.agency_id == user.agency_id)
    if agency:
        stmt = stmt.join(Agency, Agency.id == PurchaseOrder.agency_id).where(Agency.code == agency.strip().upper())
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    return stmt.order_by(PurchaseOrder.id.desc())


def get_order(user: User, number: str) -> PurchaseOrder:
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
    if po is None:
        raise NotFound("No such purchase order.")
    authz.ensure_visible(user, po.agency_id, "purchase order")
    return po


def receive(actor: User, po: PurchaseOrder, data: dict) -> GoodsReceipt:
    """Record goods received, partly or fully, with the supplier's rating for the delivery.

    A fully received order becomes chargeable and completes the requisitions it
    finished. It writes two chargeable events (DESIGN §7), each unique per source:
    ``<PO>/receipt``, the process fee (kind ``fee``, the service item of the method),
    and ``<PO>/goods``, the goods as a pass-through (kind ``pass_through``). Both carry
    the order's goods value as ``value_usd``: for the fee event that value is only the
    base a percentage fee is computed on (billing prices fees from its price list), so
    the two values must never be added up as money owed.
    """
    _require_officer(actor)
    # Parallel receipts of one order wait for each other and count what the others received.
    db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == po.id).with_for_update()
                      .execution_options(populate_existing=True))
    db.session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == po.id)
                       .execution_options(populate_existing=True)).all()
    if po.status == "received":
        raise Conflict(f"{po.number} is fully received already.")
    lines = {pl.id: pl for pl in po.lines}
    wanted: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    day = today()
    issued_on = po.issued_at.astimezone(facility_tz()).date()
    received_on = data.get("received_on") or day
    if received_on > day:
        errors["received_on"] = [f"Goods cannot be received in the future (today is {day:%Y-%m-%d})."]
    elif received_on < issued_on:
        errors["received_on"] = [f"{po.number} was issued on {issued_on:%Y-%m-%d}; goods are received after that."]
    if data.get("lines") is not None and not data["lines"]:
        errors["lines"] = ["Give at least one line received, or leave lines out to receive everything outstanding."]
    elif data.get("lines"):
        for i, ln in enumerate(data["lines"]):
            pl = lines.get(ln["order_line_id"])
            if pl is None:
                errors[f"lines.{i}.order_line_id"] = [f"Not a line of {po.number}."]
            elif ln["order_line_id"] in wanted:
                errors[f"lines.{i}.order_line_id"] = ["Given twice."]
            elif ln["quantity"] > pl.quantity - pl.received_quantity:
                errors[f"lines.{i}.quantity"] = [
                    f"At most {pl.quantity - pl.received_quantity} {pl.unit} are still expected."]
            else:
                wanted[pl.id] = ln["quantity"]
    else:
        wanted = {pl.id: pl.quantity - pl.received_quantity for pl in po.lines if pl.quantity > pl.received_quantity}
    if errors:
        raise ValidationFailed(errors)
    receipt = GoodsReceipt(order=po, received_on=received_on, rating=data["rating"], note=data.get("note") or "",
                           recorded_by_id=actor.id, created_at=utcnow())
    for pl_id, qty in wanted.items():
        lines[pl_id].received_quantity += qty
        receipt.lines.append(GoodsReceiptLine(order_line_id=pl_id, quantity=qty))
    db.session.add(receipt)
    full = all(pl.received_quantity >= pl.quantity for pl in po.lines)
    po.status = "received" if full else "partially_received"
    audit.record(actor, "procurement.po.receipt", po,
                 after={"received": {str(k): v for k, v in wanted.items()}, "rating": receipt.rating,
                        "status": po.status})
    if full:
        agency = db.session.get(Agency, po.agency_id)
        charges.record(actor, source_ref=f"{po.number}/receipt", service_line=LINE, agency=agency,
                       service_item=po.service_item, quantity=1, value_usd=po.total_usd,
                       delivered_on=received_on, kind="fee",
                       description=f"{po.number}: {po.service_item.replace('_', ' ')} for {agency.code}")
        charges.record(actor, source_ref=f"{po.number}/goods", service_line=LINE, agency=agency,
                       service_item=GOODS_ITEM, quantity=1, value_usd=po.total_usd, delivered_on=received_on,
                       kind="pass_through", description=f"{po.number}: goods from {po.supplier.name}")
        db.session.flush()
        req_ids = {rl.requisition_id for rl in db.session.scalars(select(RequisitionLine).where(
            RequisitionLine.id.in_([pl.requisition_line_id for pl in po.lines if pl.requisition_line_id])))}
        for req_id in sorted(req_ids):
            req = db.session.get(Requisition, req_id)
            if req.request.status == states.ORDERED and all_orders_received(req):
                workflow.perform(actor, req.request, "complete", comment=f"Goods received ({po.number}).")
    return receipt


# --- long-term agreements ---------------------------------------------------------------------


def create_lta(actor: User, data: dict, lot: Lot | None = None) -> LongTermAgreement:
    """Enter an agreement directly, or (``lot`` given) record the one an awarded lot became."""
    _require_officer(actor)
    errors: dict[str, list[str]] = {}
    supplier = db.session.get(Supplier, data["supplier_id"])
    if supplier is None:
        errors["supplier_id"] = ["No such supplier."]
    valid_from = data["valid_from"]
    earliest, latest = date(2000, 1, 1), _add_years(today(), 5)
    if not earliest <= valid_from <= latest:
        errors["valid_from"] = [f"Give a date between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}."]
    if errors:
        raise ValidationFailed(errors)
    valid_to = data.get("valid_to") or _add_years(valid_from, 2) - timedelta(days=1)
    if valid_to < valid_from:
        errors["valid_to"] = ["The agreement must end after it starts."]
    elif valid_to >= _add_years(valid_from, 3):
        errors["valid_to"] = ["A long-term agreement runs at most three years."]
    agencies = []
    for code in dict.fromkeys(c.strip().upper() for c in data["agencies"]):
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            errors.setdefault("agencies", []).append(f"No agency {code}.")
        else:
            agencies.append(agency)
    if errors:
        raise ValidationFailed(errors)
    if supplier.status != "active":
        raise Conflict(f"{supplier.name} is {supplier.status}; agreements are made only with active suppliers.")
    lta = LongTermAgreement(title=data["title"].strip(), supplier=supplier, valid_from=valid_from, valid_to=valid_to,
                            ceiling_usd=data["ceiling_usd"], lot_id=lot.id if lot else None, created_by_id=actor.id,
                            created_at=utcnow())
    lta.agencies = agencies
    lta.lines = [LtaLine(description=ln["description"].strip(), unspsc=ln["unspsc"], unit=ln["unit"].strip(),
                         unit_price=ln["unit_price"]) for ln in data["lines"]]
    db.session.add(lta)
    audit.record(actor, "procurement.lta.create", lta,
                 after={**audit.snapshot(lta), "agencies": [a.code for a in agencies]})
    return lta


def lta_from_lot(actor: User, lot: Lot, data: dict) -> LongTermAgreement:
    """The award of a lot becomes a long-term agreement (DESIGN §3).

    The awarded supplier and its unit prices form the catalogue (one line per distinct
    item and price); validity defaults to two years from today (at most three); the
    participants default to the agencies whose requisitions are in the lot. The lot's
    own purchase orders stay as issued; later needs are call-offs under the agreement.
    """
    _require_officer(actor)
    tender, lot = _lock_lot(lot)
    if lot.awarded_bid_id is None:
        raise Conflict(f"Lot {lot.number} of {tender.number} is not awarded yet; "
                       "an agreement is made from an awarded lot.")
    existing = db.session.scalar(select(LongTermAgreement).where(LongTermAgreement.lot_id == lot.id))
    if existing is not None:
        raise Conflict(f"Lot {lot.number} of {tender.number} became agreement \"{existing.title}\" already.")
    bid = lot.awarded_bid
    catalogue: dict[tuple, dict] = {}
    for bl in bid.lines:
        rl = bl.lot_line.requisition_line
        key = (rl.description, rl.unspsc, rl.unit, bl.unit_price)
        catalogue.setdefault(key, {"description": rl.description, "unspsc": rl.unspsc, "unit": rl.unit,
                                   "unit_price": bl.unit_price})
    agencies = data.get("agencies") or sorted(
        {ll.requisition_line.requisition.request.agency.code for ll in lot.lines})
    return create_lta(actor, {
        "title": (data.get("title") or "").strip() or f"{tender.title}, lot {lot.number}",
        "supplier_id": bid.supplier_id, "valid_from": data.get("valid_from") or today(),
        "valid_to": data.get("valid_to"), "ceiling_usd": data["ceiling_usd"], "agencies": agencies,
        "lines": list(catalogue.values())}, lot=lot)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def consumed(lta: LongTermAgreement) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(PurchaseOrder.total_usd), 0))
                             .where(PurchaseOrder.lta_id == lta.id)) or ZERO


def with_consumed(lta: LongTermAgreement) -> LongTermAgreement:
    lta.consumed_usd = Decimal(consumed(lta)).quantize(Decimal("0.01"))
    return lta


def get_lta(lta_id: int, lock: bool = False) -> LongTermAgreement:
    stmt = select(LongTermAgreement).where(LongTermAgreement.id == lta_id)
    if lock:
        stmt = stmt.with_for_update()
    lta = db.session.scalar(stmt)
    if lta is None:
        raise NotFound("No such long-term agreement.")
    return lta


def call_off(actor: User, lta: LongTermAgreement, data: dict) -> PurchaseOrder:
    """A participating agency orders under the agreement; refused past its ceiling or validity."""
    authz.ensure_can_change(actor)
    if actor.is_facility_staff:
        _require_officer(actor)
        code = (data.get("agency") or "").strip().upper()
        agency = db.session.scalar(select(Agency).where(Agency.code == code)) if code else None
        if agency is None:
            raise ValidationFailed({"agency": ["Name the agency the call-off is for."]})
    else:
        authz.require_roles(actor, Role.REQUESTER, Role.AGENCY_HEAD)
        agency = actor.agency
        code = (data.get("agency") or "").strip().upper()
        if code and code != agency.code:
            raise ValidationFailed({"agency": [
                f"You order for your own agency ({agency.code}); leave the agency out."]})
    if agency.id not in {a.id for a in lta.agencies}:
        raise Forbidden(f"{agency.code} does not participate in this long-term agreement.")
    day = today()
    if not (lta.valid_from <= day <= lta.valid_to):
        raise Conflict(f"The agreement is valid from {lta.valid_from:%Y-%m-%d} to {lta.valid_to:%Y-%m-%d}; "
                       "no call-off can be placed today.")
    if lta.supplier.status != "active":
        raise Conflict(f"{lta.supplier.name} is {lta.supplier.status}; no call-off can be placed.")
    catalogue = {ln.id: ln for ln in lta.lines}
    errors: dict[str, list[str]] = {}
    po_lines = []
    for i, ln in enumerate(data["lines"]):
        item = catalogue.get(ln["lta_line_id"])
        if item is None:
            errors[f"lines.{i}.lta_line_id"] = ["Not a catalogue line of this agreement."]
            continue
        if any(pl.lta_line_id == item.id for pl in po_lines):
            errors[f"lines.{i}.lta_line_id"] = ["Given twice: order the whole quantity on one line."]
            continue
        amount = quantize(ln["quantity"] * item.unit_price)
        if amount >= MAX_AMOUNT:
            errors[f"lines.{i}.quantity"] = [TOO_LARGE.format(amount=amount)]
            continue
        po_lines.append(PurchaseOrderLine(lta_line_id=item.id, description=item.description, unspsc=item.unspsc,
                                          quantity=ln["quantity"], unit=item.unit, unit_price=item.unit_price,
                                          amount_usd=amount, received_quantity=ZERO))
    if errors:
        raise ValidationFailed(errors)
    total = sum((pl.amount_usd for pl in po_lines), ZERO)
    used = Decimal(consumed(lta))
    if used + total > lta.ceiling_usd:
        raise Conflict(f"This call-off of USD {total:,} would exceed the agreement's ceiling of USD "
                       f"{lta.ceiling_usd:,} (USD {lta.ceiling_usd - used:,} left).")
    po = PurchaseOrder(number=_next_number("PO"), agency_id=agency.id, supplier_id=lta.supplier_id, lta=lta,
                       service_item=CALL_OFF_ITEM, total_usd=total, status="issued", issued_at=utcnow(),
                       issued_by_id=actor.id)
    po.lines = po_lines
    db.session.add(po)
    audit.record(actor, "procurement.lta.call_off", po, after={"lta": lta.id, "total_usd": total})
    return po


def ltas_query():
    return select(LongTermAgreement).order_by(LongTermAgreement.id.desc())


# --- savings ----------------------------------------------------------------------------------


def tender_savings(tender: Tender) -> dict:
    """Estimates minus award, per awarded lot, summed per tender and per agency (DESIGN §3)."""
    per_agency: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for lot in tender.lots:
        if lot.awarded_bid_id is None:
            continue
        for bl in lot.awarded_bid.lines:
            rl = bl.lot_line.requisition_line
            code = rl.requisition.request.agency.code
            per_agency[code][0] += rl.estimate_usd
            per_agency[code][1] += bl.amount_usd
    agencies = [{"agency": code, "estimate_usd": e, "awarded_usd": a, "savings_usd": e - a}
                for code, (e, a) in sorted(per_agency.items())]
    est = sum((a["estimate_usd"] for a in agencies), ZERO)
    awd = sum((a["awarded_usd"] for a in agencies), ZERO)
    return {"tender_id": tender.id, "tender": tender.number, "estimate_usd": est, "awarded_usd": awd,
            "savings_usd": est - awd, "agencies": agencies}


def savings(user: User, tender_id: int | None = None) -> list[dict]:
    _require_staff_reader(user)
    stmt = select(Tender).where(Tender.status.in_(("published", "awarded"))).order_by(Tender.id)
    if tender_id is not None:
        stmt = stmt.where(Tender.id == tender_id)
    return [tender_savings(t) for t in db.session.scalars(stmt)
            if any(lot.awarded_bid_id for lot in t.lots)]


# --- demo -------------------------------------------------------------------------------------

DEMO_SUPPLIERS = [
    ("Tecnologia Planalto Ltda", "11.222.333/0001-81", ["4321"]),
    ("Brasília Informática S.A.", "22.333.444/0001-92", ["43211503", "4322"]),
    ("Cerrado Office Supplies Ltda", "33.444.555/0001-03", ["44", "4512"]),
]


def load_demo() -> None:
    """The founding manual (DESIGN §3) and a few suppliers; loading twice changes nothing."""
    if db.session.scalar(select(ProcurementManual.id).limit(1)) is None:
        activate_manual(DEMO_MANUAL, date(2020, 10, 1), None)
    for name, tax_id, categories in DEMO_SUPPLIERS:
        if db.session.scalar(select(Supplier.id).where(Supplier.country == "BR", Supplier.tax_id == tax_id)) is None:
            db.session.add(Supplier(name=name, country="BR", tax_id=tax_id, categories=categories,
                                    contact_name="", contact_email="", contact_phone="", status="active",
                                    status_reason="", status_since=date(2024, 1, 1), created_at=utcnow()))
