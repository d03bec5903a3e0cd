"""The price list (DESIGN §7): versioned, effective-dated, adopted by a board decision.

A charge is priced with the version in force on the delivery date, so a fee the board
changes from next month never reprices what was delivered before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from jof.billing.models import METHODS, BillingPeriod, Charge, PriceItem, PriceList
from jof.billing.states import PeriodStatus
from jof.core import audit
from jof.core.calendar import next_month
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.money import MoneyError, check_amount, quantize, to_decimal
from jof.core.timeutil import utcnow
from jof.governance import effects

#: The demo fees of DESIGN §7 (defaults the board may change by decision), with the item
#: codes the lines record (the ICT catalogue's codes and prices included). The
#: percentage item shows the floor-and-cap rule; its figures are illustrative.
DEMO_ITEMS = [
    {"code": "ticket_issuance", "service_line": "travel", "description": "Ticket issuance",
     "unit": "per ticket", "method": "flat", "amount": "35.00"},
    {"code": "rfq_process", "service_line": "procurement", "description": "Request for quotation process",
     "unit": "per process", "method": "flat", "amount": "350.00"},
    {"code": "itb_process", "service_line": "procurement",
     "description": "Invitation to bid / request for proposals process", "unit": "per process",
     "method": "flat", "amount": "1200.00"},
    {"code": "lta_call_off", "service_line": "procurement", "description": "Call-off against a long-term agreement",
     "unit": "per call-off", "method": "flat", "amount": "40.00"},
    {"code": "email_account", "service_line": "ict", "description": "Email account",
     "unit": "per seat per month", "method": "flat", "amount": "12.00"},
    {"code": "connectivity", "service_line": "ict", "description": "Connectivity",
     "unit": "per seat per month", "method": "flat", "amount": "25.00"},
    {"code": "shared_printing", "service_line": "ict", "description": "Shared printing",
     "unit": "per seat per month", "method": "flat", "amount": "8.00"},
    {"code": "laptop_setup", "service_line": "ict", "description": "Laptop set-up",
     "unit": "per laptop", "method": "flat", "amount": "60.00"},
    {"code": "micro_purchase", "service_line": "procurement", "description": "Micro-purchase handling",
     "unit": "% of value", "method": "percentage", "rate": "2.0", "floor": "25.00", "cap": "100.00"},
    # HR (jof/hr/fees.py): one fee per completed recruitment, by contract type; a hire from
    # the roster skips advertising and assessment and costs less whatever the contract.
    {"code": "recruitment_fixed_term", "service_line": "hr", "description": "Recruitment: fixed-term appointment",
     "unit": "per recruitment", "method": "flat", "amount": "1500.00"},
    {"code": "recruitment_temporary", "service_line": "hr", "description": "Recruitment: temporary appointment",
     "unit": "per recruitment", "method": "flat", "amount": "900.00"},
    {"code": "recruitment_service_contract", "service_line": "hr",
     "description": "Recruitment: service contract", "unit": "per recruitment", "method": "flat",
     "amount": "700.00"},
    {"code": "recruitment_individual_contractor", "service_line": "hr",
     "description": "Recruitment: individual contractor", "unit": "per recruitment", "method": "flat",
     "amount": "500.00"},
    {"code": "roster_hire", "service_line": "hr", "description": "Hire from a roster",
     "unit": "per recruitment", "method": "flat", "amount": "300.00"},
]


def validate_items(items, *, allow_empty: bool = False) -> list[dict]:
    """Check a price list's items; returns them normalised (amounts as strings)."""
    if items is None and allow_empty:
        items = []
    if not isinstance(items, list) or (not items and not allow_empty):
        raise ValidationFailed({"items": ["Give at least one price item."]})
    errors: dict[str, list[str]] = {}
    out, seen = [], set()
    for n, raw in enumerate(items):
        where = f"items.{n}"
        if not isinstance(raw, dict):
            errors[where] = ["Each item is an object."]
            continue
        code = str(raw.get("code") or "").strip()
        item = {"code": code, "service_line": str(raw.get("service_line") or "").strip(),
                "description": str(raw.get("description") or code).strip(),
                "unit": str(raw.get("unit") or "per unit").strip(),
                "method": raw.get("method") or "flat"}
        if not code:
            errors[f"{where}.code"] = ["Required."]
        elif code in seen:
            errors[f"{where}.code"] = [f"{code} appears twice."]
        seen.add(code)
        if not item["service_line"]:
            errors[f"{where}.service_line"] = ["Required."]
        if item["method"] not in METHODS:
            errors[f"{where}.method"] = [f"Use one of: {', '.join(METHODS)}."]
            continue
        try:
            for field in ("amount", "rate", "floor", "cap"):
                if raw.get(field) not in (None, ""):
                    value = to_decimal(raw[field])
                    problem = check_amount(value)  # the one ceiling of core.money
                    if problem:
                        errors[f"{where}.{field}"] = [problem]
                    item[field] = str(value)
        except MoneyError as exc:
            errors[f"{where}"] = [str(exc)]
            continue
        if item["method"] == "flat" and "amount" not in item:
            errors[f"{where}.amount"] = ["A flat fee needs its amount."]
        if item["method"] == "percentage":
            if "rate" not in item:
                errors[f"{where}.rate"] = ["A percentage fee needs its rate."]
            if "floor" in item and "cap" in item and Decimal(item["floor"]) > Decimal(item["cap"]):
                errors[f"{where}.cap"] = ["The cap must not be below the floor."]
        out.append(item)
    if errors:
        raise ValidationFailed(errors)
    return out


