"""The effect of a ``membership`` decision: an agency joins, leaves, or changes between
member and partner (DESIGN §6).

Membership is a current state, not a dated row, so the effect is applied on its
effective date by the scheduled ``jof governance close-due``; the rules are checked
when the decision is proposed and again on that day, since the agency may have changed
while the decision waited. Registered with the board's effects by ``install``.
"""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from jof.core.errors import ValidationFailed, flatten_field_errors
from jof.core.people import Agency
from jof.governance import effects
from jof.governance.models import Decision
from jof.governance.schemas import MembershipPayload


def validate_membership(payload: dict) -> dict:
    try:
        clean = MembershipPayload().load(payload)
    except ma.ValidationError as exc:
        raise ValidationFailed({f"payload.{k}": v for k, v in flatten_field_errors(exc.messages).items()}) from None
    agency = db.session.scalar(select(Agency).where(Agency.code == clean["agency"]))
    _check_membership(clean, agency, effects.effective_from(clean))
    return clean


def _check_membership(payload: dict, agency: Agency | None, day: date) -> None:
    """The agency rules a membership change must respect (as the agency forms do)."""
    errors: dict[str, list[str]] = {}
    code, action = payload["agency"], payload["action"]
    if agency is None:
        if action != "join":
            errors["payload.agency"] = [f"There is no agency {code}."]
        else:
            for name in ("name", "country"):
                if not payload.get(name):
                    errors[f"payload.{name}"] = ["A new agency needs its name and country (ISO code)."]
    elif action in ("leave", "change"):
        if agency.left_on is not None and agency.left_on <= day:
            errors["payload.effective_from"] = [f"{code} left the facility on {agency.left_on:%Y-%m-%d}."]
        elif action == "leave" and day <= agency.joined_on:
            errors["payload.effective_from"] = [
                f"{code} joined on {agency.joined_on:%Y-%m-%d}; it can only leave after that day."]
    if errors:
        raise ValidationFailed(errors)


def apply_membership(decision: Decision, payload: dict, actor) -> str:
    # Checked again on the day: the agency may have changed while the decision waited.
    payload = validate_membership(payload)
    day = effects.effective_from(payload)
    agency = db.session.scalar(select(Agency).where(Agency.code == payload["agency"]))
    before = audit.snapshot(agency) if agency else None
    if payload["action"] == "join":
        if agency is None:
            agency = Agency(code=payload["agency"], name=payload["name"],
                            country=payload["country"], joined_on=day,
                            membership=payload["membership"])
            db.session.add(agency)
        else:
            # A partner becoming a member keeps its history; an agency that had left
            # rejoins on the day.
            agency.membership = payload["membership"]
            if agency.left_on is not None or agency.joined_on > day:
                agency.joined_on = day
            agency.left_on = None
        text = f"{agency.code} joins as {payload['membership']} on {day:%Y-%m-%d}."
    elif payload["action"] == "leave":
        agency.left_on = day
        text = f"{agency.code} leaves on {day:%Y-%m-%d}."
    else:
        agency.membership = payload["membership"]
        text = f"{agency.code} becomes a {payload['membership']} from {day:%Y-%m-%d}."
    audit.record(actor, "agency.membership", agency, before=before, after=audit.snapshot(agency))
    return text
