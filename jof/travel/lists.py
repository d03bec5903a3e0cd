"""The columns of the travel request list and the DSA rate table: what each page shows,
sorts by and exports (see :mod:`jof.core.listing`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core.listing import Column, Listing
from jof.core.people import Agency
from jof.core.templating import status_label
from jof.core.workflow import ServiceRequest
from jof.travel.models import DsaRate, TravelRequest

_agency_code = select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()

TRAVEL = Listing(
    "travel-requests",
    (
        Column("reference", _l("Reference"), lambda tr: tr.request.reference, ServiceRequest.reference),
        Column("agency", _l("Agency"), lambda tr: tr.request.agency.code, _agency_code),
        Column("traveller", _l("Traveller"), lambda tr: tr.traveller_name, TravelRequest.traveller_name),
        Column("title", _l("Title"), lambda tr: tr.request.title, ServiceRequest.title),
        Column("departure", _l("Departure"), lambda tr: tr.starts_at, TravelRequest.starts_at),
        Column("status", _l("Status"), lambda tr: status_label(tr.request.status), ServiceRequest.status),
        Column("dsa_estimate_usd", _l("DSA estimate"), lambda tr: tr.estimate_total, TravelRequest.estimate_total),
        Column("created", _l("Created"), lambda tr: tr.request.created_at, ServiceRequest.created_at),
    ),
    default_sort="created",
    tiebreak=(ServiceRequest.id.desc(),),
)

#: What every row of the list (and its export) reads, loaded in a fixed number of statements.
#: Nothing more: the line's query joins the spine and loads its agency itself.
ROW_LOADS: tuple = ()

DSA_RATES = Listing(
    "dsa-rates",
    (
        Column("city", _l("Location"), lambda r: r.city, DsaRate.city_key),
        Column("country", _l("Country"), lambda r: r.country, DsaRate.country),
        Column("month", _l("From month"), lambda r: r.month.strftime("%Y-%m"), DsaRate.month),
        Column("usd_per_night", _l("USD per night"), lambda r: r.usd_per_night, DsaRate.usd_per_night),
        Column("room_pct", _l("Room percentage"), lambda r: r.room_pct, DsaRate.room_pct),
    ),
    default_sort="country",
    default_dir="asc",
    #: A country's locations together, each location's latest month first (the table's order).
    tiebreak=(DsaRate.city_key, DsaRate.month.desc(), DsaRate.id),
)
