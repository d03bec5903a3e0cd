"""Recording service-level agreements (DESIGN §8): the facility manager records an
agency's agreement (or the facility default) with its targets and the signed document.

An agency has at most one agreement on any day: a new one may not overlap another of
the same agency, so "the agreement in force" is never ambiguous. Targets are whole
working days or hours, at least 1 and at most 2,000; a kind the agreement leaves out
falls back to the facility default.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.people import Agency, Role, User
from jof.governance.attachments import safe_filename
from jof.monitoring.access import sees_every_agency
from jof.monitoring.models import ServiceLevelAgreement, SlaTarget
from jof.monitoring.targets import KINDS

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_TARGET = 2000


def _snapshot(sla: ServiceLevelAgreement) -> dict:
    return {"agency_id": sla.agency_id, "valid_from": sla.valid_from.isoformat(),
            "valid_to": sla.valid_to.isoformat() if sla.valid_to else None, "reference": sla.reference,
            "targets": {t.kind: t.amount for t in sla.targets}, "document_sha256": sla.document_sha256}


def check_document(filename: str, data: bytes) -> None:
    """The signed agreement is a PDF of at most 5 MB, checked by its first bytes."""
    if not data:
        raise ValidationFailed({"document": ["The file is empty."]})
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValidationFailed({"document": ["The signed agreement may be at most 5 MB."]})
    if not filename.lower().endswith(".pdf") or not data.startswith(b"%PDF-"):
        raise ValidationFailed({"document": ["The signed agreement must be a PDF file."]})


def _check(agency_id: int | None, valid_from: date, valid_to: date | None, targets: dict[str, int],
           ignore_id: int | None = None) -> None:
    errors: dict[str, list[str]] = {}
    if agency_id is not None and db.session.get(Agency, agency_id) is None:
        errors["agency_id"] = ["No such agency."]
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = ["The agreement cannot end before it starts."]
    for kind, amount in targets.items():
        if kind not in KINDS:
            errors.setdefault("targets", []).append(f"Unknown service kind: {kind}.")
        elif not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_TARGET:
            errors.setdefault("targets", []).append(f"{kind}: a whole number from 1 to {MAX_TARGET}.")
    if errors:
        raise ValidationFailed(errors)
    same = (ServiceLevelAgreement.agency_id.is_(None) if agency_id is None
            else ServiceLevelAgreement.agency_id == agency_id)
    q = select(ServiceLevelAgreement.id).where(same).where(
        or_(ServiceLevelAgreement.valid_to.is_(None), ServiceLevelAgreement.valid_to >= valid_from))
    if valid_to is not None:
        q = q.where(ServiceLevelAgreement.valid_from <= valid_to)
    if ignore_id is not None:
        q = q.where(ServiceLevelAgreement.id != ignore_id)
    if db.session.scalars(q).first() is not None:
        raise ValidationFailed({"valid_from": [
            "Another agreement of the same agency covers part of this period; end it first."]})


def record(actor: User, data: dict, document: tuple[str, bytes] | None = None) -> ServiceLevelAgreement:
    """Record an agreement: ``data`` holds ``agency_id`` (None for the facility default),
    ``valid_from``, ``valid_to``, ``reference``, ``notes`` and ``targets`` ({kind: amount})."""
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager records service-level agreements.")
    targets = dict(data.get("targets") or {})
    _check(data.get("agency_id"), data["valid_from"], data.get("valid_to"), targets)
    sla = ServiceLevelAgreement(
        agency_id=data.get("agency_id"), valid_from=data["valid_from"], valid_to=data.get("valid_to"),
        reference=data.get("reference", ""), notes=data.get("notes", ""), recorded_by_id=actor.id,
        targets=[SlaTarget(kind=k, amount=v) for k, v in sorted(targets.items())])
    if document is not None:
        _attach(sla, *document)
    db.session.add(sla)
    db.session.flush()
    audit.record(actor, "monitoring.sla_recorded", sla, after=_snapshot(sla))
    return sla


def end(actor: User, sla: ServiceLevelAgreement, valid_to: date) -> ServiceLevelAgreement:
    """End an agreement on a day (a new one may then start after it)."""
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager records service-level agreements.")
    before = _snapshot(sla)
    _check(sla.agency_id, sla.valid_from, valid_to, {}, ignore_id=sla.id)
    sla.valid_to = valid_to
    db.session.flush()
    audit.record(actor, "monitoring.sla_ended", sla, before=before, after=_snapshot(sla))
    return sla


def _attach(sla: ServiceLevelAgreement, filename: str, data: bytes) -> None:
    check_document(filename, data)
    sla.document_name = safe_filename(filename)
    sla.document = data
    sla.document_size = len(data)
    sla.document_sha256 = hashlib.sha256(data).hexdigest()


def attach_document(actor: User, sla: ServiceLevelAgreement, filename: str, data: bytes) -> ServiceLevelAgreement:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager records service-level agreements.")
    before = _snapshot(sla)
    _attach(sla, filename, data)
    db.session.flush()
    audit.record(actor, "monitoring.sla_document", sla, before=before, after=_snapshot(sla))
    return sla


def get(user: User, sla_id: int) -> ServiceLevelAgreement:
    """An agreement the user may read: staff read all; an agency user reads its own
    agency's and the facility default (another agency's is a 404)."""
    sla = db.session.get(ServiceLevelAgreement, sla_id)
    if sla is None or (sla.agency_id is not None and not _sees_all(user) and sla.agency_id != user.agency_id):
        raise NotFound("No such service-level agreement.")
    return sla


def listing(user: User) -> list[ServiceLevelAgreement]:
    q = select(ServiceLevelAgreement).order_by(ServiceLevelAgreement.agency_id, ServiceLevelAgreement.valid_from)
    if not _sees_all(user):
        q = q.where(or_(ServiceLevelAgreement.agency_id.is_(None), ServiceLevelAgreement.agency_id == user.agency_id))
    return list(db.session.scalars(q.options(selectinload(ServiceLevelAgreement.targets),
                                              selectinload(ServiceLevelAgreement.agency))))


def _sees_all(user: User) -> bool:
    return sees_every_agency(user)
