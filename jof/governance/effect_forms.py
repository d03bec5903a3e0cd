"""The new-decision form's typed effects: each kind's sub-form read into the payload the
API takes, the validators' messages put back on the fields a person sees, and the live
preview of a cost-sharing key's shares.

The API keeps taking the JSON payload; this module only builds it from the form, so the
same ``effects.validate_payload`` checks both. Field names are prefixed by kind (``key_``,
``prices_``/``item-N-``, ``manual_``, ``member_``) so every sub-form can sit in the same
page and only the chosen kind's fields are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.people import Agency, Membership
from jof.governance import cost_sharing, effects
from jof.governance.allocation import allocate, validate_components

#: The key's methods as the form names them (the payload's codes, in the form's order).
KEY_METHODS = {"equal": _l("Equal share"), "headcount": _l("Headcount"),
               "usage_count": _l("Number of requests"), "usage_value": _l("Value of requests"),
               "fixed": _l("Fixed weights")}
#: A manual's figures as the form names them.
MANUAL_LABELS = {
    "version": _l("Version"), "rfq_from_usd": _l("Request for quotations from (USD)"),
    "itb_from_usd": _l("Invitation to bid from (USD)"), "committee_from_usd": _l("Contracts committee from (USD)"),
    "micro_min_quotes": _l("Quotes for a micro-purchase"), "rfq_min_quotes": _l("Quotes for a request for quotations"),
    "rfq_min_working_days": _l("Working days for quotations"), "itb_min_offers": _l("Offers for an invitation to bid"),
    "itb_min_working_days": _l("Working days for offers"), "technical_minimum": _l("Technical minimum score"),
    "technical_weight": _l("Technical weight (%)"), "financial_weight": _l("Financial weight (%)"),
}
ITEM_FIELDS = ("code", "service_line", "description", "unit", "method", "amount", "rate", "floor", "cap")
ITEM_LABELS = {"code": _l("code"), "service_line": _l("service line"), "description": _l("description"),
               "unit": _l("unit"), "method": _l("method"), "amount": _l("amount"), "rate": _l("rate (%)"),
               "floor": _l("floor"), "cap": _l("cap")}
MEMBER_LABELS = {"agency": _l("Agency"), "action": _l("Change"), "membership": _l("As"),
                 "name": _l("Name of the new agency"), "country": _l("Country (ISO code)"),
                 "effective_from": _l("Effective date")}
#: Blank price rows offered below the list in force.
BLANK_ROWS = 3
_MONTH = re.compile(r"^\d{4}-\d{2}$")


# --- reading the form --------------------------------------------------------------------------


def payload_from_form(kind: str, form: dict) -> dict | None:
    """The payload the chosen kind's sub-form describes (None for a kind without effect);
    raises ValidationFailed keyed by form field when a field cannot even be read."""
    builder = {"cost_sharing_key": _key_payload, "price_list": _prices_payload,
               "procurement_manual": _manual_payload, "membership": _member_payload}.get(kind)
    return builder(form) if builder else None


def _month(form: dict, name: str, errors: dict) -> str:
    raw = (form.get(name) or "").strip()
    if not _MONTH.match(raw) or not 1 <= int(raw[5:]) <= 12:
        errors[name] = [_("Effective month: choose the month (YYYY-MM).")]
        return ""
    return f"{raw}-01"


def _number(raw: str, *, high: Decimal, places: int) -> Decimal | None:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or not Decimal(0) <= value <= high or value != round(value, places):
        return None
    return value


def key_agencies() -> list[Agency]:
    """The member agencies a key may weigh: those still in the facility."""
    return list(db.session.scalars(select(Agency).where(Agency.membership == Membership.MEMBER,
                                                        Agency.left_on.is_(None)).order_by(Agency.code)))


def key_components(form: dict, errors: dict) -> dict:
    components: dict = {}
    for method, label in KEY_METHODS.items():
        raw = (form.get(f"key_{method}") or "").strip()
        if not raw:
            continue
        value = _number(raw, high=Decimal(100), places=2)
        if value is None or value == 0:
            errors[f"key_{method}"] = [_("%(label)s: enter a percentage above 0 and at most 100, with at most "
                                         "two decimals.", label=label)]
            continue
        components[method] = raw
    weights = {}
    for agency in key_agencies():
        raw = (form.get(f"weight_{agency.code}") or "").strip()
        if not raw:
            continue
        if _number(raw, high=Decimal(10) ** 9, places=6) is None:
            errors[f"weight_{agency.code}"] = [_("Weight of %(code)s: enter a number from 0 to 1,000,000,000 "
                                                 "with at most six decimals.", code=agency.code)]
            continue
        weights[agency.code] = raw
    if weights:
        components["fixed_weights"] = weights
    if not components:
        errors["key_components"] = [_("Give at least one method with its percentage.")]
    return components


def _key_payload(form: dict) -> dict:
    errors: dict = {}
    effective_from = _month(form, "key_month", errors)
    components = key_components(form, errors)
    if errors:
        raise ValidationFailed(errors)
    return {"effective_from": effective_from, "components": components}


def item_rows(form: dict) -> int:
    """How many price rows the posted form holds."""
    indexes = [int(m.group(1)) for name in form if (m := re.match(r"^item-(\d{1,3})-", name))]
    return max(indexes) + 1 if indexes else 0


def _prices_payload(form: dict) -> dict:
    errors: dict = {}
    effective_from = _month(form, "prices_month", errors)
    if errors:
        raise ValidationFailed(errors)
    items, withdraw = [], []
    for n in range(item_rows(form)):
        row = {f: (form.get(f"item-{n}-{f}") or "").strip() for f in ITEM_FIELDS}
        if not any(row[f] for f in ITEM_FIELDS if f != "method"):
            continue
        if form.get(f"item-{n}-withdraw"):
            withdraw.append(row["code"])
            continue
        items.append({f: v for f, v in row.items() if v})
    payload: dict = {"effective_from": effective_from, "items": items}
    if withdraw:
        payload["withdraw"] = withdraw
    return payload


def _manual_payload(form: dict) -> dict:
    payload = {"effective_from": (form.get("manual_from") or "").strip()}
    for name in MANUAL_LABELS:
        payload[name] = (form.get(f"manual_{name}") or "").strip()
    return payload


def _member_payload(form: dict) -> dict:
    action = form.get("member_action") or ""
    code = (form.get("member_agency") or "").strip() or (form.get("member_new_code") or "").strip()
    payload = {"effective_from": (form.get("member_from") or "").strip(), "action": action, "agency": code}
    if action != "leave":
        payload["membership"] = form.get("member_membership") or "member"
    for name in ("name", "country"):
        if (form.get(f"member_{name}") or "").strip():
            payload[name] = form[f"member_{name}"].strip()
    return payload


# --- putting the validators' messages on the fields -------------------------------------------


def form_errors(kind: str, form: dict, errors: dict) -> dict:
    """The service's ``payload.*`` messages keyed by the form field they belong to and
    prefixed with that field's label; other keys pass through."""
    out: dict[str, list[str]] = {}
    item_of = _item_rows_of(form) if kind == "price_list" else []
    for key, messages in errors.items():
        if not key.startswith("payload"):
            out.setdefault(key, []).extend(messages)
            continue
        name = key.removeprefix("payload").lstrip(".")
        field, label = _field_of(kind, name, item_of)
        out.setdefault(field, []).extend(f"{label}: {m}" if label else m for m in messages)
    return out


