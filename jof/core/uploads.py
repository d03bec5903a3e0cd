"""Checked documents: what every upload of JOF goes through before it is kept (a board
decision's attachments, a recruitment's terms of reference). A document is refused when
it is too large (413), empty, of a type not allowed, or when its first bytes are not
those of its extension (422); a kept one has a safe name and its SHA-256."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _

from jof.core.errors import DomainError, ValidationFailed

#: 5 MB: larger files are refused (413) with a message saying so.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
_ZIP = (b"PK\x03\x04",)
#: extension → (content type served, magic prefixes; None = UTF-8 text without NUL)
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
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


@dataclass(frozen=True)
class CheckedDocument:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


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


def check_document(filename: str, data: bytes, *, allowed: tuple[str, ...], wrong_type: str,
                   max_bytes: int = MAX_DOCUMENT_BYTES, field: str = "file") -> CheckedDocument:
    """The document as it will be kept, or the refusal saying what is wrong with it:
    ``allowed`` names the extensions taken, ``wrong_type`` is the message for any other,
    ``field`` the form field the messages are given under."""
    if len(data) > max_bytes:
        mb = max_bytes // (1024 * 1024)
        raise TooLarge(_("The file is %(size)s MB; attachments may be at most %(mb)s MB.",
                         size=f"{len(data) / 1024 / 1024:.1f}", mb=mb),
                       {field: [_("At most %(mb)s MB.", mb=mb)]})
    name = safe_filename(filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in allowed or ext not in DOCUMENT_TYPES:
        raise ValidationFailed({field: [wrong_type]})
    if not data:
        raise ValidationFailed({field: [_("The file is empty.")]})
    content_type, magic = DOCUMENT_TYPES[ext]
    if magic is None:
        try:
            ok = "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            ok = False
    else:
        ok = data.startswith(magic)
    if not ok:
        raise ValidationFailed({field: [_("The file's content is not a .%(ext)s file.", ext=ext)]})
    return CheckedDocument(name, content_type, len(data), hashlib.sha256(data).hexdigest(), data)
