"""The procurement manual (DESIGN §3): versions adopted by the board, and the method it decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.core import audit
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.money import quantize, to_decimal
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.governance import effects
from jof.procurement.models import (
    ProcurementManual,
)

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


def apply_manual_decision(decision, payload: dict, actor) -> str:
    """The board adopted a ``procurement_manual`` decision (registered by ``install(app)``)."""
    day = effects.effective_from(payload)
    manual = activate_manual(payload, day, actor, decision_id=decision.id)
    return f"Procurement manual {manual.version} in force from {day:%Y-%m-%d}."


def manual_in_force(day: date) -> ProcurementManual | None:
    return db.session.scalar(select(ProcurementManual).where(ProcurementManual.effective_from <= day)
                             .order_by(ProcurementManual.effective_from.desc()).limit(1))


def decision_form_defaults(on: date) -> dict:
    """The figures of the manual in force on ``on`` (the demo's when there is none), as a
    procurement_manual payload gives them: the board's form starts from them."""
    current = manual_in_force(on)
    out = {"version": ""}
    for name, kind in MANUAL_FIELDS.items():
        value = getattr(current, name) if current else DEMO_MANUAL[name]
        out[name] = value if kind is int else format(to_decimal(value), "f")
    return out


def manuals() -> list[ProcurementManual]:
    rows = db.session.scalars(select(ProcurementManual).order_by(ProcurementManual.effective_from.desc())).all()
    current = manual_in_force(local_today())
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


def manual_or_conflict(day: date) -> ProcurementManual:
    manual = manual_in_force(day)
    if manual is None:
        raise Conflict(f"No procurement manual is in force on {day:%Y-%m-%d}; the board must adopt one first.")
    return manual
