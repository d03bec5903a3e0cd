"""Votes: one agency, one vote (DESIGN §6).

Each member agency active when a decision opens has exactly one current vote, cast by
its head or the alternate it named; partners and facility staff never vote. The last
vote counts and every change is audited. The database holds the rule too
(``UNIQUE(decision_id, agency_id)``), so it survives concurrent requests from several
workers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, ValidationFailed
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.governance.decisions import all_voted, close, get_decision
from jof.governance.models import CHOICES, Decision, Vote
from jof.governance.states import DecisionStatus


def voter_agency(actor: User, decision: Decision) -> Agency:
    """The agency the actor votes for, or a 403 saying why they cannot vote.

    Once a decision is open, its snapshot of voting members alone decides: a member that
    became a partner meanwhile still votes on it (it counts for the quorum), and an agency
    that became a member meanwhile does not.
    """
    authz.ensure_can_change(actor)
    if actor.is_facility_staff:
        raise Forbidden("Facility staff do not vote: the board is the member agencies, one vote each.")
    agency = actor.agency
    if decision.status == DecisionStatus.DRAFT:
        votes_on_it = agency.is_member
    else:
        votes_on_it = agency.id in {v.agency_id for v in decision.voters}
    if not votes_on_it:
        if not agency.is_member:
            raise Forbidden(f"{agency.code} is a partner of the facility: partners are served and pay "
                            "fees but do not vote.")
        raise Forbidden(f"{agency.code} was not a voting member when this decision opened.")
    if not authz.is_head_of(actor, agency):
        raise Forbidden(f"Only the head of {agency.code} or the alternate it named casts its vote.")
    return agency


def may_vote(actor: User, decision: Decision) -> bool:
    """Whether the actor may cast their agency's vote on this decision now."""
    if decision.status != DecisionStatus.OPEN:
        return False
    try:
        voter_agency(actor, decision)
    except Forbidden:
        return False
    return True


def cast_vote(actor: User, decision_id: int, choice: str, statement: str = "") -> Vote:
    """Cast or change the agency's vote; the last one counts, every change is audited."""
    if choice not in CHOICES:
        raise ValidationFailed({"choice": [f"Vote yes, no or abstain (not {choice!r})."]})
    # Votes on one decision queue behind its row lock, so "has everyone voted?" and
    # a concurrent close always see each other's committed work.
    decision = get_decision(decision_id, lock=True)
    agency = voter_agency(actor, decision)
    if decision.status != DecisionStatus.OPEN:
        raise Conflict(f"The decision is {decision.status}; votes are taken only while it is open.")
    if utcnow() >= decision.closes_at:
        raise Conflict("Voting closed at the decision's closing time.")
    now = utcnow()
    before = None
    try:
        with db.session.begin_nested():
            vote = Vote(decision_id=decision.id, agency_id=agency.id, choice=choice,
                        statement=statement or "", cast_by_id=actor.id, cast_at=now, changes=0)
            db.session.add(vote)
    except IntegrityError:
        vote = None
    if vote is None:
        # The agency has voted already (perhaps a split second ago in another worker):
        # lock its row and change it.
        vote = db.session.scalar(select(Vote).where(Vote.decision_id == decision.id,
                                                    Vote.agency_id == agency.id).with_for_update())
        before = {"choice": vote.choice, "statement": vote.statement, "cast_by": vote.cast_by_id}
        vote.choice = choice
        vote.statement = statement or ""
        vote.cast_by_id = actor.id
        vote.cast_at = now
        vote.changes += 1
    audit.record(actor, "vote.change" if before else "vote.cast", decision, before=before,
                 after={"agency": agency.code, "choice": choice, "statement": statement or ""})
    db.session.flush()
    if all_voted(decision):
        close(decision.id, actor, now=now, early=True)
    return vote


def current_vote(decision: Decision, agency_id: int | None) -> Vote | None:
    if agency_id is None:
        return None
    return db.session.scalar(select(Vote).where(Vote.decision_id == decision.id,
                                                Vote.agency_id == agency_id))
