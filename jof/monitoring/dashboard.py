"""A dashboard for a reader (DESIGN §8): the tables of every measure for the period, line
and agency asked for, scoped by role, and the charts drawn from those same tables.

Staff, the auditor and the Resident Coordinator see every agency (the agencies table
links each to its own view); an agency user sees their agency beside the facility totals
and never another agency's figures. The page, the API and the exports all come from
:func:`build`, so they always hold the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jof.core.calendar import WorkingCalendar, local_today, month_start, previous_month
from jof.core.db import db
from jof.core.errors import NotFound
from jof.core.people import Agency, Facility, User
from jof.core.templating import action_label
from jof.monitoring import finances, measures
from jof.monitoring.access import scope_agency, sees_every_agency
from jof.monitoring.charts import Chart, bar_svg, stacked_svg
from jof.monitoring.measures import BANDS, Filters
from jof.monitoring.targets import DAYS, HOURS, KINDS, targets_for


def _kind_label(code: str) -> str:
    """A clock's service kind in the reader's words, never its code."""
    kind = KINDS.get(code)
    return str(kind.label) if kind is not None else code

UNITS = {DAYS: _l("working days"), HOURS: _l("working hours")}
#: Where a saving was made (``measures.savings``), as people name it.
SAVINGS_SOURCES = {"joint_tender": _l("Joint tenders"), "lta": _l("Long-term agreements")}


def savings_source(code: str) -> str:
    return str(SAVINGS_SOURCES.get(code, code))


def cause_text(code: str, resolution: str) -> str:
    """The reason a share moved, in the reader's language."""
    words = {
        "": "", "first_share": _l("First share recorded"), "no_share": _l("No share recorded this month"),
        "key_changed": _l("Cost-sharing key changed by resolution %(resolution)s", resolution=resolution),
        "unchanged": _l("Unchanged"), "shared_costs_changed": _l("Shared costs changed (same key)"),
        "members_changed": _l("Member agencies changed (same key)"),
        "headcount_changed": _l("Headcount changed (same key)"),
        "usage_changed": _l("Usage changed (same key)"),
        "usage_or_headcount": _l("Usage or headcount changed (same key)"),
    }
    return str(words[code])


@dataclass
class Table:
    key: str
    title: object
    columns: list
    keys: list[str]
    rows: list[list] = field(default_factory=list)


@dataclass
class Dashboard:
    filters: Filters
    agency: Agency | None
    all_agencies: bool
    tables: dict[str, Table]
    charts: list[Chart]
    agencies: list[Agency]


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    today = today or local_today()
    start = month_start(today)
    for _ in range(11):
        start = previous_month(start)
    return start, today


def filters_for(user: User, query: dict) -> tuple[Filters, Agency | None]:
    """The filters a user may have: an agency user's are always their own agency."""
    start, end = query.get("start"), query.get("end")
    d_start, d_end = default_period()
    start, end = start or (d_start if not end else month_start(end)), end or d_end
    if end < start:
        start = month_start(end)
    requested = None
    if query.get("agency"):
        requested = db.session.scalars(select(Agency).where(Agency.code == query["agency"].strip().upper())).first()
        if requested is None:
            raise NotFound("No such agency.")
    agency_id = scope_agency(user, requested.id if requested else None)
    agency = requested if requested is not None and requested.id == agency_id else (
        db.session.get(Agency, agency_id) if agency_id is not None else None)
    return Filters(start, end, query.get("line"), agency_id), agency


