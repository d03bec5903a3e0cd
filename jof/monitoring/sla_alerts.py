"""Timed SLA alerts for the lines other than ICT (DESIGN §8, issue 12): a request whose
clock has used 80 % of its target ("SLA at risk") or all of it ("breached"), to the
facility manager and the officers of the request's line.

Built on :func:`jof.monitoring.sla.clocks`, the running clocks of every open request.
ICT tickets are left to the service desk's own source (``jof.ict.sla_alerts``, the desk's
priority matrix and pauses), so a ticket is never alerted twice. Registered by
monitoring's ``install(app)``; ``jof monitoring run`` raises each alert once per request,
service kind, person and clock start (:class:`jof.core.alerts.SentAlert`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from jof.core import alerts
from jof.core.db import db
from jof.core.people import Role, User, UserRole
from jof.core.workflow import get_type
from jof.monitoring import sla

#: Share of the target used at which a request is at risk.
AT_RISK = 0.8
#: Lines whose own module raises these alerts.
OWN_ALERTS = {"ict"}


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
                           occasion=f"{clock.kind}@{clock.started_at.isoformat()}")


def at_risk(now: datetime) -> Iterator[alerts.Alert]:
    """Running clocks with 80 % or more of their target used, not yet past it."""
    return _due(now, breached=False)


def breached(now: datetime) -> Iterator[alerts.Alert]:
    """Running clocks past their target."""
    return _due(now, breached=True)


def register() -> None:
    alerts.register_timed(alerts.SLA_AT_RISK, at_risk, name="monitoring.sla_at_risk")
    alerts.register_timed(alerts.SLA_BREACHED, breached, name="monitoring.sla_breached")
