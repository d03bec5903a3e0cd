"""Documents the board reads with a draft decision: checked by extension and by their
first bytes, at most 5 MB, stored in the database and served as downloads."""

from __future__ import annotations

import hashlib
import unicodedata

from sqlalchemy import select

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.governance.models import Decision, DecisionAttachment
from jof.governance.states import DecisionStatus

#: 5 MB: larger files are refused (413) with a message saying so.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
_ZIP = (b"PK\x03\x04",)
#: extension → (content type served, magic prefixes; None = UTF-8 text without NUL)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain; charset=utf-8", None),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
}


class TooLarge(DomainError):
    status = 413


def safe_filename(name: str) -> str:
    """A file name fit for a download header: no folders, no quotes or control characters,
    at most 120 characters, its extension kept (``attachment.pdf`` if nothing is left)."""
    base = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(c for c in base if c.isprintable() and c not in '"\'<>:|?*;').strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.strip().lower()[:10]
    stem = stem[:120 - len(ext) - 1].strip(" .") or "attachment"
    return f"{stem}.{ext}" if ext else stem


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
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise TooLarge(f"The file is {len(data) / 1024 / 1024:.1f} MB; attachments may be at most 5 MB.",
                       {"file": ["At most 5 MB."]})
    name = safe_filename(filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise ValidationFailed({"file": [
            "Attach a PDF, PNG, JPEG, plain text (.txt), DOCX, XLSX or ODT file."]})
    if not data:
        raise ValidationFailed({"file": ["The file is empty."]})
    content_type, magic = ATTACHMENT_TYPES[ext]
    if magic is None:
        try:
            ok = "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            ok = False
    else:
        ok = data.startswith(magic)
    if not ok:
        raise ValidationFailed({"file": [f"The file's content is not a .{ext} file."]})
    attachment = DecisionAttachment(decision_id=decision.id, filename=name, content_type=content_type,
                                    size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
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
