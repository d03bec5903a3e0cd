"""Effects of adopted decisions, applied through the module that owns what changes.

A module registers the function that applies its kind. A decision adopted before its
module exists keeps its effect ``pending``; :func:`apply_pending` applies it once the
module is there. Nothing is ever faked: a pending effect changed nothing yet.

The owning modules register their kinds from their line's ``install(app)``; registering
a kind again (a second app) replaces the entry, so it is harmless. Status changes go
through ``states.EFFECTS``.

Some changes carry their date themselves (a cost-sharing key is a row with an
``effective_from``), so they are applied at once. Others cannot be dated in the data
(an agency's membership is a current state): those register ``on_effective_date=True``,
stay ``scheduled`` until the day comes, and the scheduled ``jof governance close-due``
applies them on that day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from jof.core import audit
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, ValidationFailed
from jof.core.timeutil import utcnow
from jof.governance.models import EFFECT_KINDS, DecisionEffect
from jof.governance.states import EFFECTS, EffectStatus

log = logging.getLogger(__name__)

#: kind → (validate(payload) -> normalised payload, apply(decision, payload, actor) -> summary)
_APPLIERS: dict[str, tuple[Callable[[dict], dict], Callable]] = {}
#: kind → validate, for kinds whose owning module has not registered an applier yet
_VALIDATORS: dict[str, Callable[[dict], dict]] = {}
#: kinds applied only once their effective date has come
_ON_EFFECTIVE_DATE: set[str] = set()
#: kind → defaults(on) -> the payload in force on that day, to prefill the board's form
_FORM_DEFAULTS: dict[str, Callable[[date], dict]] = {}


def register(kind: str, validate: Callable[[dict], dict], apply: Callable, *,
             on_effective_date: bool = False) -> None:
    _APPLIERS[kind] = (validate, apply)
    if on_effective_date:
        _ON_EFFECTIVE_DATE.add(kind)
    else:
        _ON_EFFECTIVE_DATE.discard(kind)


def register_form_defaults(kind: str, defaults: Callable[[date], dict]) -> None:
    """The owning line says what is in force (a price list's items, a manual's figures),
    so the new-decision form starts from it; part of the board's public surface."""
    _FORM_DEFAULTS[kind] = defaults


def form_defaults(kind: str, on: date) -> dict:
    defaults = _FORM_DEFAULTS.get(kind)
    return defaults(on) if defaults else {}


def register_validator(kind: str, validate: Callable[[dict], dict]) -> None:
    _VALIDATORS[kind] = validate


def effective_from(payload: dict) -> date:
    raw = payload.get("effective_from")
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({"payload.effective_from": ["Give the date the decision takes effect (YYYY-MM-DD)."]}) from None


def validate_payload(kind: str, payload: dict | None) -> dict | None:
    if kind not in EFFECT_KINDS:
        if payload:
            raise ValidationFailed({"payload": [f"A {kind} decision carries no payload."]})
        return None
    if not isinstance(payload, dict):
        raise ValidationFailed({"payload": [f"A {kind} decision needs a payload describing its effect."]})
    effective_from(payload)
    validate = _APPLIERS.get(kind, (None,))[0] or _VALIDATORS.get(kind)
    return validate(payload) if validate else dict(payload)


def apply_adopted(decision, actor, today: date | None = None) -> None:
    """Record the adopted decision's effect and apply it if its module is present."""
    if decision.payload is None:
        return
    effect = DecisionEffect(decision_id=decision.id, kind=decision.kind, status=EffectStatus.PENDING,
                            effective_from=effective_from(decision.payload))
    db.session.add(effect)
    _try_apply(effect, decision, actor, today or utcnow().date())


def _due(effect, today: date) -> bool:
    return effect.kind not in _ON_EFFECTIVE_DATE or effect.effective_from <= today


def _try_apply(effect, decision, actor, today: date) -> None:
    entry = _APPLIERS.get(effect.kind)
    if entry is None:
        effect.summary = (f"Waiting: no module applies {effect.kind} decisions yet; the payload is "
                          "kept and applied when it is installed.")
        audit.record(actor, "decision.effect_pending", decision, after={"kind": effect.kind})
        return
    if not _due(effect, today):
        EFFECTS.move(effect, "schedule")
        effect.summary = f"Takes effect on {effect.effective_from:%Y-%m-%d}."
        audit.record(actor, "decision.effect_scheduled", decision,
                     after={"kind": effect.kind, "effective_from": effect.effective_from})
        return
    try:
        # In a savepoint: an effect that cannot apply (its agency changed meanwhile, its
        # date has become the past) is recorded as failed and never blocks the closing.
        with db.session.begin_nested():
            summary = entry[1](decision, decision.payload, actor)
            db.session.flush()
    except (DomainError, SQLAlchemyError) as exc:
        reason = _reason(exc)
        log.warning("effect of decision %s (%s) failed: %s", decision.id, effect.kind, reason)
        EFFECTS.move(effect, "fail")
        effect.summary = f"Not applied: {reason}"
        audit.record(actor, "decision.effect_failed", decision,
                     after={"kind": effect.kind, "reason": reason, "effective_from": effect.effective_from})
        return
    EFFECTS.move(effect, "apply")
    effect.applied_at = utcnow()
    effect.summary = summary
    audit.record(actor, "decision.effect_applied", decision,
                 after={"kind": effect.kind, "summary": summary,
                        "effective_from": effect.effective_from})


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        messages = [m for msgs in exc.errors.values() for m in msgs]
        return " ".join(messages) or exc.detail
    return "the database refused the change (" + type(getattr(exc, "orig", exc)).__name__ + ")."


def apply_pending(actor=None, today: date | None = None) -> int:
    """Apply every waiting effect whose module has registered since and whose day has
    come; returns how many."""
    today = today or utcnow().date()
    waiting = db.session.scalars(select(DecisionEffect)
                                 .where(DecisionEffect.status.in_((EffectStatus.PENDING, EffectStatus.SCHEDULED)))
                                 .order_by(DecisionEffect.effective_from, DecisionEffect.id)).all()
    done = 0
    for effect in waiting:
        if effect.kind in _APPLIERS and _due(effect, today):
            _try_apply(effect, effect.decision, actor, today)
            done += 1
    return done


#: Guards other lines register (billing: "is this billing period closed?"): each takes a
#: month and returns why its pools and allocation are frozen, or None.
_freeze_guards: list = []


def register_freeze_guard(guard) -> None:
    """Part of the board's public surface: a line's ``install`` freezes months here."""
    if guard not in _freeze_guards:
        _freeze_guards.append(guard)


def ensure_not_frozen(period: date) -> None:
    for guard in _freeze_guards:
        reason = guard(period)
        if reason:
            raise Conflict(reason)
