"""The board's timed alert: a vote closing within 24 hours (DESIGN §8), raised once per
decision and person by ``jof monitoring run``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select

from jof.core import alerts
from jof.core.db import db
from jof.governance.models import Decision
from jof.governance.states import DecisionStatus

#: How long before its closing time a vote is announced as closing.
CLOSING_NOTICE = timedelta(hours=24)


def votes_closing(now: datetime) -> Iterator[alerts.Alert]:
    """Open decisions closing within the next 24 hours: to every voting head, the
    manager and the Resident Coordinator; the closing time is the occasion."""
    due = db.session.scalars(select(Decision).where(
        Decision.status == DecisionStatus.OPEN, Decision.closes_at > now,
        Decision.closes_at <= now + CLOSING_NOTICE).order_by(Decision.closes_at, Decision.id))
    watchers = None
    for decision in due:
        if watchers is None:
            watchers = alerts.governance_watchers()
        yield alerts.Alert(
            alerts.VOTE_CLOSING, alerts.heads_of(v.agency_id for v in decision.voters) + watchers,
            "The vote on “%(title)s” closes at %(closes)s.",
            {"title": decision.title, "closes": decision.closes_at},
            link=f"/governance/decisions/{decision.id}", object_key=f"decision:{decision.id}",
            occasion=decision.closes_at.isoformat())
