"""Anchors: the audit chain's head, signed with a key outside the database (issue 11).

The hash chain (:mod:`jof.core.audit`) shows an edited or removed event, but whoever
can write the database can also *rewrite* it: edit an event and recompute every hash
after it, cut off the tail and lower the counter, or empty the table. Each leaves a
chain that verifies. An anchor — ``(seq, hash of event seq, time, HMAC signature)`` written by
``jof audit anchor`` and kept away from the database (the auditor's mailbox, another
machine, paper) — pins the chain as it was: ``jof audit verify --anchor FILE`` then
proves that every event up to ``seq`` is still there, unchanged.

The signature (HMAC-SHA256 with ``AUDIT_KEY``, which is not in the database) means an
anchor file cannot be forged or edited to match a rewritten chain without the key.
What an anchor does *not* protect: events after the newest anchor (anchor often, e.g.
daily from a timer), and an attacker who holds both the database and the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from jof.core import audit
from jof.core.keyfile import instance_key
from jof.core.timeutil import utcnow

#: Bumped if what is signed ever changes, so old anchors are read the way they were made.
#: Format 2 signs the anchor's time too; format 1 (seq and hash only) is still verified,
#: but its time is reported as unsigned (docs/security.md).
FORMAT = "jof-audit-anchor/2"
FORMAT_1 = "jof-audit-anchor/1"


class AnchorError(ValueError):
    """An anchor file that cannot be read or whose signature is wrong."""


def audit_key(app) -> str:
    """The key that signs audit anchors: ``AUDIT_KEY`` from the environment or the
    settings file, else ``instance/audit_key`` (0600), created on first use. It must not
    live in the database: whoever can rewrite the trail must not also be able to sign."""
    return app.config.get("AUDIT_KEY") or instance_key(Path(app.instance_path), "audit_key")


def _signature(seq: int, head: str, at: str | None = None, fmt: str = FORMAT) -> str:
    """The HMAC of what the anchor vouches for: seq, head hash and (format 2) its time."""
    key = audit_key(current_app).encode()
    text = f"{fmt}\n{seq}\n{head}" if fmt == FORMAT_1 else f"{fmt}\n{seq}\n{head}\n{at}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def take() -> dict:
    """An anchor of the chain as it stands (after sealing the deferred events); raises
    :class:`AnchorError` when the chain does not verify, since an anchor of a tampered
    chain would vouch for the tampering. The caller commits."""
    audit.seal_deferred()
    result = audit.verify()
    if not result.ok:
        raise AnchorError(f"the audit trail is TAMPERED at {result.first_bad}: {result.reason}; "
                          "no anchor was written")
    at = utcnow().isoformat()
    return {"format": FORMAT, "seq": result.checked, "hash": result.head_hash,
            "at": at, "signature": _signature(result.checked, result.head_hash, at)}


def read(text: str) -> dict:
    try:
        anchor = json.loads(text)
        seq, head, signature = int(anchor["seq"]), str(anchor["hash"]), str(anchor["signature"])
        fmt = anchor.get("format")
        at = str(anchor["at"]) if fmt == FORMAT else None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AnchorError("the anchor file is not an anchor written by `jof audit anchor`") from None
    if fmt not in (FORMAT, FORMAT_1):
        raise AnchorError(f"unknown anchor format {fmt!r}")
    if not hmac.compare_digest(signature, _signature(seq, head, at, fmt)):
        raise AnchorError("the anchor's signature is wrong: it was edited, or signed with another AUDIT_KEY")
    return {**anchor, "seq": seq, "hash": head}


@dataclass
class AnchorCheck:
    ok: bool
    detail: str


def check(anchor: dict) -> AnchorCheck:
    """Does the chain still hold every event up to the anchor, unchanged?"""
    seq = anchor["seq"]
    result = audit.verify(remember=seq)
    if not result.ok:
        return AnchorCheck(False, f"TAMPERED at {result.first_bad}: {result.reason} "
                                  f"({result.checked} events before it are intact)")
    if result.checked < seq:
        return AnchorCheck(False, f"TAMPERED: the anchor covers {seq} events but the chain holds only "
                                  f"{result.checked}: events were removed (truncated or emptied)")
    if seq and result.remembered_hash != anchor["hash"]:
        return AnchorCheck(False, f"TAMPERED at or before seq {seq}: the chain was rewritten (event "
                                  f"{seq} no longer has the anchored hash)")
    when = anchor.get("at", "?")
    if anchor.get("format") == FORMAT_1:
        when += " (a format-1 anchor: its time is not signed)"
    return AnchorCheck(True, f"audit trail intact: {result.checked} events checked, the first {seq} "
                             f"match the anchor of {when}")
