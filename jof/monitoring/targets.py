"""Service kinds, their units and the facility default targets (DESIGN §8), and the
agreement in force for an agency on a day.

Targets count working time on the facility calendar: a working day is the facility's
working window (``work_start_minute`` to ``work_end_minute``), so "5 working days" is five
such windows, skipping week-ends and holidays, in the facility's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from jof.core.calendar import WorkingCalendar
from jof.core.db import db
from jof.ict.sla import SLA_TARGETS
from jof.monitoring.models import ServiceLevelAgreement

DAYS = "working_days"
HOURS = "working_hours"


@dataclass(frozen=True)
class Kind:
    code: str
    line: str
    unit: str
    default: int
    label: object  #: lazy: worded in the reader's language


def _ict_defaults() -> list[Kind]:
    """The ICT desk's priority matrix (DESIGN §5) is the default: time to resolve."""
    return [Kind(f"ict.{p}", "ict", HOURS, int(resolve.total_seconds() // 3600),
                 _l("ICT ticket %(priority)s: opened to resolved", priority=p))
            for p, (_own, resolve) in SLA_TARGETS.items()]


#: Every kind an agreement may set, with the facility default (DESIGN §8).
KINDS: dict[str, Kind] = {k.code: k for k in [
    Kind("procurement.micro_purchase", "procurement", DAYS, 5, _l("Micro-purchase: submission to purchase order")),
    Kind("procurement.rfq", "procurement", DAYS, 15, _l("Request for quotation: submission to purchase order")),
    Kind("procurement.itb", "procurement", DAYS, 45, _l("Invitation to bid or request for proposal: submission to purchase order")),
    Kind("procurement.lta", "procurement", DAYS, 3, _l("LTA call-off: submission to purchase order")),
    Kind("travel.ticket", "travel", HOURS, 16, _l("Travel: approval to ticket")),
    Kind("travel.claim", "travel", DAYS, 10, _l("Travel: return to claim settled")),
    *_ict_defaults(),
    Kind("billing.invoices", "billing", DAYS, 5, _l("Billing: period end to invoices issued")),
    # Time to recruit, by contract type (docs/hr.md): the request's approval to the
    # agency's selection of a candidate.
    Kind("hr.fixed_term", "hr", DAYS, 60, _l("Recruitment, fixed-term appointment: approval to selection")),
    Kind("hr.temporary", "hr", DAYS, 30, _l("Recruitment, temporary appointment: approval to selection")),
    Kind("hr.service_contract", "hr", DAYS, 30, _l("Recruitment, service contract: approval to selection")),
    Kind("hr.individual_contractor", "hr", DAYS, 20,
         _l("Recruitment, individual contractor: approval to selection")),
]}


def to_duration(kind: str, amount: int, cal: WorkingCalendar) -> timedelta:
    """A target as working time: days are the facility's working window each."""
    k = KINDS[kind]
    if k.unit == HOURS:
        return timedelta(hours=amount)
    start = cal.start.hour * 60 + cal.start.minute
    end = cal.end.hour * 60 + cal.end.minute
    return timedelta(minutes=amount * (end - start))


def in_force_query(agency_id: int | None, day: date):
    return (select(ServiceLevelAgreement)
            .where(ServiceLevelAgreement.agency_id.is_(None) if agency_id is None
                   else ServiceLevelAgreement.agency_id == agency_id)
            .where(ServiceLevelAgreement.valid_from <= day)
            .where(or_(ServiceLevelAgreement.valid_to.is_(None), ServiceLevelAgreement.valid_to >= day))
            .options(selectinload(ServiceLevelAgreement.targets))
            .order_by(ServiceLevelAgreement.valid_from.desc()).limit(1))


def targets_for(agency_id: int | None, day: date, session=None) -> tuple[dict[str, int], ServiceLevelAgreement | None]:
    """The targets that apply to an agency on a day, kind by kind: its own agreement's,
    else the recorded facility default's, else DESIGN §8's defaults; and the agreement
    that set them (None when only the built-in defaults apply)."""
    session = session or db.session
    result = {code: k.default for code, k in KINDS.items()}
    facility = session.scalars(in_force_query(None, day)).first()
    own = session.scalars(in_force_query(agency_id, day)).first() if agency_id is not None else None
    for sla in (facility, own):
        if sla is not None:
            result.update({t.kind: t.amount for t in sla.targets})
    return result, own or facility
