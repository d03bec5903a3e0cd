"""The monthly report and the board pack (DESIGN §8, issue 12): PDFs drawn with
WeasyPrint from the same measures and the same pygal charts as the dashboard (with
their style inline, as WeasyPrint needs).

- **Monthly report** (:func:`monthly`): one month, for the facility staff who read every
  agency (manager, officers, administrator, auditor, Resident Coordinator): SLA compliance
  per agency, volumes, processing times, breaches, invoice totals per agency, savings and
  cost per transaction.
- **Board pack** (:func:`board_pack`): for a governance meeting, one or more months: the
  open decisions and the decisions closed in the period with their outcome and tally,
  SLA compliance per agency, the facility's finances and savings. The pack is the board's
  paper, the same for every reader (the manager, the Resident Coordinator and the heads
  of agencies): it holds SLA compliance per agency, which the board watches for every
  member, and money **only as facility-wide totals**, so no agency's own fees, invoices
  or balance reach another agency's head.

The monitoring page renders them as jobs of core's queue (:mod:`jof.monitoring.jobs`,
kinds ``monthly_report`` and ``board_pack``): a report takes a second or more (one
chart per section), so the reader watches a progress bar instead of a held request, and
downloads the PDF from the job's page. The queue is core's, so monitoring registers its
kinds from its own ``install`` and billing never imports monitoring. ``jof report``
renders directly, and so do the older ``report.pdf`` and ``board-pack.pdf`` links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, has_request_context, render_template
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from jof.core import authz
from jof.core.calendar import FIRST_YEAR, local_today, month_start, previous_month
from jof.core.db import db
from jof.core.errors import Forbidden, ValidationFailed
from jof.core.pdf import render_pdf
from jof.core.people import Agency, Facility, Role, User
from jof.governance.models import Decision
from jof.governance.states import DecisionStatus
from jof.monitoring import finances, measures
from jof.monitoring.access import sees_every_agency
from jof.monitoring.charts import Chart, bar_svg
from jof.monitoring.measures import Filters
from jof.monitoring.models import RequestClock
from jof.monitoring.targets import KINDS

ZERO = Decimal("0.00")
#: Who may download the board pack besides the heads of agencies (and their alternates).
PACK_ROLES = (Role.MANAGER, Role.RESIDENT_COORDINATOR)


def parse_month(text: str) -> date:
    """``YYYY-MM`` → the first day of that month, from 2000-01 to December of next year;
    a 422 naming ``month`` otherwise. Pages, jobs, the API and ``jof report`` all read
    the month here: a year like 9999 or 0001 would overflow the month after or before it
    (and no report of the facility can fall outside those years)."""
    last = date(local_today().year + 1, 12, 1)
    try:
        year, month = (int(p) for p in (text or "").strip().split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        first = None
    if first is None or not date(FIRST_YEAR, 1, 1) <= first <= last:
        raise ValidationFailed({"month": [_("Give a month as YYYY-MM, from %(first)s to %(last)s.",
                                            first=f"{FIRST_YEAR}-01", last=f"{last:%Y-%m}")]})
    return first


def period(first: date, months: int = 1) -> Filters:
    """``months`` whole months ending with the month of ``first``."""
    start = month_start(first)
    for _i in range(months - 1):
        start = previous_month(start)
    nxt = (month_start(first) + timedelta(days=32)).replace(day=1)
    return Filters(start, nxt - timedelta(days=1))


# --- who --------------------------------------------------------------------------------


def can_read_report(user: User) -> bool:
    return sees_every_agency(user)


def can_read_pack(user: User) -> bool:
    return user.has_role(*PACK_ROLES) or authz.is_head_of(user, user.agency)


def require_report(user: User) -> None:
    if not can_read_report(user):
        raise Forbidden(_("The monthly report is for the facility's staff, the auditor and the Resident "
                          "Coordinator."))


def require_pack(user: User) -> None:
    if not can_read_pack(user):
        raise Forbidden(_("The board pack is for the facility manager, the Resident Coordinator and the "
                          "heads of agencies."))


# --- figures ----------------------------------------------------------------------------


def compliance_by_agency(f: Filters) -> list[dict]:
    """Per agency: clocks stopped in the period, how many within target, the share (%);
    one grouped statement. Agencies with no clock show with no share."""
    stmt = measures._clock_scope(select(
        RequestClock.agency_id,
        func.sum(case((RequestClock.within_target.is_(True), 1), else_=0)),
        func.sum(case((RequestClock.within_target.is_(False), 1), else_=0)),
    ), f.with_agency(None)).group_by(RequestClock.agency_id)
    counts = {a: (int(w or 0), int(b or 0)) for a, w, b in db.session.execute(stmt)}
    out = []
    for agency in db.session.scalars(select(Agency).order_by(Agency.code)):
        within, late = counts.get(agency.id, (0, 0))
        judged = within + late
        out.append({"agency": agency.code, "name": agency.name, "judged": judged, "within": within,
                    "breached": late,
                    "share": (Decimal(within * 100) / judged).quantize(Decimal("0.1")) if judged else None})
    return out


def _facility_share(rows: list[dict]) -> Decimal | None:
    within, judged = sum(r["within"] for r in rows), sum(r["judged"] for r in rows)
    return (Decimal(within * 100) / judged).quantize(Decimal("0.1")) if judged else None


def _compliance_chart(rows: list[dict]) -> Chart:
    title = _("SLA compliance per agency")
    shown = [r for r in rows if r["judged"]]
    return Chart("compliance", title, _("Share of requests completed within their service-level target (%)."),
                 bar_svg(title, [r["agency"] for r in shown], {_("Within target (%)"): [r["share"] for r in shown]},
                         inline_style=True),
                 [_("Agency"), _("Within target (%)")], [[r["agency"], r["share"]] for r in shown])


def _volumes_chart(volumes: list[dict]) -> Chart:
    title = _("Requests per line")
    return Chart("volumes", title, _("Requests submitted and completed in the period, per service line."),
                 bar_svg(title, [v["line"] for v in volumes],
                         {_("Submitted"): [v["submitted"] for v in volumes],
                          _("Completed"): [v["completed"] for v in volumes]}, inline_style=True),
                 [_("Line"), _("Submitted"), _("Completed")],
                 [[v["line"], v["submitted"], v["completed"]] for v in volumes])


@dataclass
class MonthlyReport:
    filters: Filters
    compliance: list[dict]
    facility_share: Decimal | None
    volumes: list[dict]
    times: list[dict]
    breaches: list[dict]
    agencies: list[dict]
    invoiced_total: Decimal
    savings: dict
    cost: list[dict]
    charts: list[Chart] = field(default_factory=list)


def monthly(user: User, month: date) -> MonthlyReport:
    """The figures of one month, facility-wide and per agency."""
    require_report(user)
    f = period(month)
    compliance = compliance_by_agency(f)
    volumes = measures.volumes(f)
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    breaches = [dict(b, agency=codes.get(b["agency_id"], "")) for b in measures.breaches(f)]
    money = finances.agencies(f)
    return MonthlyReport(
        f, compliance, _facility_share(compliance), volumes, measures.processing_times(f), breaches, money,
        sum((a["invoiced_usd"] for a in money), ZERO), measures.savings(f), measures.cost_per_transaction(f),
        [_compliance_chart(compliance), _volumes_chart(volumes)])


@dataclass
class BoardPack:
    filters: Filters
    open_decisions: list[Decision]
    closed_decisions: list[Decision]
    compliance: list[dict]
    facility_share: Decimal | None
    finances: dict
    savings: dict
    cost: list[dict]
    charts: list[Chart] = field(default_factory=list)


def board_pack(user: User, month: date, months: int = 1) -> BoardPack:
    """The board's paper for the ``months`` ending with ``month``: the same for every
    reader; money as facility-wide totals only (see the module's note)."""
    require_pack(user)
    f = period(month, months)
    open_ = list(db.session.scalars(select(Decision).where(Decision.status == DecisionStatus.OPEN)
                                    .order_by(Decision.closes_at, Decision.id)))
    closed = list(db.session.scalars(
        select(Decision).where(Decision.status == DecisionStatus.CLOSED, Decision.closed_at >= measures._at(f.start_utc),
                               Decision.closed_at < measures._at(f.end_utc))
        .order_by(Decision.closed_at, Decision.id)))
    compliance = compliance_by_agency(f)
    money = finances.agencies(f)
    totals = {key: sum((a[key] for a in money), ZERO)
              for key in ("fees_usd", "pass_through_usd", "cost_share_usd", "invoiced_usd", "balance_usd")}
    return BoardPack(f, open_, closed, compliance, _facility_share(compliance), totals, measures.savings(f),
                     measures.cost_per_transaction(f), [_compliance_chart(compliance)])


# --- PDFs -------------------------------------------------------------------------------


def _render(template: str, **context) -> str:
    """Render in the current request, or in a bare one for the command line."""
    context["facility"] = db.session.get(Facility, 1)
    context["kind_label"] = lambda code: str(KINDS[code].label) if code in KINDS else code
    if has_request_context():
        return render_template(template, **context)
    with current_app.test_request_context():
        return render_template(template, **context)


Progress = Callable[[int, int], None]

#: The steps a rendering reports to a job: the figures, the HTML, the PDF.
STEPS = 3


def _steps(progress: Progress | None) -> Progress:
    return progress or (lambda _done, _total: None)


def monthly_pdf(user: User, month: date, progress: Progress | None = None) -> bytes:
    step = _steps(progress)
    figures = monthly(user, month)
    step(1, STEPS)
    html = _render("monitoring/report_pdf.html", report=figures)
    step(2, STEPS)
    data = render_pdf(html)
    step(3, STEPS)
    return data


def board_pack_pdf(user: User, month: date, months: int = 1, progress: Progress | None = None) -> bytes:
    from jof.governance.views import BOARD_LABELS

    step = _steps(progress)
    pack = board_pack(user, month, months)
    step(1, STEPS)
    html = _render("monitoring/board_pack_pdf.html", pack=pack, labels=BOARD_LABELS)
    step(2, STEPS)
    data = render_pdf(html)
    step(3, STEPS)
    return data
