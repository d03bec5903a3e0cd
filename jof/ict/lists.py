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
from jof.ict.models import IctTicket

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

ROW_LOADS = (selectinload(IctTicket.request).selectinload(ServiceRequest.agency),)
