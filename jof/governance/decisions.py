"""Decisions of the board: proposed as drafts, opened for voting, closed once (DESIGN §6).

A decision opens with a snapshot of its voting members (the member agencies active
that day) and closes at its closing time, or early once every one of them has voted.
The tally is frozen at the close with a resolution number (``RES-2026-007``, gapless
per year); an adopted decision's effect is then recorded and applied (``effects``).
Status changes go through ``states.DECISIONS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from jof.core import alerts, audit, authz
from jof.core.counters import next_value
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.formatting import facility_time
from jof.core.people import Agency, Membership, Role, User
from jof.core.timeutil import utcnow
from jof.governance import effects
from jof.governance.models import KINDS, QUORUM_RULES, THRESHOLDS, Decision, DecisionVoter, Vote
from jof.governance.states import DECISIONS, DecisionStatus, Outcome, ensure_allowed

log = logging.getLogger(__name__)

#: Who chairs the board besides the proposer: edit drafts, open, close by hand (DESIGN §1).
CHAIRS = (Role.MANAGER, Role.RESIDENT_COORDINATOR)
#: An outcome as the alerts say it (translated for each recipient).
OUTCOME_WORDS = {Outcome.ADOPTED: "adopted", Outcome.REJECTED: "rejected", Outcome.NO_QUORUM: "no quorum"}


def get_decision(decision_id: int, *, lock: bool = False) -> Decision:
    stmt = select(Decision).where(Decision.id == decision_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    decision = db.session.scalar(stmt)
    if decision is None:
        raise NotFound("No such decision.")
    return decision


# --- drafts ------------------------------------------------------------------------------


def _may_propose(actor: User) -> None:
    authz.ensure_can_change(actor)
    if actor.has_role(Role.MANAGER, Role.RESIDENT_COORDINATOR):
        return
    if actor.agency is not None and authz.is_head_of(actor, actor.agency) and actor.agency.is_member:
        return
    raise Forbidden("Only the facility manager, the Resident Coordinator or the head of a member agency "
                    "may propose decisions.")


def _validate(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = ["A title is required."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    kind = data.get("kind", "general")
    if kind not in KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(KINDS)}."]
    if data.get("threshold", "simple_majority") not in THRESHOLDS:
        errors["threshold"] = [f"Choose one of: {', '.join(THRESHOLDS)}."]
    if data.get("quorum_rule", "more_than_half") not in QUORUM_RULES:
        errors["quorum_rule"] = [f"Choose one of: {', '.join(QUORUM_RULES)}."]
    if errors:
        raise ValidationFailed(errors)
    payload = effects.validate_payload(kind, data.get("payload"))
    return {"title": title, "text": data.get("text") or "", "kind": kind,
            "threshold": data.get("threshold", "simple_majority"),
            "quorum_rule": data.get("quorum_rule", "more_than_half"), "payload": payload}


def propose(actor: User, data: dict) -> Decision:
    _may_propose(actor)
    clean = _validate(data)
    decision = Decision(**clean, proposed_by_id=actor.id, status=DecisionStatus.DRAFT, created_at=utcnow())
    db.session.add(decision)
    audit.record(actor, "decision.propose", decision, after=audit.snapshot(decision))
    return decision


def update_draft(actor: User, decision: Decision, data: dict) -> Decision:
    _may_propose(actor)
    if decision.status != DecisionStatus.DRAFT:
        raise Conflict("Only a draft can be edited; an open or closed decision never changes.")
    if decision.proposed_by_id != actor.id and not actor.has_role(*CHAIRS):
        raise Forbidden("Only the proposer, the facility manager or the Resident Coordinator may edit this draft.")
    before = audit.snapshot(decision)
    merged = {k: getattr(decision, k) for k in ("title", "text", "kind", "threshold", "quorum_rule", "payload")}
    merged.update({k: v for k, v in data.items() if k in merged})
    for key, value in _validate(merged).items():
        setattr(decision, key, value)
    audit.record(actor, "decision.update", decision, before=before, after=audit.snapshot(decision))
    return decision


# --- opening -----------------------------------------------------------------------------


def voting_members(on: date) -> list[Agency]:
    agencies = db.session.scalars(select(Agency).where(Agency.membership == Membership.MEMBER)
                                  .order_by(Agency.code)).all()
    return [a for a in agencies if a.is_active_on(on)]


def open_decision(actor: User, decision: Decision, closes_at: datetime) -> Decision:
    """Open for voting: the member agencies active today become its voting members."""
    authz.ensure_can_change(actor)
    if not actor.has_role(*CHAIRS) and decision.proposed_by_id != actor.id:
        raise Forbidden("Only the proposer, the facility manager or the Resident Coordinator may open this decision.")
    ensure_allowed(DECISIONS, decision, "open")
    now = utcnow()
    if closes_at.tzinfo is not None and closes_at.year >= 9999:
        raise ValidationFailed({"closes_at": ["Voting closes at most a year from now."]})
    if closes_at.tzinfo is not None and closes_at > now and closes_at - now > timedelta(days=366):
        raise ValidationFailed({"closes_at": ["Voting closes at most a year from now."]})
    if closes_at.tzinfo is None or closes_at <= now:
        raise ValidationFailed({"closes_at": ["The closing time must be in the future (with a time zone)."]})
    members = voting_members(now.date())
    if not members:
        raise Conflict("There are no member agencies to vote.")
    DECISIONS.move(decision, "open")
    decision.opened_at = now
    decision.closes_at = closes_at
    for agency in members:
        decision.voters.append(DecisionVoter(agency_id=agency.id))
    audit.record(actor, "decision.open", decision,
                 after={"closes_at": closes_at, "voters": [a.code for a in members]})
    alerts.raise_alert(alerts.VOTE_OPENED, alerts.heads_of(a.id for a in members) + alerts.governance_watchers(),
                       "Decision open for your vote: “%(title)s” (closes %(closes)s).",
                       {"title": decision.title, "closes": closes_at}, f"/governance/decisions/{decision.id}",
                       actor=actor)
    return decision


# --- the tally and the close ---------------------------------------------------------------


def all_voted(decision: Decision) -> bool:
    voted = db.session.scalar(select(func.count(Vote.id)).where(Vote.decision_id == decision.id))
    return voted >= len(decision.voters)


@dataclass
class Tally:
    voting_members: int
    yes: int
    no: int
    abstain: int
    quorum_met: bool
    threshold_met: bool
    outcome: Outcome
    votes: dict[str, str]

    @property
    def not_voted(self) -> int:
        return self.voting_members - self.yes - self.no - self.abstain

    def as_dict(self) -> dict:
        return {"voting_members": self.voting_members, "yes": self.yes, "no": self.no,
                "abstain": self.abstain, "not_voted": self.not_voted,
                "quorum_met": self.quorum_met, "threshold_met": self.threshold_met,
                "outcome": self.outcome.value, "votes": self.votes}


def count(decision: Decision) -> Tally:
    """The rules of DESIGN §6: abstentions count for the quorum, never for the threshold."""
    members = {v.agency_id: v.agency.code for v in decision.voters}
    current = {v.agency_id: v.choice for v in db.session.scalars(
        select(Vote).where(Vote.decision_id == decision.id))}
    current = {k: c for k, c in current.items() if k in members}
    n = len(members)
    yes = sum(1 for c in current.values() if c == "yes")
    no = sum(1 for c in current.values() if c == "no")
    abstain = sum(1 for c in current.values() if c == "abstain")
    cast = yes + no + abstain
    quorum = {
        "more_than_half": cast * 2 > n,
        "two_thirds": cast * 3 >= n * 2,
        "all": cast == n,
    }[decision.quorum_rule]
    threshold = {
        "simple_majority": yes > no,
        "two_thirds": yes * 3 >= n * 2,
        "unanimity": yes == n,
    }[decision.threshold]
    outcome = Outcome.NO_QUORUM if not quorum else (Outcome.ADOPTED if threshold else Outcome.REJECTED)
    votes = {members[a]: current.get(a, "not_voted") for a in sorted(members, key=members.get)}
    return Tally(n, yes, no, abstain, quorum, threshold, outcome, votes)


def _resolution_number(year: int) -> str:
    """``RES-2026-007``: gapless per year, in the year the decision closed."""
    return f"RES-{year}-{next_value(f'resolution:{year}'):03d}"


def close(decision_id: int, actor: User | None = None, *, now: datetime | None = None,
          early: bool = False) -> Decision:
    """Close at (or after) the closing time, or early once every member voted.

    Idempotent: closing a closed decision returns it unchanged. The row lock makes two
    closers (the scheduled command and the last vote, say) agree on one outcome.
    """
    now = now or utcnow()
    decision = get_decision(decision_id, lock=True)
    if decision.status == DecisionStatus.CLOSED:
        return decision
    ensure_allowed(DECISIONS, decision, "close")
    if not early and now < decision.closes_at and not all_voted(decision):
        raise Conflict(f"The decision closes at {facility_time(decision.closes_at)}, and not every "
                       "member has voted yet.")
    tally = count(decision)
    DECISIONS.move(decision, "close")
    decision.closed_at = now
    decision.outcome = tally.outcome
    decision.tally = tally.as_dict()
    decision.resolution_number = _resolution_number(now.year)
    audit.record(actor, "decision.close", decision, after=decision.tally | {
        "resolution_number": decision.resolution_number})
    if tally.outcome == Outcome.ADOPTED:
        effects.apply_adopted(decision, actor, today=now.date())
    alerts.raise_alert(alerts.VOTE_CLOSED, alerts.heads_of(v.agency_id for v in decision.voters)
                       + alerts.governance_watchers(),
                       "Vote closed on “%(title)s”: %(outcome)s, %(resolution)s (yes %(yes)s, no %(no)s, "
                       "abstain %(abstain)s).",
                       {"title": decision.title, "outcome": alerts.T(OUTCOME_WORDS[tally.outcome]),
                        "resolution": decision.resolution_number, "yes": tally.yes, "no": tally.no,
                        "abstain": tally.abstain}, f"/governance/decisions/{decision.id}", actor=actor)
    return decision


def close_by_hand(actor: User, decision_id: int) -> Decision:
    """The manager or the Resident Coordinator closes a decision whose time has come, or
    that every member voted on."""
    authz.ensure_can_change(actor)
    authz.require_roles(actor, *CHAIRS,
                        why="Only the facility manager or the Resident Coordinator closes decisions by hand.")
    return close(decision_id, actor)


def record_founding(actor: User | None, *, title: str, kind: str, text: str, payload: dict) -> Decision:
    """A decision the member agencies took when they created the facility, before JOF:
    recorded as adopted unanimously, numbered in the year it is recorded, its effect
    applied like any other."""
    now = utcnow()
    decision = Decision(title=title, kind=kind, text=text, status=DecisionStatus.DRAFT,
                        threshold="unanimity", quorum_rule="all",
                        proposed_by_id=actor.id if actor else None, payload=payload, created_at=now)
    DECISIONS.move(decision, "open")
    decision.opened_at = decision.closes_at = now
    DECISIONS.move(decision, "close")
    decision.closed_at = now
    decision.outcome = Outcome.ADOPTED
    decision.tally = {"founding": True}
    decision.resolution_number = _resolution_number(now.year)
    db.session.add(decision)
    db.session.flush()
    audit.record(actor, "decision.founding", decision, after=audit.snapshot(decision))
    effects.apply_adopted(decision, actor)
    db.session.flush()
    return decision


# --- the scheduled close ---------------------------------------------------------------------


def due_decision_ids(now: datetime) -> list[int]:
    """The open decisions whose closing time has come, the earliest first."""
    return list(db.session.scalars(select(Decision.id).where(Decision.status == DecisionStatus.OPEN,
                                                             Decision.closes_at <= now)
                                   .order_by(Decision.closes_at, Decision.id)))


def close_if_due(decision_id: int, now: datetime) -> str | None:
    """Close one due decision in a savepoint and return its resolution number.

    A decision that cannot close (bad data written around the services, a database
    refusal) is logged and left open, its savepoint rolled back: it never blocks the
    decisions due after it. Never commits; ``jof governance close-due`` commits each.
    """
    try:
        with db.session.begin_nested():
            decision = close(decision_id, None, now=now)
            db.session.flush()
    except Exception:  # noqa: BLE001 - one broken decision must not stop the others
        log.exception("decision %s could not be closed; it stays open", decision_id)
        return None
    return decision.resolution_number


def apply_due_effects(now: datetime) -> int:
    """Apply the adopted effects whose effective date has come (membership changes)."""
    return effects.apply_pending(None, today=now.date())


def close_due(now: datetime | None = None) -> list[str]:
    """Close every due decision, each on its own, then apply the effects now due.

    Never commits (the caller does); the command line commits after each decision.
    """
    now = now or utcnow()
    closed = [close_if_due(decision_id, now) for decision_id in due_decision_ids(now)]
    apply_due_effects(now)
    return [number for number in closed if number]


# --- lists -------------------------------------------------------------------------------


def decisions_query(status: str | None = None):
    stmt = select(Decision).order_by(Decision.id.desc())
    if status:
        stmt = stmt.where(Decision.status == status)
    return stmt


def drafts_shown_to(actor: User) -> list[Decision]:
    """The drafts on the board page: for those who propose (the chairs, agency heads)."""
    if not actor.has_role(*CHAIRS, Role.AGENCY_HEAD):
        return []
    return list(db.session.scalars(decisions_query(DecisionStatus.DRAFT)))


def resolutions_query():
    return select(Decision).where(Decision.status == DecisionStatus.CLOSED).order_by(
        Decision.closed_at.desc(), Decision.id.desc())
