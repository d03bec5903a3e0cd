"""HR fees (docs/hr.md, "Fees"): one chargeable event per completed recruitment,
recorded through :mod:`jof.core.charges` like every line's deliveries, so billing
prices it with the price list in force on the day and puts it on the agency's next
invoice.

The price-list item is chosen by the recruitment's contract type
(``recruitment_fixed_term``, ``recruitment_temporary``, ``recruitment_service_contract``,
``recruitment_individual_contractor``); a hire from the roster, which skips advertising
and assessment, is the cheaper ``roster_hire`` whatever the contract.
"""

from __future__ import annotations

from jof.core import charges
from jof.core.calendar import local_today
from jof.core.people import User
from jof.core.workflow import ServiceRequest
from jof.hr import states
from jof.hr.models import Recruitment

ROSTER_ITEM = "roster_hire"


def fee_item(rec: Recruitment) -> str:
    """The price-list item a completed recruitment is charged as."""
    return ROSTER_ITEM if rec.from_roster else f"recruitment_{rec.contract_type}"


def record_fee(sr: ServiceRequest, user: User, _payload=None) -> None:
    """``complete`` (effect): the recruitment's one fee, delivered today (facility time)."""
    rec = states.recruitment_of(sr)
    charges.record(user, source_ref=f"{sr.reference}/recruitment", service_line=states.SERVICE_LINE,
                   agency=sr.agency, service_item=fee_item(rec), quantity=1, delivered_on=local_today(),
                   description=f"Recruitment {sr.reference}: {rec.post_title} ({rec.level})"
                               + (", from the roster" if rec.from_roster else ""))