def build(user: User, query: dict, cal: WorkingCalendar | None = None) -> Dashboard:
    # Held for the whole build: the session's identity map keeps an unchanged row only
    # while something refers to it, and every time-zone and calendar lookup below asks
    # for the facility again (without this, a dozen identical queries per page).
    facility_row = db.session.get(Facility, 1)  # noqa: F841
    f, agency = filters_for(user, query)
    everyone = sees_every_agency(user)
    cal = cal or WorkingCalendar.of_facility()
    facility = f.with_agency(None)
    tables: dict[str, Table] = {}

    # The clock and charge passes run beside the pass over the requests (PostgreSQL).
    ahead = measures.start_ahead(f)
    counts = measures.request_counts(f, cal)
    totals = measures.charge_totals(f, ahead)
    vol = measures.volumes_of(counts)
    t = Table("volumes", _l("Volumes"), [_l("Line"), _l("Submitted"), _l("Completed"), _l("Open now")],
              ["line", "submitted", "completed", "open"],
              [[v["line"], v["submitted"], v["completed"], v["open"]] for v in vol])
    if agency is not None:
        fac = {v["line"]: v for v in measures.volumes(facility)}
        t.columns += [_l("Submitted (facility)"), _l("Completed (facility)")]
        t.keys += ["facility_submitted", "facility_completed"]
        lines = sorted(set(fac) | {r[0] for r in t.rows})
        mine = {r[0]: r for r in t.rows}
        t.rows = [list(mine.get(ln, [ln, 0, 0, 0])) + [fac.get(ln, {}).get("submitted", 0),
                                                      fac.get(ln, {}).get("completed", 0)] for ln in lines]
    tables["volumes"] = t

    times = measures.processing_times(f, ahead)
    t = Table("times", _l("Processing time and service levels"),
              [_l("Service"), _l("Completed"), _l("Median (working hours)"), _l("90th percentile (working hours)"),
               _l("Target (working hours)"), _l("Within target (%)"), _l("Breaches")],
              ["kind", "count", "median_hours", "p90_hours", "target_hours", "within_share", "breached"],
              [[x["kind"], x["count"], x["median_hours"], x["p90_hours"], x["target_hours"], x["within_share"],
                x["breached"]] for x in times])
    if agency is not None:
        fac = {x["kind"]: x for x in measures.processing_times(facility)}
        t.columns.append(_l("Within target, facility (%)"))
        t.keys.append("facility_within_share")
        for row in t.rows:
            row.append(fac.get(row[0], {}).get("within_share"))
    for row in t.rows:  # the service as people name it, once the facility column is joined
        row[0] = _kind_label(row[0])
    tables["times"] = t

    tables["breaches"] = Table(
        "breaches", _l("Breaches and the step that was late"),
        [_l("Request"), _l("Service"), _l("Completed"), _l("Working hours"), _l("Target (working hours)"),
         _l("Late step")],
        ["reference", "kind", "ended_on", "hours", "target_hours", "late_step"],
        [[b["reference"], _kind_label(b["kind"]), b["ended_at"].date(), b["hours"], b["target_hours"],
          action_label(b["late_step"]) if b["late_step"] else ""]
         for b in measures.breaches(f)])

    tables["backlog"] = Table(
        "backlog", _l("Open requests by age (working days)"), [_l("Line")] + [label for label, *_ in BANDS],
        ["line"] + [label for label, *_ in BANDS],
        [[b["line"]] + [b[label] for label, *_ in BANDS] for b in measures.backlog_of(counts)])

    tables["cost"] = Table(
        "cost", _l("Cost per transaction"), [_l("Line"), _l("Fees (USD)"), _l("Completed"),
                                              _l("Per transaction (USD)")],
        ["line", "fees_usd", "completed", "per_transaction_usd"],
        [[c["line"], c["fees_usd"], c["completed"], c["per_transaction_usd"]] for c in measures.cost_per_transaction(f, vol, totals)])

    sav = measures.savings(f)
    tables["savings"] = Table(
        "savings", _l("Savings (joint tenders and LTAs)"),
        [_l("Source"), _l("Estimates (USD)"), _l("Awarded (USD)"), _l("Savings (USD)")],
        ["source", "estimate_usd", "awarded_usd", "savings_usd"],
        [[savings_source(s), v["estimate_usd"], v["awarded_usd"], v["savings_usd"]] for s, v in sorted(sav.items())
         if s != "total_usd"])

    money = finances.agencies(f, totals)
    # The share columns name their months: the latest one allocated in the period.
    share_month = money[0]["share_month"] if money else month_start(f.end)
    tables["agencies"] = Table(
        "agencies", _l("Agencies: fees, shared costs, invoices"),
        [_l("Agency"), _l("Fees (USD)"), _l("Pass-through (USD)"), _l("Shared costs billed (USD)"),
         _l("Share of %(month)s (USD)", month=f"{share_month:%Y-%m}"),
         _l("Share of %(month)s (USD)", month=f"{previous_month(share_month):%Y-%m}"), _l("Change (USD)"), _l("Why"),
         _l("Key set by resolution"), _l("Invoiced (USD)"), _l("Balance due (USD)"),
         _l("Its volume at the price list (USD)"), _l("Its share of fixed costs (USD)")],
        ["agency", "fees_usd", "pass_through_usd", "cost_share_usd", "share_usd", "share_previous_usd",
         "share_change_usd", "share_cause", "share_resolution", "invoiced_usd", "balance_usd",
         "price_list_cost_usd", "fixed_cost_share_usd"],
        [[a["agency"], a["fees_usd"], a["pass_through_usd"], a["cost_share_usd"], a["share_usd"],
          a["share_previous_usd"], a["share_change_usd"], cause_text(a["share_cause"], a["share_resolution"]),
          a["share_resolution"],
          a["invoiced_usd"], a["balance_usd"], a["price_list_cost_usd"], a["fixed_cost_share_usd"]] for a in money])

    tables["invoicing"] = Table(
        "invoicing", _l("Invoices issued after the period's end"),
        [_l("Month"), _l("Agency"), _l("Issued on"), _l("Working days"), _l("Target (working days)"),
         _l("Within target")],
        ["period", "agency", "issued_on", "working_days", "target_days", "within_target"],
        [[i["period"].strftime("%Y-%m"), i["agency"], i["issued_on"], i["working_days"], i["target_days"],
          str(_l("yes") if i["within_target"] else _l("no")) if i["within_target"] is not None else None]
         for i in finances.invoice_timeliness(f, cal)])

    targets, sla = targets_for(f.agency_id, f.end)
    tables["sla"] = Table(
        "sla", _l("Service-level targets in force"), [_l("Service"), _l("Target"), _l("Unit"), _l("Set by")],
        ["kind", "target", "unit", "source"],
        [[_kind_label(k), targets[k], str(UNITS[KINDS[k].unit]), (sla.reference or f"SLA {sla.id}") if sla
          else str(_l("Facility default"))] for k in sorted(targets)])

    agencies = list(db.session.scalars(select(Agency).order_by(Agency.code))) if everyone else []
    return Dashboard(f, agency, everyone, tables, charts(tables), agencies)


