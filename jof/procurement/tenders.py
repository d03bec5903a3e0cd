"""Joint tenders: pooling requisitions into lots, publishing, recording bids."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jof.core import audit, templating, workflow
from jof.core.calendar import WorkingCalendar, local_today
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.formatting import facility_time
from jof.core.money import MAX_AMOUNT, quantize
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.procurement import states
from jof.procurement.common import (
    CEILING_WORDS,
    METHOD_LABELS,
    TOO_LARGE,
    ZERO,
    next_number,
    require_officer,
    require_staff_reader,
)
from jof.procurement.manual import decide_method, manual_or_conflict
from jof.procurement.models import (
    Bid,
    BidLine,
    LongTermAgreement,
    Lot,
    LotLine,
    PurchaseOrder,
    Requisition,
    RequisitionLine,
    Supplier,
    Tender,
    TenderStatus,
)
from jof.procurement.queries import requisition_of


def create_tender(actor: User, data: dict) -> Tender:
    """Pool approved requisitions of one or more agencies into one tender with lots."""
    require_officer(actor)
    reqs: list[Requisition] = []
    errors: dict[str, list[str]] = {}
    for ref in dict.fromkeys(data["requisitions"]):
        sr = db.session.scalar(select(workflow.ServiceRequest).where(workflow.ServiceRequest.reference == ref))
        req = requisition_of(sr) if sr is not None and sr.request_type == states.CODE else None
        if req is None:
            errors.setdefault("requisitions", []).append(f"{ref}: no such requisition.")
        elif sr.status != workflow.Status.APPROVED:
            errors.setdefault("requisitions", []).append(
                _("%(ref)s is %(status)s; only approved requisitions can be tendered.", ref=ref,
                  status=templating.status_label(sr.status).lower()))
        else:
            reason = states.may_source(sr, actor)
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
    day = local_today()
    manual = manual_or_conflict(day)
    total = sum((ln.estimate_usd for ln in all_lines.values()), ZERO)
    tender = Tender(number=next_number("TND"), title=data["title"].strip(), method=decide_method(manual, total).method,
                    evaluation_method=data.get("evaluation_method") or "cumulative", status=TenderStatus.DRAFT,
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
    require_staff_reader(user)
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound("No such tender.")
    return tender


def get_lot(tender: Tender, number: int) -> Lot:
    lot = next((lot for lot in tender.lots if lot.number == number), None)
    if lot is None:
        raise NotFound(f"Tender {tender.number} has no lot {number}.")
    return lot


#: A tender's lots with each line down to its requisition's agency (what the API's
#: representation and the page read of them).
LOT_LINES = (selectinload(Tender.lots).selectinload(Lot.lines).selectinload(LotLine.requisition_line)
             .selectinload(RequisitionLine.requisition).selectinload(Requisition.request)
             .selectinload(workflow.ServiceRequest.agency))


def with_lots_loaded(tender: Tender) -> Tender:
    """The tender with what its page and its lots' evaluation read (each lot line down to
    its agency, each bid with its supplier and lines), in a fixed number of statements
    however many lines and bids its lots hold."""
    lots = selectinload(Tender.lots)
    db.session.scalars(select(Tender).where(Tender.id == tender.id).options(
        LOT_LINES, lots.selectinload(Lot.bids).selectinload(Bid.supplier), lots.selectinload(Lot.bids).selectinload(Bid.lines)
    )).all()  # held by ``tender`` (loaded through it): the session keeps only what is referenced
    return tender


def orders_and_agreements(tender: Tender) -> tuple[dict[int, list[PurchaseOrder]], dict[int, LongTermAgreement]]:
    """Each lot's purchase orders (with their agencies, by number) and the long-term
    agreement it became, keyed by lot id: two statements for the whole tender."""
    lots = select(Lot.id).where(Lot.tender_id == tender.id)
    orders: dict[int, list[PurchaseOrder]] = defaultdict(list)
    for po in db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.lot_id.in_(lots))
                                 .options(selectinload(PurchaseOrder.agency)).order_by(PurchaseOrder.number)):
        orders[po.lot_id].append(po)
    agreements = {lta.lot_id: lta for lta in db.session.scalars(
        select(LongTermAgreement).where(LongTermAgreement.lot_id.in_(lots)))}
    return orders, agreements


def bids_of(lot: Lot) -> list[Bid]:
    """A lot's bids in the order received, with their suppliers and lines loaded at once."""
    return list(db.session.scalars(select(Bid).where(Bid.lot_id == lot.id)
                                   .options(selectinload(Bid.supplier), selectinload(Bid.lines)).order_by(Bid.id)))


