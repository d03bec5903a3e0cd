"""The columns of the facility's cross-line lists (the queue): what the page shows, what
it sorts by, what its export holds. See :mod:`jof.core.listing`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core.listing import Column, Listing
from jof.core.people import Agency
from jof.core.templating import status_label, type_label
from jof.core.workflow import ServiceRequest

_agency_code = select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()

QUEUE = Listing(
    "requests",
    (
        Column("reference", _l("Reference"), lambda sr: sr.reference, ServiceRequest.reference),
        Column("line", _l("Line"), lambda sr: type_label(sr.request_type), ServiceRequest.request_type),
        Column("agency", _l("Agency"), lambda sr: sr.agency.code, _agency_code),
        Column("title", _l("Title"), lambda sr: sr.title, ServiceRequest.title),
        Column("status", _l("Status"), lambda sr: status_label(sr.status), ServiceRequest.status),
        Column("created", _l("Created"), lambda sr: sr.created_at, ServiceRequest.created_at),
        Column("sla_due", _l("SLA due"), lambda sr: sr.sla_due_at, ServiceRequest.sla_due_at),
        Column("sla_breached", _l("SLA breached"), lambda sr: sr.sla_breached),
    ),
    default_sort="created",
    tiebreak=(ServiceRequest.id.desc(),),
)