def charts(tables: dict[str, Table]) -> list[Chart]:
    """The dashboard's charts, each drawn from one of its tables and shown beside it."""
    out = []
    vol = tables["volumes"]
    out.append(Chart("volumes", str(_l("Requests per line")),
                     str(_l("Requests submitted and completed in the period, per service line.")),
                     bar_svg(str(_l("Requests per line")), [r[0] for r in vol.rows],
                             {str(_l("Submitted")): [r[1] for r in vol.rows],
                              str(_l("Completed")): [r[2] for r in vol.rows]}),
                     [str(c) for c in vol.columns], vol.rows))
    tim = tables["times"]
    out.append(Chart("times", str(_l("Share within target")),
                     str(_l("Share of requests completed within the service-level target, per service (%).")),
                     bar_svg(str(_l("Share within target")), [r[0] for r in tim.rows],
                             {str(_l("Within target (%)")): [r[5] for r in tim.rows]}, horizontal=True),
                     [str(c) for c in tim.columns], tim.rows))
    bl = tables["backlog"]
    out.append(Chart("backlog", str(_l("Open requests by age")),
                     str(_l("Open requests per line, by working days since submission.")),
                     stacked_svg(str(_l("Open requests by age")), [r[0] for r in bl.rows],
                                 {label: [r[i + 1] for r in bl.rows] for i, (label, *_) in enumerate(BANDS)}),
                     [str(c) for c in bl.columns], bl.rows))
    ag = tables["agencies"]
    out.append(Chart("agencies", str(_l("Price list against share of fixed costs")),
                     str(_l("For each agency: what its own volume costs at the price list, and what it pays "
                            "as its share of the facility's fixed costs.")),
                     bar_svg(str(_l("Price list against share of fixed costs")), [r[0] for r in ag.rows],
                             {str(_l("Volume at the price list")): [r[11] for r in ag.rows],
                              str(_l("Share of fixed costs")): [r[12] for r in ag.rows]}),
                     [str(ag.columns[0]), str(ag.columns[11]), str(ag.columns[12])],
                     [[r[0], r[11], r[12]] for r in ag.rows]))
    return out
