"""One vote per agency and gapless resolution numbers under parallel requests (PostgreSQL).

Each thread has its own test client (its own database connection and transaction);
a barrier releases them together, so the requests really race.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jof.core import audit
from jof.core.db import db
from jof.core.people import Agency
from jof.core.timeutil import utcnow
from jof.governance import decisions as board_decisions
from jof.governance.models import Decision, Vote
from tests.conftest import TEST_PASSWORD, race
from tests.governance.conftest import MEMBERS, head_email

pytestmark = pytest.mark.postgres_only




def _token(app, email: str) -> str:
    r = app.test_client().post("/api/v1/auth/token", json={"email": email, "password": TEST_PASSWORD})
    assert r.status_code == 201
    return r.get_json()["token"]


def test_twenty_simultaneous_votes_of_one_agency_leave_one_vote(app, board):
    decision = board.open()
    token = _token(app, head_email("UNDP"))
    choices = ["yes", "no", "abstain"]

    def vote(i: int):
        r = app.test_client().put(f"/api/v1/governance/decisions/{decision.id}/vote",
                                  json={"choice": choices[i % 3], "statement": f"ballot {i}"},
                                  headers={"Authorization": f"Bearer {token}"})
        return r.status_code, r.get_json()

    results = race(20, vote)
    statuses = [r[0] if isinstance(r, tuple) else r for r in results]
    # Each ballot queues behind the decision's row lock: none is lost, none refused.
    assert statuses == [200] * 20, results

    db.session.expire_all()
    undp = db.session.scalar(select(Agency.id).where(Agency.code == "UNDP"))
    rows = db.session.scalars(select(Vote).where(Vote.decision_id == decision.id, Vote.agency_id == undp)).all()
    assert len(rows) == 1
    # Every accepted ballot after the first is a change of the one vote, and audited.
    assert rows[0].changes == 19
    assert rows[0].statement in {f"ballot {i}" for i in range(20)}
    assert db.session.scalar(select(func.count(audit.AuditEvent.id)).where(
        audit.AuditEvent.action == "vote.change")) == 19
    assert audit.verify().ok


def test_ten_decisions_closed_in_parallel_get_gapless_unique_numbers(app, board):
    decisions = [board.open(title=f"Parallel decision {n}") for n in range(10)]
    for d in decisions:
        board.votes(d, yes=4)
    ids = [d.id for d in decisions]
    at = utcnow() + timedelta(days=8)
    year = at.year

    def close(i: int):
        with app.app_context():
            try:
                return board_decisions.close(ids[i], None, now=at).resolution_number
            finally:
                db.session.commit()
                db.session.remove()

    numbers = race(10, close)
    assert all(isinstance(n, str) for n in numbers), numbers
    # The founding key of the demo is RES-<year>-001.
    assert sorted(numbers) == [f"RES-{year}-{n:03d}" for n in range(2, 12)]

    db.session.expire_all()
    stored = db.session.scalars(select(Decision.resolution_number).where(Decision.id.in_(ids))).all()
    assert sorted(stored) == sorted(numbers)
    assert db.session.scalar(select(func.count(Decision.id)).where(Decision.status == "closed")) == 11
    assert audit.verify().ok


def test_the_last_votes_and_the_scheduled_close_race_to_close_one_decision(app, board, api):
    """Everyone votes while the scheduled close runs: the decision closes once, and its
    tally holds exactly the votes accepted before it closed."""
    decision = board.open()
    tokens = {code: _token(app, head_email(code)) for code in MEMBERS}
    due = decision.closes_at + timedelta(seconds=1)

    def work(i: int):
        if i == len(MEMBERS):
            with app.app_context():
                try:
                    return board_decisions.close(decision.id, None, now=due).resolution_number
                finally:
                    db.session.commit()
                    db.session.remove()
        r = app.test_client().put(f"/api/v1/governance/decisions/{decision.id}/vote", json={"choice": "yes"},
                                  headers={"Authorization": f"Bearer {tokens[MEMBERS[i]]}"})
        return r.status_code

    results = race(len(MEMBERS) + 1, work)
    votes, number = results[:-1], results[-1]
    assert set(votes) <= {200, 409}, results
    db.session.expire_all()
    closed = db.session.get(Decision, decision.id)
    assert closed.status == "closed" and closed.resolution_number == number == f"RES-{closed.closed_at.year}-002"
    assert closed.tally["yes"] == votes.count(200)
    assert closed.tally["not_voted"] == votes.count(409)
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.decision_id == decision.id)) == votes.count(200)
    assert db.session.scalar(select(func.count(audit.AuditEvent.id)).where(
        audit.AuditEvent.action == "decision.close")) == 1
    assert audit.verify().ok
