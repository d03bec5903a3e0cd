"""What every procurement module shares: who may act, numbering, the method words and items."""

from __future__ import annotations

from decimal import Decimal

from jof.core import authz
from jof.core.calendar import local_today
from jof.core.counters import next_value
from jof.core.errors import Forbidden
from jof.core.money import MAX_AMOUNT
from jof.core.people import Role, User

LINE = "procurement"
ZERO = Decimal("0.00")
METHOD_LABELS = {"micro_purchase": "micro-purchase", "rfq": "request for quotation",
                 "itb": "invitation to bid / request for proposals"}
#: Price-list item charged when an order bought by each method is received (DESIGN §7).
SERVICE_ITEMS = {"micro_purchase": "micro_purchase", "rfq": "rfq_process", "itb": "itb_process"}
CALL_OFF_ITEM = "lta_call_off"
#: The ceiling of core.money in words, for the refusals that name it.
CEILING_WORDS = f"USD {MAX_AMOUNT:,.0f}"
TOO_LARGE = "Quantity × unit price comes to USD {amount:,.2f}; amounts must stay below " + CEILING_WORDS + "."
GOODS_ITEM = "goods"


def require_officer(user: User) -> None:
    authz.ensure_can_change(user)
    if not (authz.is_officer_for(user, LINE) or user.has_role(Role.MANAGER)):
        raise Forbidden("Only a procurement officer (or the facility manager) may do this.")


def require_staff_reader(user: User) -> None:
    if not user.is_facility_staff:
        raise Forbidden("Tenders and bids are handled by the facility; agencies follow their requisitions.")


def next_number(prefix: str) -> str:
    year = local_today().year
    return f"{prefix}-{year}-{next_value(f'ref:{prefix}:{year}'):05d}"
