"""Accounts a new person needs, filed by one line through another without either
importing the other.

HR's onboarding files the new staff member's e-mail account with ICT: the ICT line's
``install(app)`` registers its filer here and HR calls :func:`file_account`. The filer
files an ICT request in the agency's name and answers its reference; HR keeps that
reference on the onboarding step and ICT keeps HR's reference on its order, so each
side links to the other (docs/hr.md, "Onboarding").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jof.core.errors import Conflict


@dataclass(frozen=True)
class AccountOrder:
    """What the filer needs: the agency's requester the order is filed for, the new
    person's name, the first day of service and the reference it is filed for."""

    agency: object
    requester: object
    person: str
    starts_on: date
    filed_for: str


#: The one filer (ICT's), registered by its line's install(app); installing again replaces it.
_filer: list = []


def register_filer(fn) -> None:
    """``fn(actor, order: AccountOrder) -> str`` answers the reference of the request it filed."""
    _filer[:] = [fn]


def file_account(actor, order: AccountOrder) -> str:
    if not _filer:
        raise Conflict("No service line files ICT accounts in this installation.")
    return _filer[0](actor, order)