def validate_withdraw(withdraw, items: list[dict]) -> list[str]:
    """The codes a new version removes: a list of codes, none of them also (re)priced."""
    if withdraw in (None, ""):
        return []
    if not isinstance(withdraw, list) or not all(isinstance(c, str) and c.strip() for c in withdraw):
        raise ValidationFailed({"withdraw": ["Give a list of item codes."]})
    codes = [c.strip() for c in withdraw]
    both = sorted(set(codes) & {i["code"] for i in items})
    if both:
        raise ValidationFailed({"withdraw": [f"{', '.join(both)} cannot be both priced and withdrawn."]})
    return sorted(set(codes))


def first_open_day() -> date | None:
    """The first day a new version may take effect: the first day after the last closed
    billing period (a closed month's prices never change); None while none is closed."""
    last = db.session.scalar(select(func.max(BillingPeriod.month)).where(BillingPeriod.status == PeriodStatus.CLOSED))
    return None if last is None else next_month(last)


def check_effective_from(effective_from: date, field: str = "effective_from") -> None:
    start = first_open_day()
    if start is not None and effective_from < start:
        raise ValidationFailed({field: [
            f"The billing period {effective_from:%Y-%m} is closed (or before one that is); a new price list "
            f"takes effect on {start:%Y-%m-%d} or later."]})


def _row_to_item(i: PriceItem) -> dict:
    item = {"code": i.code, "service_line": i.service_line, "description": i.description, "unit": i.unit,
            "method": i.method}
    for f in ("amount", "rate", "floor", "cap"):
        if getattr(i, f) is not None:
            item[f] = str(getattr(i, f))
    return item


def create_version(items: list[dict], effective_from: date, *, decision_id: int | None = None,
                   notes: str = "", actor=None, withdraw: list[str] | None = None) -> PriceList:
    """A new version: the version in force on ``effective_from`` with ``items`` added or
    replaced (by code) and the ``withdraw`` codes removed; every other item carries
    forward unchanged, so a version that reprices one fee leaves the rest priced."""
    items = validate_items(items, allow_empty=bool(withdraw))
    withdraw = validate_withdraw(withdraw, items)
    check_effective_from(effective_from)
    base = in_force(effective_from)
    merged = {i.code: _row_to_item(i) for i in base.items} if base is not None else {}
    unknown = [c for c in withdraw if c not in merged]
    if unknown:
        raise ValidationFailed({"withdraw": [f"Not in the price list in force on {effective_from:%Y-%m-%d}: "
                                             + ", ".join(unknown) + "."]})
    for code in withdraw:
        del merged[code]
    merged.update({i["code"]: i for i in items})
    if not merged:
        raise ValidationFailed({"withdraw": ["A price list keeps at least one item."]})
    version = (db.session.scalar(select(func.max(PriceList.version))) or 0) + 1
    pl = PriceList(version=version, effective_from=effective_from, decision_id=decision_id,
                   notes=notes, created_at=utcnow())
    for it in sorted(merged.values(), key=lambda i: (i["service_line"], i["code"])):
        pl.items.append(PriceItem(
            code=it["code"], service_line=it["service_line"], description=it["description"],
            unit=it["unit"], method=it["method"],
            amount=Decimal(it["amount"]) if "amount" in it else None,
            rate=Decimal(it["rate"]) if "rate" in it else None,
            floor=Decimal(it["floor"]) if "floor" in it else None,
            cap=Decimal(it["cap"]) if "cap" in it else None))
    db.session.add(pl)
    db.session.flush()
    audit.record(actor, "price_list.adopt", pl,
                 after={"version": version, "effective_from": effective_from, "items": items,
                        "withdrawn": withdraw, "based_on": base.version if base is not None else None})
    return pl


def versions() -> list[PriceList]:
    """Every version the board adopted, newest first."""
    return list(db.session.scalars(select(PriceList).options(selectinload(PriceList.items))
                                   .order_by(PriceList.version.desc())))


