"""Timed SLA alerts for the lines other than ICT (DESIGN §8, issue 12): a request whose
clock has used 80 % of its target ("SLA at risk") or all of it ("breached"), to the
facility manager and the officers of the request's line.

Built on :func:`jof.monitoring.sla.clocks`, the running clocks of every open request, and,
for billing, on invoices not yet issued for a month ended (``billing.invoices``: working
days from the month's end, as the dashboard counts them), to the manager and the
billing officers.
ICT tickets are left to the service desk's own source (``jof.ict.sla_alerts``, the desk's
priority matrix and pauses), so a ticket is never alerted twice. Registered by
monitoring's ``install(app)``; ``jof monitoring run`` raises each alert once per request,
service kind, person and clock start (:class:`jof.core.alerts.SentAlert`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from jof.billing.models import Charge, Invoice
from jof.core import alerts
from jof.core.calendar import WorkingCalendar, local_date, month_start, next_month, previous_month
from jof.core.db import db
from jof.core.people import Agency, Role, User, UserRole
from jof.core.workflow import get_type
from jof.monitoring import sla
from jof.monitoring.finances import BILLED, working_days_between
from jof.monitoring.targets import targets_for

#: Share of the target used at which a request is at risk.
AT_RISK = 0.8
#: Lines whose own module raises these alerts.
OWN_ALERTS = {"ict"}
#: How many ended months the billing clock looks back at for invoices not yet issued.
BILLING_MONTHS = 3


def _officers(line: str) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.active, User.id.in_(select(UserRole.user_id).where(
            UserRole.role == Role.OFFICER, UserRole.service_line == line))).order_by(User.id)))


def _due(now: datetime, breached: bool) -> Iterator[alerts.Alert]:
    running = [c for c in sla.clocks(db.session, now)
               if get_type(c.request.request_type).service_line not in OWN_ALERTS
               and (c.breached if breached else AT_RISK <= c.fraction and not c.breached)]
    if not running:
        return
    managers = alerts.users_with_roles(Role.MANAGER)
    officers: dict[str, list[User]] = {}
    for clock in running:
        sr = clock.request
        line = get_type(sr.request_type).service_line
        if line not in officers:
            officers[line] = _officers(line)
        params = {"reference": sr.reference, "title": sr.title, "kind": clock.kind,
                  "used": f"{clock.fraction * 100:.0f}"}
        if breached:
            kind, message = alerts.SLA_BREACHED, ("SLA breached: %(reference)s “%(title)s” (%(kind)s) has used "
                                                  "%(used)s%% of its target.")
        else:
            kind, message = alerts.SLA_AT_RISK, ("SLA at risk: %(reference)s “%(title)s” (%(kind)s) has used "
                                                 "%(used)s%% of its target.")
        yield alerts.Alert(kind, [*managers, *officers[line]], message, params,
                           link=f"/requests/{sr.reference}", object_key=f"request:{sr.reference}",
                           occasion=f"{clock.kind}@{clock.started_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")


def invoices_running(now: datetime) -> list[tuple[str, date, int, int]]:
    """Billing's clock (``billing.invoices``): for each of the last ended months, each
    agency with charges in it and no issued invoice for it yet: (agency code, period,
    working days since the period's end, target in working days)."""
    today = local_date(now)
    last = previous_month(month_start(today))
    first = last
    for _i in range(BILLING_MONTHS - 1):
        first = previous_month(first)
    charged = set(db.session.execute(select(Charge.agency_id, Charge.period).where(
        Charge.period >= first, Charge.period <= last).distinct()).all())
    issued = set(db.session.execute(select(Invoice.agency_id, Invoice.period).where(
        Invoice.status.in_(BILLED), Invoice.period >= first, Invoice.period <= last).distinct()).all())
    waiting = sorted(charged - issued, key=lambda x: (x[1], x[0]))
    if not waiting:
        return []
    cal = WorkingCalendar.of_facility()
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    out = []
    for agency_id, period in waiting:
        period_end = next_month(period) - timedelta(days=1)
        target = targets_for(agency_id, period_end)[0].get("billing.invoices")
        if target:
            out.append((codes[agency_id], period, working_days_between(cal, period_end, today), target))
    return out


def _invoices_due(now: datetime, breached: bool) -> Iterator[alerts.Alert]:
    rows = [r for r in invoices_running(now)
            if (r[2] > r[3] if breached else AT_RISK * r[3] <= r[2] <= r[3])]
    if not rows:
        return
    people = [*alerts.users_with_roles(Role.MANAGER), *_officers("billing")]
    for code, period, used, target in rows:
        params = {"agency": code, "period": period.strftime("%Y-%m"), "used": used, "target": target}
        if breached:
            kind, message = alerts.SLA_BREACHED, ("SLA breached: the invoice of %(agency)s for %(period)s is not "
                                                  "issued after %(used)s working days (target %(target)s).")
        else:
            kind, message = alerts.SLA_AT_RISK, ("SLA at risk: the invoice of %(agency)s for %(period)s is not "
                                                 "issued after %(used)s working days (target %(target)s).")
        yield alerts.Alert(kind, people, message, params, link="/billing/",
                           object_key=f"invoice:{code}:{period:%Y-%m}", occasion="billing.invoices")


def at_risk(now: datetime) -> Iterator[alerts.Alert]:
    """Running clocks with 80 % or more of their target used, not yet past it; invoices
    not issued with 80 % of billing's target gone."""
    yield from _due(now, breached=False)
    yield from _invoices_due(now, breached=False)


def breached(now: datetime) -> Iterator[alerts.Alert]:
    """Running clocks past their target; invoices not issued past billing's target."""
    yield from _due(now, breached=True)
    yield from _invoices_due(now, breached=True)


def register() -> None:
    alerts.register_timed(alerts.SLA_AT_RISK, at_risk, name="monitoring.sla_at_risk")
    alerts.register_timed(alerts.SLA_BREACHED, breached, name="monitoring.sla_breached")
