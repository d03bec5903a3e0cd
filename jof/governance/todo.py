"""What the board asks of a person now, for the home page (``jof.core.home``): the open
decisions their agency has not voted on yet."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from jof.core import authz
from jof.core.db import db
from jof.core.home import Entry, Panel
from jof.core.people import User
from jof.core.templating import local_dt
from jof.governance.models import Decision, DecisionVoter, Vote
from jof.governance.states import DecisionStatus

SHOWN = 5


def votes_to_cast(user: User) -> Panel | None:
    """For the head (or alternate) of a voting member: the open decisions still without
    the agency's vote, the soonest to close first."""
    if user.agency is None or not authz.is_head_of(user, user.agency) or authz.is_read_only(user):
        return None
    voted = select(Vote.id).where(Vote.decision_id == Decision.id, Vote.agency_id == user.agency_id).exists()
    stmt = (select(Decision)
            .join(DecisionVoter, (DecisionVoter.decision_id == Decision.id)
                  & (DecisionVoter.agency_id == user.agency_id))
            .where(Decision.status == DecisionStatus.OPEN, ~voted))
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if not count:
        return None
    first = db.session.scalars(stmt.order_by(Decision.closes_at.asc(), Decision.id.asc()).limit(SHOWN)).all()
    entries = tuple(
        Entry(d.title, url_for("governance.decision", decision_id=d.id),
              _("closes %(when)s", when=local_dt(d.closes_at)) if d.closes_at else "")
        for d in first)
    return Panel(title=_("decisions wait for your agency's vote"), count=count,
                 url=url_for("governance.board"), entries=entries, action=_("Go to the board"))