def in_force(on: date) -> PriceList | None:
    return db.session.scalar(select(PriceList).where(PriceList.effective_from <= on)
                             .order_by(PriceList.effective_from.desc(), PriceList.version.desc()).limit(1))


def load_demo_prices(effective_from: date) -> PriceList | None:
    """The demo's founding price list; does nothing when a list exists already."""
    if db.session.scalar(select(PriceList.id).limit(1)) is not None:
        return None
    return create_version(DEMO_ITEMS, effective_from, notes="Founding price list of the demo facility.")


@dataclass
class Price:
    unit_price: Decimal | None
    amount: Decimal
    price_list: PriceList
    item: PriceItem


def price(item_code: str, quantity: Decimal, value_usd: Decimal, on: date) -> Price | None:
    """The fee for ``quantity`` of ``item_code`` delivered ``on``; None if the list has no such item."""
    pl = in_force(on)
    if pl is None:
        return None
    item = next((i for i in pl.items if i.code == item_code), None)
    if item is None:
        return None
    if item.method == "flat":
        return Price(item.amount, quantize(item.amount * quantity), pl, item)
    fee = quantize(value_usd * item.rate / 100)
    if item.floor is not None:
        fee = max(fee, item.floor)
    if item.cap is not None:
        fee = min(fee, item.cap)
    return Price(None, fee, pl, item)


def quote(item_code: str, quantity: Decimal, value_usd: Decimal, on: date) -> Decimal | None:
    """The fee alone (core.charges.quote_fee asks it for the lines that share one fee)."""
    priced = price(item_code, quantity, value_usd, on)
    return None if priced is None else priced.amount


# --- the board's price_list decisions -----------------------------------------------------------


def validate_decision(payload: dict) -> dict:
    """At proposal: the items listed replace or add, ``withdraw`` removes, every other item
    carries forward; the date must be in the first open billing month or later."""
    try:
        items = validate_items(payload.get("items"), allow_empty=bool(payload.get("withdraw")))
        withdraw = validate_withdraw(payload.get("withdraw"), items)
        check_effective_from(effects.effective_from(payload))
    except ValidationFailed as exc:
        raise ValidationFailed({k if k.startswith("payload.") else f"payload.{k}": v
                                for k, v in exc.errors.items()}) from None
    out = {"effective_from": payload["effective_from"], "items": items}
    if withdraw:
        out["withdraw"] = withdraw
    return out


def decision_form_defaults(on: date) -> dict:
    """The items of the list in force on ``on``, as a price_list payload lists them: the
    board's form starts from them."""
    pl = in_force(on)
    items = []
    for item in (pl.items if pl else []):
        row = {"code": item.code, "service_line": item.service_line, "description": item.description,
               "unit": item.unit, "method": item.method}
        for field in ("amount", "rate", "floor", "cap"):
            value = getattr(item, field)
            if value is not None:
                cents = value.quantize(Decimal("0.01"))
                row[field] = format(cents if cents == value else value.normalize(), "f")
        items.append(row)
    return {"items": items}


def apply_decision(decision, payload: dict, actor) -> str:
    """At adoption: a period closed meanwhile makes the date invalid; the ValidationFailed
    is recorded by governance as a failed effect with the reason."""
    pl = create_version(payload.get("items") or [], effects.effective_from(payload), decision_id=decision.id,
                        notes=decision.title, actor=actor, withdraw=payload.get("withdraw"))
    repriced = reprice_unbilled(pl.effective_from, actor)
    return (f"Price list version {pl.version} ({len(pl.items)} items) in force from "
            f"{pl.effective_from:%Y-%m-%d}; {repriced} unbilled charge(s) repriced.")


def reprice_unbilled(effective_from: date, actor=None) -> int:
    """Price again the fees delivered on or after ``effective_from`` that no invoice holds
    yet, so every charge is priced by the version in force on its delivery date even when
    the board adopts a version dated earlier in the open month."""
    changed = 0
    for charge in db.session.scalars(select(Charge).where(
            Charge.kind == "fee", Charge.invoice_id.is_(None), Charge.delivered_on >= effective_from)):
        if charge.event.fee_usd is not None:  # fixed by its line's pooled rule when recorded
            continue
        priced = price(charge.item_code, charge.quantity, charge.event.value_usd, charge.delivered_on)
        if priced is None or (priced.amount, priced.price_list.id) == (charge.amount, charge.price_list_id):
            continue
        before = {"amount": charge.amount, "unit_price": charge.unit_price, "price_list_id": charge.price_list_id}
        charge.unit_price, charge.amount, charge.price_list_id = (priced.unit_price, priced.amount,
                                                                  priced.price_list.id)
        audit.record(actor, "charge.reprice", charge, before=before,
                     after={"amount": charge.amount, "unit_price": charge.unit_price,
                            "price_list_id": charge.price_list_id})
        changed += 1
    return changed

