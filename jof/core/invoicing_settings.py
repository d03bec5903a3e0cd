"""The facility's bank details and payment reference: what every invoice tells an agency
about where and how to pay (DESIGN §7, issue 13 "Invoice details").

The manager or the administrator keeps them; every change is audited. An account is
either an IBAN (checked with its ISO 13616 mod-97 check digits, so a mistyped digit is
caught before it is printed on a hundred invoices) or a plain account number; a SWIFT/BIC
has the ISO 9362 shape. The payment reference is a pattern in which ``{invoice}`` (the
invoice number, required: it is how a payment is matched) and ``{agency}`` are filled in.
"""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.people import Facility, Role, User

FIELDS = ("bank_name", "bank_account_holder", "bank_account", "bank_swift", "payment_reference")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_ACCOUNT = re.compile(r"[0-9A-Z][0-9A-Z -]{3,32}[0-9A-Z]")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = {"invoice", "agency"}


def _text(length: int, **kw):
    return fields.String(load_default="", validate=validate.Length(max=length, error=f"Use at most {length} characters."),
                         **kw)


class BankDetailsInput(ma.Schema):
    bank_name = _text(200, metadata={"description": "The bank's name (and branch)."})
    bank_account_holder = _text(200, metadata={"description": "The account holder, as the bank knows it."})
    bank_account = _text(42, metadata={"description": "IBAN (check digits verified) or account number."})
    bank_swift = _text(11, metadata={"description": "SWIFT/BIC: 8 or 11 letters and digits."})
    payment_reference = fields.String(
        load_default="{invoice}", validate=validate.Length(min=1, max=100, error="Use 1 to 100 characters."),
        metadata={"description": "What payers quote; {invoice} (required) and {agency} are filled in."})

    @ma.pre_load
    def _strip(self, data, **kwargs):
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def iban_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 = 1."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _check(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    account = data["bank_account"].upper()
    compact = account.replace(" ", "")
    if compact and _IBAN.fullmatch(compact):
        if not iban_valid(compact):
            errors["bank_account"] = ["This IBAN's check digits do not match: check it for a mistyped character."]
        account = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    elif account and not _ACCOUNT.fullmatch(account):
        errors["bank_account"] = ["Enter an IBAN or an account number (letters, digits, spaces and hyphens)."]
    swift = data["bank_swift"].upper()
    if swift and not _BIC.fullmatch(swift):
        errors["bank_swift"] = ["A SWIFT/BIC has 8 or 11 letters and digits, e.g. BRASBRRJBHE."]
    reference = data["payment_reference"]
    names = set(_PLACEHOLDER.findall(reference))
    if "invoice" not in names:
        errors["payment_reference"] = ["Include {invoice}: payments are matched by the invoice number."]
    elif names - PLACEHOLDERS or reference.count("{") != reference.count("}"):
        errors["payment_reference"] = ["Only {invoice} and {agency} can be filled in."]
    if errors:
        raise ValidationFailed(errors)
    return {**data, "bank_account": account, "bank_swift": swift}


def facility() -> Facility:
    found = db.session.get(Facility, 1)
    if found is None:
        raise NotFound("The facility is not set up yet.")
    return found


def require_keeper(actor: User) -> None:
    """Who may open the page: those who keep the details, and those who read what the
    auditor reads (the Resident Coordinator); only keepers change them."""
    authz.require_roles(actor, Role.MANAGER, Role.ADMIN, Role.AUDITOR, Role.RESIDENT_COORDINATOR,
                        why="Only the manager and the administrator keep the facility's bank details.")


def may_change(actor: User) -> bool:
    return not authz.is_read_only(actor) and actor.has_role(Role.MANAGER, Role.ADMIN)


def update_bank_details(actor: User, data: dict) -> Facility:
    """Validate and store the bank details; ``data`` as loaded by ``BankDetailsInput``."""
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, Role.ADMIN,
                        why="Only the manager and the administrator keep the facility's bank details.")
    clean = _check(data)
    row = facility()
    before = {k: getattr(row, k) for k in FIELDS}
    for key in FIELDS:
        setattr(row, key, clean[key])
    db.session.flush()
    audit.record(actor, "facility.bank_details", row, before=before, after={k: getattr(row, k) for k in FIELDS})
    return row