def _item_rows_of(form: dict) -> list[int]:
    """The form row each payload item came from (blank and withdrawn rows give none)."""
    rows = []
    for n in range(item_rows(form)):
        filled = any((form.get(f"item-{n}-{f}") or "").strip() for f in ITEM_FIELDS if f != "method")
        if filled and not form.get(f"item-{n}-withdraw"):
            rows.append(n)
    return rows


def _field_of(kind: str, name: str, item_of: list[int]) -> tuple[str, str]:
    if kind == "cost_sharing_key":
        if name == "effective_from":
            return "key_month", str(_("Effective month"))
        if name == "fixed_weights":
            return "key_weights", str(_("Fixed weights"))
        return "key_components", str(_("Methods"))
    if kind == "price_list":
        if name == "effective_from":
            return "prices_month", str(_("Effective month"))
        match = re.match(r"^items\.(\d+)(?:\.(\w+))?$", name)
        if match and int(match.group(1)) < len(item_of):
            row = item_of[int(match.group(1))]
            field = match.group(2)
            label = _("Line %(n)s", n=row + 1)
            if field:
                return f"item-{row}-{field}", f"{label}, {ITEM_LABELS.get(field, field)}"
            return f"item-{row}-code", str(label)
        if name == "withdraw":
            return "prices_items", str(_("Withdrawn items"))
        return "prices_items", str(_("Items"))
    if kind == "procurement_manual":
        if name == "effective_from":
            return "manual_from", str(_("Effective date"))
        if name in MANUAL_LABELS:
            return f"manual_{name}", str(MANUAL_LABELS[name])
    if kind == "membership":
        if name == "effective_from":
            return "member_from", str(MEMBER_LABELS["effective_from"])
        if name in MEMBER_LABELS:
            return f"member_{name}", str(MEMBER_LABELS[name])
    return "effect", str(_("Effect"))


# --- the form's starting values ---------------------------------------------------------------


def initial_fields(kind: str) -> dict:
    """The sub-form's fields prefilled from what is in force (price list, manual)."""
    today = local_today()
    defaults = effects.form_defaults(kind, today)
    out: dict = {}
    if kind == "price_list":
        for n, item in enumerate(defaults.get("items", [])):
            out.update({f"item-{n}-{f}": str(v) for f, v in item.items() if f in ITEM_FIELDS})
    elif kind == "procurement_manual":
        out.update({f"manual_{k}": str(v) for k, v in defaults.items() if k in MANUAL_LABELS})
    return out


# --- the key's preview --------------------------------------------------------------------------


@dataclass
class KeyShare:
    code: str
    percent: Decimal


def preview_month() -> date:
    """The month whose headcount and usage the preview weighs: the last complete one."""
    first = local_today().replace(day=1)
    return (first.replace(year=first.year - 1, month=12) if first.month == 1
            else first.replace(month=first.month - 1))


def key_preview(components: dict) -> list[KeyShare]:
    """Each member's share of a cost of 100.00 under ``components``, split by the same
    ``allocate`` the system records allocations with: the shares sum to 100 exactly."""
    components = validate_components(components)
    inputs = cost_sharing.period_inputs(preview_month())
    shares = allocate(Decimal("100.00"), components, inputs)
    return [KeyShare(s.code, s.amount) for s in shares]


def safe_key_preview(form: dict) -> tuple[list[KeyShare], list[str]]:
    """The preview for the posted key fields, or the reasons there is none yet."""
    errors: dict = {}
    components = key_components(form, errors)
    if not components and set(errors) == {"key_components"}:
        return [], []  # nothing typed yet
    if errors:
        return [], [m for msgs in errors.values() for m in msgs]
    try:
        return key_preview(components), []
    except ValidationFailed as exc:
        return [], [m for msgs in exc.errors.values() for m in msgs]
