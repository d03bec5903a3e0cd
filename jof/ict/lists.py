"""The columns of the ICT ticket list: what the page shows, sorts by and exports (see
:mod:`jof.core.listing`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jof.core.listing import Column, Listing
from jof.core.people import Agency
from jof.core.templating import status_label
from jof.core.workflow import ServiceRequest
from jof.ict.models import IctService, IctSubscription, IctTicket

_agency_code = select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()

TICKETS = Listing(
    "ict-tickets",
    (
        Column("reference", _l("Reference"), lambda t: t.request.reference, ServiceRequest.reference),
        Column("agency", _l("Agency"), lambda t: t.request.agency.code, _agency_code),
        Column("title", _l("Title"), lambda t: t.request.title, ServiceRequest.title),
        Column("priority", _l("Priority"), lambda t: t.priority, IctTicket.priority),
        Column("status", _l("Status"), lambda t: status_label(t.request.status), ServiceRequest.status),
        Column("opened", _l("Opened"), lambda t: t.opened_at, IctTicket.opened_at),
        Column("resolve_by", _l("Resolve by"), lambda t: t.resolve_due_at, IctTicket.resolve_due_at),
        Column("sla_breached", _l("SLA breached"), lambda t: bool(t.clock.resolve_breached)),
    ),
    default_sort="opened",
    tiebreak=(IctTicket.id.desc(),),
)

#: Nothing more: the line's query joins the spine and loads its agency itself.
ROW_LOADS: tuple = ()


def _monthly(sub: IctSubscription):
    """Seats now × the service's monthly price; None for a one-off service."""
    return sub.current_seats * sub.service.unit_price_usd if sub.service.recurring else None


SUBSCRIPTIONS = Listing(
    "ict-subscriptions",
    (
        Column("reference", _l("Reference"), lambda s: s.request.reference, ServiceRequest.reference),
        Column("agency", _l("Agency"), lambda s: s.request.agency.code, _agency_code),
        Column("service", _l("Service"), lambda s: s.service.name,
               select(IctService.name).where(IctService.id == IctSubscription.service_id).scalar_subquery()),
        Column("seats_now", _l("Seats now"), lambda s: s.current_seats),
        Column("starts_on", _l("From"), lambda s: s.starts_on, IctSubscription.starts_on),
        Column("ends_on", _l("Until"), lambda s: s.ends_on, IctSubscription.ends_on),
        Column("status", _l("Status"), lambda s: status_label(s.request.status), ServiceRequest.status),
        Column("monthly_value_usd", _l("Monthly value"), _monthly),
    ),
    default_sort="starts_on",
    tiebreak=(IctSubscription.id.desc(),),
)

SUBSCRIPTION_LOADS = (selectinload(IctSubscription.request).selectinload(ServiceRequest.agency),
                      selectinload(IctSubscription.service), selectinload(IctSubscription.periods))
