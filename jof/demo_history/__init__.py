"""A year (or any number of months) of the Brazil pilot's activity, for the demo.

``jof demo history --months 12`` plays the facility's past through the real services,
acting as the demo users with JOF's clock held at each moment (:func:`clock_at`), so
every timeline entry, audit event, charge, counter and state table is the one the app
itself writes: requisitions pooled in joint tenders through award, purchase order and
receipt; call-offs under a long-term agreement; trips with tickets and claims; ICT
tickets (some resolved after their SLA); seat subscriptions; monthly cost pools; closed
billing periods with issued invoices and payments; a few board resolutions, one of them
a change of the cost-sharing key in the middle of the history.

The activity is drawn from a seeded :class:`random.Random`: the same months and seed
give the same facility. Each activity is a *story*, a generator that does one step and
yields the moment of its next one; the agenda runs every story's steps in time order,
so the clock only moves forward and stories interleave as real work does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import func, select

from jof.core import workflow
from jof.core.calendar import facility_zone, next_month
from jof.core.db import db
from jof.core.timeutil import utcnow
from jof.demo_history import stories as s
from jof.demo_history.agenda import (
    History,
    HistoryError,
    HistoryResult,
    ensure_fresh,
    founding_clock,
    history_months,
    is_fresh,
)

__all__ = ["HistoryError", "HistoryResult", "founding_clock", "generate", "history_months", "is_fresh"]


def plan(h: History) -> None:
    """Every story of the history, drawn month by month from the seeded generator: the
    whole months, each closed on the next month's first working day, then the current
    month up to now, whose stories stop at the present and leave their work open."""
    first = h.months[0]
    h.add(s.ict_subscriptions(h, first))
    h.add(s.office_supplies_lta(h, first))
    current = next_month(h.months[-1])
    for i, month in enumerate([*h.months, current]):
        days = h.working_days(month)
        h.add(s.cost_pools(h, month))
        h.add(s.joint_tender(h, month, days))
        for _ in range(h.rng.randint(1, 3)):
            h.add(s.call_off(h, h.rng.choice(days[2:-6])))
        for _ in range(h.rng.randint(3, 6)):
            h.add(s.trip(h, h.rng.choice(days[:-9])))
        for _ in range(h.rng.randint(6, 11)):
            h.add(s.ticket(h, h.rng.choice(days[:-3])))
        if month == current:
            break
        h.add(s.close_month(h, month))
        if i == len(h.months) // 2 - 1 or (len(h.months) == 1 and i == 0):
            h.add(s.key_change(h, days[3], next_month(month)))
        if i == 1:
            h.add(s.resolution(h, days[5], "Annual work plan of the facility",
                               "The board adopts the facility's work plan and service catalogue for the year."))
        if i == len(h.months) - 3 and i > 2:
            h.add(s.resolution(h, days[4], "Budget of the facility for next year",
                               "The board adopts the cost pools budget for the coming year.", kind="budget"))
        if i == len(h.months) // 3 and i > 0:
            h.add(s.seat_change(h, days[2]))


def generate(months: int, *, seed: int = 2026, now: datetime | None = None,
             on_month: Callable[[date], None] | None = None) -> HistoryResult:
    """Generate ``months`` whole months of activity before ``now``'s month, and that
    month up to ``now`` (default: JOF's clock).

    The demo's base data (``jof.demo.load``) must be there, dated from the first month
    on; the database must hold no request yet. Nothing is committed here: ``on_month``
    (the command commits there) is called as the clock leaves each month.
    """
    if not 1 <= months <= 36:
        raise HistoryError("Give between 1 and 36 months of history.")
    ensure_fresh()
    now = now or utcnow()
    span = history_months(months, now.astimezone(facility_zone()).date())
    h = History(span, seed, now)
    plan(h)
    h.run(on_month)
    from jof.billing.models import Invoice

    return HistoryResult(
        span,
        requests=db.session.scalar(select(func.count()).select_from(workflow.ServiceRequest)),
        invoices=db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.number.is_not(None))))
