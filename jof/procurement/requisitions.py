"""Requisitions: filing, the estimate and method at submission, the splitting check."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from jof.core import audit, authz, workflow
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import CURRENCIES, MAX_AMOUNT, to_usd
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.procurement import states
from jof.procurement.common import CEILING_WORDS, METHOD_LABELS, TOO_LARGE, ZERO, require_officer
from jof.procurement.manual import decide_method, manual_or_conflict
from jof.procurement.models import (
    ProcurementManual,
    Requisition,
    RequisitionLine,
)
from jof.procurement.queries import requisition_of


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
        errors["lines"] = [f"The lines come to USD {total:,}; a requisition must stay below {CEILING_WORDS}."]
    if errors:
        raise ValidationFailed(errors)
    return total


def _check(data: dict) -> None:
    """What the schema cannot know: currencies JOF has rates for (a date needed by in the
    past is the schema's own refusal, ``schemas.not_past``, reported with the other fields')."""
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(data["lines"]):
        if ln.get("currency", "USD") not in CURRENCIES:
            errors[f"lines.{i}.currency"] = [_("JOF has no operational rates for %(currency)s.", currency=ln["currency"])]
    if errors:
        raise ValidationFailed(errors)


def _fill(req: Requisition, data: dict, day: date) -> None:
    req.justification = data.get("justification") or ""
    req.needed_by = data.get("needed_by")
    req.budget_code = (data.get("budget_code") or "").strip()
    req.estimated_on = day
    if req.lines:  # a draft's lines are replaced: delete first, numbers are unique
        req.lines.clear()
        db.session.flush()
    for i, ln in enumerate(data["lines"], start=1):
        req.lines.append(RequisitionLine(line_no=i, description=ln["description"].strip(),
                                         unspsc=ln["unspsc"], quantity=ln["quantity"], unit=ln["unit"].strip(),
                                         unit_price=ln["unit_price"], currency=ln.get("currency") or "USD"))
    req.estimate_usd = _estimate_lines(req.lines, day)
    req.request.amount_usd = req.estimate_usd


def create_requisition(actor: User, data: dict, agency: Agency | None = None) -> Requisition:
    """A requester files a draft for their agency; the estimate uses this month's rate."""
    _check(data)
    sr = workflow.create_request(actor, states.CODE, title=data["title"], agency=agency,
                                 description=data.get("justification") or "")
    req = Requisition(request=sr)
    _fill(req, data, local_today())
    db.session.add(req)
    db.session.flush()
    audit.record(actor, "procurement.requisition.create", sr,
                 after={"estimate_usd": req.estimate_usd, "lines": len(req.lines)})
    return req


def _lines_snapshot(req: Requisition) -> list[dict]:
    return [{"description": ln.description, "unspsc": ln.unspsc, "quantity": ln.quantity, "unit": ln.unit,
             "unit_price": ln.unit_price, "currency": ln.currency} for ln in req.lines]


def update_requisition(actor: User, req: Requisition, data: dict, version: int) -> Requisition:
    """The requester who filed a draft completes it; once submitted it no longer changes
    (what the manager approved is what is bought). A stale form is a 409, as for moves."""
    sr = req.request
    authz.ensure_can_change(actor)
    if sr.requester_id != actor.id:
        raise Forbidden("Only the requester who filed this draft may edit it.")
    if sr.status != workflow.Status.DRAFT:
        raise Conflict("Only a draft can be edited; this requisition has been submitted.")
    if version != sr.version:
        raise Conflict("Someone changed this requisition since you opened it; reload it and edit again.")
    _check(data)
    before = {"title": sr.title, "needed_by": req.needed_by, "budget_code": req.budget_code,
              "estimate_usd": req.estimate_usd, "lines": _lines_snapshot(req)}
    sr.title = data["title"].strip()
    sr.description = data.get("justification") or ""
    _fill(req, data, local_today())
    db.session.flush()
    audit.record(actor, "procurement.requisition.update", sr, before=before,
                 after={"title": sr.title, "needed_by": req.needed_by, "budget_code": req.budget_code,
                        "estimate_usd": req.estimate_usd, "lines": _lines_snapshot(req)})
    return req


def on_submit(sr: workflow.ServiceRequest, user: User, _payload=None) -> None:
    """The effect of ``submit``: estimate at the submission month's rate, apply the manual
    in force, check splitting. A missing manual refuses the submission (the move is undone)."""
    req = requisition_of(sr)
    day = local_today()
    req.estimated_on = day
    req.estimate_usd = _estimate_lines(req.lines, day)
    sr.amount_usd = req.estimate_usd
    manual = manual_or_conflict(day)
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
    require_officer(actor)
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
    spine = contains_eager(Requisition.request)
    stmt = (select(Requisition).join(workflow.ServiceRequest, workflow.ServiceRequest.id == Requisition.request_id)
            .options(spine.selectinload(workflow.ServiceRequest.agency),
                     spine.selectinload(workflow.ServiceRequest.requester),
                     selectinload(Requisition.lines), selectinload(Requisition.manual)))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(workflow.ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(workflow.ServiceRequest.status == status)
    if agency:
        stmt = stmt.join(Agency, Agency.id == workflow.ServiceRequest.agency_id).where(
            Agency.code == agency.strip().upper())
    return stmt.order_by(workflow.ServiceRequest.id.desc())