def tenders_query(user: User, status: str | None = None):
    require_staff_reader(user)
    stmt = select(Tender)
    if status:
        stmt = stmt.where(Tender.status == status)
    return stmt.order_by(Tender.id.desc())


def minimum_working_days(tender: Tender) -> int:
    m = tender.manual
    return {"rfq": m.rfq_min_working_days, "itb": m.itb_min_working_days}.get(tender.method, 0)


def publish(actor: User, tender: Tender, closing_at: datetime) -> Tender:
    require_officer(actor)
    if tender.status != "draft":
        raise Conflict(f"Tender {tender.number} is {tender.status}; only a draft is published.")
    now = utcnow()
    if closing_at <= now:
        raise ValidationFailed({"closing_at": ["The closing time must be in the future."]})
    days = minimum_working_days(tender)
    if days:
        cal = WorkingCalendar.of_facility()
        earliest = cal.add_working_days(local_today(), days)
        if closing_at.astimezone(cal.tz).date() < earliest:
            raise ValidationFailed({"closing_at": [
                f"A {METHOD_LABELS[tender.method]} stays open at least {days} working days: close on "
                f"{earliest:%Y-%m-%d} or later."]})
    states.TENDER.move(tender, "publish")
    tender.closing_at = closing_at
    tender.published_at = now
    audit.record(actor, "procurement.tender.publish", tender, after={"closing_at": closing_at})
    return tender


def is_closed(tender: Tender, now: datetime | None = None) -> bool:
    return tender.closing_at is not None and (now or utcnow()) >= tender.closing_at


def record_bid(actor: User, lot: Lot, data: dict) -> Bid:
    """Record a supplier's offer for a lot; refused after closing and for a supplier not active."""
    require_officer(actor)
    tender = lot.tender
    if tender.status != "published":
        raise Conflict(f"Tender {tender.number} is {tender.status}; bids are taken only while it is published.")
    now = utcnow()
    if is_closed(tender, now):
        raise Conflict(f"Tender {tender.number} closed at {facility_time(tender.closing_at)}; "
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
        elif amount <= 0:
            # A line worth nothing once rounded would make a bid of USD 0.00, which no
            # evaluation can weigh (the financial score divides by the price).
            errors[f"lines.{position[ll_id]}.unit_price"] = [
                f"Quantity × unit price comes to USD {amount:,.2f} once rounded to the cent; "
                "price the line at USD 0.01 or more in total."]
        bid_lines.append(BidLine(lot_line_id=ll_id, unit_price=prices[ll_id], amount_usd=amount))
        total += amount
    if not errors and total >= MAX_AMOUNT:
        errors["lines"] = [f"The bid comes to USD {total:,}; a bid must stay below {CEILING_WORDS}."]
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




def lock_lot(lot: Lot) -> tuple[Tender, Lot]:
    """Lock the lot's tender row and reload the tender and its lots as committed.

    Awards (and agreements made from them) of one tender are serialised: a second
    award of the same lot waits for the first, then sees it and is refused.
    """
    tender = db.session.scalar(select(Tender).where(Tender.id == lot.tender_id).with_for_update()
                               .execution_options(populate_existing=True))
    db.session.scalars(select(Lot).where(Lot.tender_id == tender.id)
                       .execution_options(populate_existing=True)).all()
    return tender, lot
