"""Helpers of the governance tests: the demo board (6 members, 1 partner) and its heads."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from jof.core.db import db
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.governance import decisions, votes
from jof.governance.models import Decision

#: The demo's member agencies, in code order (the order of every tally).
MEMBERS = ["UNDP", "UNEP", "UNESCO", "UNFPA", "UNOPS", "UNWOMEN"]
PARTNER = "UNAIDS"
MANAGER = "manager@jof.example"


def head_email(code: str) -> str:
    return f"head@{code.lower()}.jof.example"


class Board:
    """Service-level moves on the demo board; each one commits, like a request would."""

    def user(self, email: str) -> User:
        return db.session.scalar(select(User).where(User.email == email))

    def head(self, code: str) -> User:
        return self.user(head_email(code))

    def draft(self, *, title: str = "Extend the facility's opening hours", kind: str = "general",
              threshold: str = "simple_majority", quorum_rule: str = "more_than_half",
              payload: dict | None = None, by: str = MANAGER) -> Decision:
        decision = decisions.propose(self.user(by), {
            "title": title, "text": "The board is asked to decide.", "kind": kind,
            "threshold": threshold, "quorum_rule": quorum_rule, "payload": payload})
        db.session.commit()
        return decision

    def open(self, closes_in: timedelta = timedelta(days=7), **draft) -> Decision:
        decision = self.draft(**draft)
        decisions.open_decision(self.user(MANAGER), decision, utcnow() + closes_in)
        db.session.commit()
        return decision

    def vote(self, decision: Decision | int, code: str, choice: str, statement: str = ""):
        decision_id = decision if isinstance(decision, int) else decision.id
        vote = votes.cast_vote(self.head(code), decision_id, choice, statement)
        db.session.commit()
        return vote

    def votes(self, decision: Decision, **choices: int) -> None:
        """``votes(d, yes=3, no=1)``: the members vote in code order."""
        codes = iter(MEMBERS)
        for choice in ("yes", "no", "abstain"):
            for _ in range(choices.get(choice, 0)):
                self.vote(decision, next(codes), choice)

    def close(self, decision: Decision, now: datetime | None = None) -> Decision:
        """Close as the scheduled command would, just after the closing time."""
        db.session.refresh(decision)
        closed = decisions.close(decision.id, None, now=now or decision.closes_at + timedelta(seconds=1))
        db.session.commit()
        return closed

    def move_closing_time(self, decision: Decision, when: datetime) -> None:
        """The clock moves on: change the closing time behind the services' back."""
        db.session.execute(update(Decision).where(Decision.id == decision.id).values(closes_at=when))
        db.session.commit()
        db.session.expire_all()


@pytest.fixture
def board(demo, session) -> Board:
    """The board, inside an app context that stays pushed for the whole test.

    Test-client requests made meanwhile run in that same app context (same ``g``, same
    session), which is fine for bearer-token API calls; form posts need their own
    context per request (Flask-WTF caches the CSRF token in ``g``): use ``pages``.
    """
    return Board()


class Pages:
    """Board moves for tests that also post forms: each move in its own app context."""

    def __init__(self, app):
        self.app = app
        self.board = Board()

    def __call__(self, fn):
        """``pages(lambda b: b.open().id)``: run ``fn(board)`` in a fresh app context."""
        with self.app.app_context():
            try:
                return fn(self.board)
            finally:
                db.session.remove()


@pytest.fixture
def pages(app, demo) -> Pages:
    return Pages(app)
