"""Documents the board reads with a draft decision: checked by extension and by their
first bytes, at most 5 MB, stored in the database and served as downloads."""

from __future__ import annotations

from sqlalchemy import select

from jof.core import audit, authz, uploads
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.governance.models import Decision, DecisionAttachment
from jof.governance.states import DecisionStatus

MAX_ATTACHMENT_BYTES = uploads.MAX_DOCUMENT_BYTES
ATTACHMENT_TYPES = uploads.DOCUMENT_TYPES
TooLarge = uploads.TooLarge
safe_filename = uploads.safe_filename


def add_attachment(actor: User, decision: Decision, filename: str, data: bytes) -> DecisionAttachment:
    """Attach a document to a draft (its proposer or the manager); PDF, PNG, JPEG, plain
    text, DOCX, XLSX or ODT, checked by extension and by its first bytes."""
    authz.ensure_can_change(actor)
    if decision.proposed_by_id != actor.id and not actor.has_role(Role.MANAGER, Role.RESIDENT_COORDINATOR):
        raise Forbidden("Only the proposer, the facility manager or the Resident Coordinator attaches documents "
                        "to this decision.")
    if decision.status != DecisionStatus.DRAFT:
        raise Conflict("Documents are attached while the decision is a draft; an open or closed decision "
                       "never changes.")
    doc = uploads.check_document(filename, data, allowed=tuple(ATTACHMENT_TYPES),
                                 wrong_type="Attach a PDF, PNG, JPEG, plain text (.txt), DOCX, XLSX or ODT file.")
    name, content_type = doc.filename, doc.content_type
    attachment = DecisionAttachment(decision_id=decision.id, filename=name, content_type=content_type,
                                    size=len(data), sha256=doc.sha256, data=data,
                                    uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    audit.record(actor, "decision.attachment_add", decision, after={
        "attachment": attachment.id, "filename": name, "content_type": content_type,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def get_attachment(decision: Decision, attachment_id: int) -> DecisionAttachment:
    attachment = db.session.scalar(select(DecisionAttachment).where(
        DecisionAttachment.id == attachment_id, DecisionAttachment.decision_id == decision.id))
    if attachment is None:
        raise NotFound("No such attachment on this decision.")
    return attachment
