"""The board's rules: who proposes and votes, how a decision closes, what it changes.

One agency, one vote: each member agency active when a decision opens has exactly one
current vote, cast by its head or the alternate it named; partners and facility staff
never vote. The database holds that rule too (``UNIQUE(decision_id, agency_id)``), so
it survives concurrent requests from several workers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import marshmallow as ma
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jof.core import audit, authz, money
from jof.core.counters import next_value
from jof.core.db import db
from jof.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
    flatten_field_errors,
)
from jof.core.money import to_decimal
from jof.core.notifications import notify
from jof.core.people import Agency, Membership, Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status
from jof.governance import effects
from jof.governance.allocation import AgencyInputs, Share, allocate, validate_components
from jof.governance.models import (
    CHOICES,
    KINDS,
    POOL_CATEGORIES,
    QUORUM_RULES,
    THRESHOLDS,
    AllocationShare,
    CostPool,
    CostSharingKey,
    Decision,
    DecisionAttachment,
    DecisionVoter,
    Vote,
)
from jof.governance.schemas import MembershipPayload

log = logging.getLogger(__name__)

# --- decisions ---------------------------------------------------------------------------


def get_decision(decision_id: int, *, lock: bool = False) -> Decision:
    stmt = select(Decision).where(Decision.id == decision_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    decision = db.session.scalar(stmt)
    if decision is None:
        raise NotFound("No such decision.")
    return decision


def _may_propose(actor: User) -> None:
    authz.ensure_can_change(actor)
    if actor.has_role(Role.MANAGER):
        return
    if actor.agency is not None and authz.is_head_of(actor, actor.agency) and actor.agency.is_member:
        return
    raise Forbidden("Only the facility manager or the head of a member agency may propose decisions.")


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
    decision = Decision(**clean, proposed_by_id=actor.id, status="draft", created_at=utcnow())
    db.session.add(decision)
    audit.record(actor, "decision.propose", decision, after=audit.snapshot(decision))
    return decision


def update_draft(actor: User, decision: Decision, data: dict) -> Decision:
    _may_propose(actor)
    if decision.status != "draft":
        raise Conflict("Only a draft can be edited; an open or closed decision never changes.")
    if decision.proposed_by_id != actor.id and not actor.has_role(Role.MANAGER):
        raise Forbidden("Only the proposer or the facility manager may edit this draft.")
    before = audit.snapshot(decision)
    merged = {k: getattr(decision, k) for k in ("title", "text", "kind", "threshold", "quorum_rule", "payload")}
    merged.update({k: v for k, v in data.items() if k in merged})
    for key, value in _validate(merged).items():
        setattr(decision, key, value)
    audit.record(actor, "decision.update", decision, before=before, after=audit.snapshot(decision))
    return decision


# --- attachments ------------------------------------------------------------------------

#: 5 MB: larger files are refused (413) with a message saying so.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
_ZIP = (b"PK\x03\x04",)
#: extension → (content type served, magic prefixes; None = UTF-8 text without NUL)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain; charset=utf-8", None),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
}


class TooLarge(DomainError):
    status = 413


def safe_filename(name: str) -> str:
    """A file name fit for a download header: no folders, no quotes or control characters,
    at most 120 characters, its extension kept (``attachment.pdf`` if nothing is left)."""
    base = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(c for c in base if c.isprintable() and c not in '"\'<>:|?*;').strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext.strip().lower()[:10]
    stem = stem[:120 - len(ext) - 1].strip(" .") or "attachment"
    return f"{stem}.{ext}" if ext else stem


def add_attachment(actor: User, decision: Decision, filename: str, data: bytes) -> DecisionAttachment:
    """Attach a document to a draft (its proposer or the manager); PDF, PNG, JPEG, plain
    text, DOCX, XLSX or ODT, checked by extension and by its first bytes."""
    authz.ensure_can_change(actor)
    if decision.proposed_by_id != actor.id and not actor.has_role(Role.MANAGER):
        raise Forbidden("Only the proposer or the facility manager attaches documents to this decision.")
    if decision.status != "draft":
        raise Conflict("Documents are attached while the decision is a draft; an open or closed decision "
                       "never changes.")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise TooLarge(f"The file is {len(data) / 1024 / 1024:.1f} MB; attachments may be at most 5 MB.",
                       {"file": ["At most 5 MB."]})
    name = safe_filename(filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise ValidationFailed({"file": [
            "Attach a PDF, PNG, JPEG, plain text (.txt), DOCX, XLSX or ODT file."]})
    if not data:
        raise ValidationFailed({"file": ["The file is empty."]})
    content_type, magic = ATTACHMENT_TYPES[ext]
    if magic is None:
        try:
            ok = "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            ok = False
    else:
        ok = data.startswith(magic)
    if not ok:
        raise ValidationFailed({"file": [f"The file's content is not a .{ext} file."]})
    attachment = DecisionAttachment(decision_id=decision.id, filename=name, content_type=content_type,
                                    size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
                                    uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    audit.record(actor, "decision.attachment_add", decision, after={
        "attachment": attachment.id, "filename": name, "content_type": content_type,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def get_attachment(decision: Decision, attachment_id: int) -> DecisionAttachment:
    attachment = db.session.scalar(select(DecisionAttachment).where(
        DecisionAttachment.id == attachment_id, DecisionAttachment.decision_id == decision.id))
    if attachment is None:
        raise NotFound("No such attachment on this decision.")
    return attachment


def voting_members(on: date) -> list[Agency]:
    agencies = db.session.scalars(select(Agency).where(Agency.membership == Membership.MEMBER)
                                  .order_by(Agency.code)).all()
    return [a for a in agencies if a.is_active_on(on)]


def open_decision(actor: User, decision: Decision, closes_at: datetime) -> Decision:
    """Open for voting: the member agencies active today become its voting members."""
    authz.ensure_can_change(actor)
    if not actor.has_role(Role.MANAGER) and decision.proposed_by_id != actor.id:
        raise Forbidden("Only the proposer or the facility manager may open this decision.")
    if decision.status != "draft":
        raise Conflict(f"The decision is already {decision.status}.")
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
    decision.status = "open"
    decision.opened_at = now
    decision.closes_at = closes_at
    for agency in members:
        decision.voters.append(DecisionVoter(agency_id=agency.id))
    audit.record(actor, "decision.open", decision,
                 after={"closes_at": closes_at, "voters": [a.code for a in members]})
    for head in _heads_of(members):
        notify(head, f"Decision open for your vote: {decision.title!r} (closes {closes_at:%Y-%m-%d %H:%M} UTC).",
               f"/governance/decisions/{decision.id}")
    return decision


def _heads_of(agencies: list[Agency]) -> list[User]:
    ids = [a.id for a in agencies]
    users = db.session.scalars(select(User).where(User.agency_id.in_(ids), User.active)).all()
    return [u for u in users if authz.is_head_of(u, u.agency)]


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
    if decision.status == "draft":
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
    if decision.status != "open":
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
    if decision.status != "open":
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
    if _all_voted(decision):
        close(decision.id, actor, now=now, early=True)
    return vote


def _all_voted(decision: Decision) -> bool:
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
    outcome: str
    votes: dict[str, str]

    @property
    def not_voted(self) -> int:
        return self.voting_members - self.yes - self.no - self.abstain

    def as_dict(self) -> dict:
        return {"voting_members": self.voting_members, "yes": self.yes, "no": self.no,
                "abstain": self.abstain, "not_voted": self.not_voted,
                "quorum_met": self.quorum_met, "threshold_met": self.threshold_met,
                "outcome": self.outcome, "votes": self.votes}


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
    outcome = "no_quorum" if not quorum else ("adopted" if threshold else "rejected")
    votes = {members[a]: current.get(a, "not_voted") for a in sorted(members, key=members.get)}
    return Tally(n, yes, no, abstain, quorum, threshold, outcome, votes)


def close(decision_id: int, actor: User | None = None, *, now: datetime | None = None,
          early: bool = False) -> Decision:
    """Close at (or after) the closing time, or early once every member voted.

    Idempotent: closing a closed decision returns it unchanged. The row lock makes two
    closers (the scheduled command and the last vote, say) agree on one outcome.
    """
    now = now or utcnow()
    decision = get_decision(decision_id, lock=True)
    if decision.status == "closed":
        return decision
    if decision.status != "open":
        raise Conflict("Only an open decision can be closed.")
    if not early and now < decision.closes_at and not _all_voted(decision):
        raise Conflict(f"The decision closes at {decision.closes_at:%Y-%m-%d %H:%M} UTC, and not every "
                       "member has voted yet.")
    tally = count(decision)
    year = now.year
    decision.status = "closed"
    decision.closed_at = now
    decision.outcome = tally.outcome
    decision.tally = tally.as_dict()
    decision.resolution_number = f"RES-{year}-{next_value(f'resolution:{year}'):03d}"
    audit.record(actor, "decision.close", decision, after=decision.tally | {
        "resolution_number": decision.resolution_number})
    if tally.outcome == "adopted":
        effects.apply_adopted(decision, actor, today=now.date())
    return decision


def due_decision_ids(now: datetime) -> list[int]:
    """The open decisions whose closing time has come, the earliest first."""
    return list(db.session.scalars(select(Decision.id).where(Decision.status == "open",
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


def decisions_query(status: str | None = None):
    stmt = select(Decision).order_by(Decision.id.desc())
    if status:
        stmt = stmt.where(Decision.status == status)
    return stmt


def resolutions_query():
    return select(Decision).where(Decision.status == "closed").order_by(Decision.closed_at.desc(),
                                                                        Decision.id.desc())


def current_vote(decision: Decision, agency_id: int | None) -> Vote | None:
    if agency_id is None:
        return None
    return db.session.scalar(select(Vote).where(Vote.decision_id == decision.id,
                                                Vote.agency_id == agency_id))


# --- cost-sharing keys -------------------------------------------------------------------


def key_in_force(on: date) -> CostSharingKey | None:
    return db.session.scalar(select(CostSharingKey).where(CostSharingKey.effective_from <= on)
                             .order_by(CostSharingKey.effective_from.desc(), CostSharingKey.id.desc())
                             .limit(1))


def keys_with_status(today: date | None = None) -> list[CostSharingKey]:
    """Every adopted key, newest first, each marked ``in_force`` on ``today`` (UTC)."""
    current = key_in_force(today or utcnow().date())
    rows = db.session.scalars(select(CostSharingKey).order_by(CostSharingKey.effective_from.desc(),
                                                              CostSharingKey.id.desc())).all()
    for key in rows:
        key.in_force = current is not None and key.id == current.id
    return list(rows)


def _validate_key_payload(payload: dict) -> dict:
    try:
        components = validate_components(payload.get("components"))
    except ValidationFailed as exc:
        raise ValidationFailed({f"payload.{k}": v for k, v in exc.errors.items()}) from None
    _check_key_date(effects.effective_from(payload))
    return {"effective_from": payload["effective_from"], "components": components}


def _check_key_date(day: date) -> None:
    """A new key may not rewrite the past: not before this month, nor in (or before) a
    month whose allocation is recorded already, even from the middle of it."""
    today = utcnow().date()
    if day < today.replace(day=1):
        raise ValidationFailed({"payload.effective_from": [
            f"A key takes effect on {today.replace(day=1):%Y-%m-%d} (the first day of this month) or later."]})
    recorded = db.session.scalar(select(func.max(CostPool.period)).join(
        AllocationShare, AllocationShare.cost_pool_id == CostPool.id).where(CostPool.period >= day.replace(day=1)))
    if recorded is not None:
        raise ValidationFailed({"payload.effective_from": [
            f"The allocation of {recorded:%Y-%m} is recorded already with the key then in force; "
            "a new key takes effect after it."]})


def _apply_key(decision: Decision, payload: dict, actor) -> str:
    day = effects.effective_from(payload)
    components = validate_components(payload["components"])
    if not (decision.tally or {}).get("founding"):
        _check_key_date(day)  # it may have become wrong while the board voted
    key = CostSharingKey(components=components, decision_id=decision.id,
                         effective_from=day, created_at=utcnow())
    db.session.add(key)
    methods = ", ".join(f"{m} {p}%" for m, p in payload["components"].items() if m != "fixed_weights")
    return f"Cost-sharing key {methods} in force from {key.effective_from:%Y-%m-%d}."


def _validate_membership(payload: dict) -> dict:
    try:
        clean = MembershipPayload().load(payload)
    except ma.ValidationError as exc:
        raise ValidationFailed({f"payload.{k}": v for k, v in flatten_field_errors(exc.messages).items()}) from None
    agency = db.session.scalar(select(Agency).where(Agency.code == clean["agency"]))
    _check_membership(clean, agency, effects.effective_from(clean))
    return clean


def _check_membership(payload: dict, agency: Agency | None, day: date) -> None:
    """The agency rules a membership change must respect (as the agency forms do)."""
    errors: dict[str, list[str]] = {}
    code, action = payload["agency"], payload["action"]
    if agency is None:
        if action != "join":
            errors["payload.agency"] = [f"There is no agency {code}."]
        else:
            for name in ("name", "country"):
                if not payload.get(name):
                    errors[f"payload.{name}"] = ["A new agency needs its name and country (ISO code)."]
    elif action in ("leave", "change"):
        if agency.left_on is not None and agency.left_on <= day:
            errors["payload.effective_from"] = [f"{code} left the facility on {agency.left_on:%Y-%m-%d}."]
        elif action == "leave" and day <= agency.joined_on:
            errors["payload.effective_from"] = [
                f"{code} joined on {agency.joined_on:%Y-%m-%d}; it can only leave after that day."]
    if errors:
        raise ValidationFailed(errors)


def _apply_membership(decision: Decision, payload: dict, actor) -> str:
    # Checked again on the day: the agency may have changed while the decision waited.
    payload = _validate_membership(payload)
    day = effects.effective_from(payload)
    agency = db.session.scalar(select(Agency).where(Agency.code == payload["agency"]))
    before = audit.snapshot(agency) if agency else None
    if payload["action"] == "join":
        if agency is None:
            agency = Agency(code=payload["agency"], name=payload["name"],
                            country=payload["country"], joined_on=day,
                            membership=payload["membership"])
            db.session.add(agency)
        else:
            # A partner becoming a member keeps its history; an agency that had left
            # rejoins on the day.
            agency.membership = payload["membership"]
            if agency.left_on is not None or agency.joined_on > day:
                agency.joined_on = day
            agency.left_on = None
        text = f"{agency.code} joins as {payload['membership']} on {day:%Y-%m-%d}."
    elif payload["action"] == "leave":
        agency.left_on = day
        text = f"{agency.code} leaves on {day:%Y-%m-%d}."
    else:
        agency.membership = payload["membership"]
        text = f"{agency.code} becomes a {payload['membership']} from {day:%Y-%m-%d}."
    audit.record(actor, "agency.membership", agency, before=before, after=audit.snapshot(agency))
    return text


effects.register("cost_sharing_key", _validate_key_payload, _apply_key)
# Membership is a current state, not a dated row: it changes on its effective date.
effects.register("membership", _validate_membership, _apply_membership, on_effective_date=True)


def adopt_initial_key(components: dict, effective_from: date, actor: User | None = None) -> CostSharingKey:
    """The key a facility starts with, recorded as an adopted founding decision."""
    decision = Decision(title="Founding cost-sharing key", kind="cost_sharing_key",
                        text="Adopted by the member agencies when the facility was created.",
                        status="closed", outcome="adopted", threshold="unanimity",
                        quorum_rule="all", proposed_by_id=actor.id if actor else None,
                        payload={"effective_from": effective_from.isoformat(),
                                 "components": validate_components(components)},
                        created_at=utcnow(), opened_at=utcnow(), closed_at=utcnow(),
                        closes_at=utcnow(), tally={"founding": True})
    year = decision.closed_at.year  # numbered in the year it was adopted, like any resolution
    decision.resolution_number = f"RES-{year}-{next_value(f'resolution:{year}'):03d}"
    db.session.add(decision)
    db.session.flush()
    audit.record(actor, "decision.founding", decision, after=audit.snapshot(decision))
    effects.apply_adopted(decision, actor)
    db.session.flush()
    return db.session.scalar(select(CostSharingKey).where(CostSharingKey.decision_id == decision.id))


# --- cost pools and allocation -------------------------------------------------------------


def _manager(actor: User) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, why="Only the facility manager enters cost pools and allocations.")


def parse_period(text: str) -> date:
    try:
        if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", text):
            raise ValueError(text)
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValidationFailed({"period": ["Expected YYYY-MM, from 2000-01 to 2099-12."]}) from None


def _pool_amount(amount, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        amount = to_decimal(amount)
    except ValueError as exc:
        errors["amount"] = [str(exc)]
        return None
    if amount < 0:
        errors["amount"] = ["Must not be negative."]
    elif amount >= money.MAX_AMOUNT:
        errors["amount"] = ["Too large for a month's shared cost."]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["Give the amount to the cent."]
    return amount


def _pool_open(pool_period: date) -> None:
    effects.ensure_not_frozen(pool_period)
    if _allocated(pool_period):
        raise Conflict(f"The allocation of {pool_period:%Y-%m} is recorded; its pools no longer change.")


def add_cost_pool(actor: User, period: date, category: str, amount, description: str = "") -> CostPool:
    _manager(actor)
    errors: dict[str, list[str]] = {}
    if category not in POOL_CATEGORIES:
        errors["category"] = [f"Choose one of: {', '.join(POOL_CATEGORIES)}."]
    amount = _pool_amount(amount, errors)
    if not errors and db.session.scalar(select(CostPool.id).where(CostPool.period == period,
                                                                  CostPool.category == category)):
        errors["category"] = [f"The {category} pool of {period:%Y-%m} exists already; edit it instead."]
    _pool_open(period)
    if errors:
        raise ValidationFailed(errors)
    pool = CostPool(period=period, category=category, amount=amount, description=description,
                    created_by_id=actor.id, created_at=utcnow())
    db.session.add(pool)
    audit.record(actor, "cost_pool.create", pool, after=audit.snapshot(pool))
    return pool


def get_cost_pool(pool_id: int) -> CostPool:
    pool = db.session.get(CostPool, pool_id)
    if pool is None:
        raise NotFound("No such cost pool.")
    return pool


def update_cost_pool(actor: User, pool: CostPool, data: dict) -> CostPool:
    """Correct a pool's amount or description until its month's allocation is recorded."""
    _manager(actor)
    _pool_open(pool.period)
    errors: dict[str, list[str]] = {}
    amount = _pool_amount(data["amount"], errors) if "amount" in data else pool.amount
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(pool)
    pool.amount = amount
    if "description" in data:
        pool.description = data["description"] or ""
    audit.record(actor, "cost_pool.update", pool, before=before, after=audit.snapshot(pool))
    return pool


def delete_cost_pool(actor: User, pool: CostPool) -> None:
    """Remove a pool entered by mistake, until its month's allocation is recorded."""
    _manager(actor)
    _pool_open(pool.period)
    audit.record(actor, "cost_pool.delete", pool, before=audit.snapshot(pool))
    db.session.delete(pool)
    db.session.flush()


def pools_of(period: date) -> list[CostPool]:
    return list(db.session.scalars(select(CostPool).where(CostPool.period == period)
                                   .order_by(CostPool.category)))


def _allocated(period: date) -> bool:
    return db.session.scalar(select(func.count(AllocationShare.id)).join(CostPool).where(
        CostPool.period == period)) > 0


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_inputs(period: date) -> list[AgencyInputs]:
    """Member agencies active in the month, with what a key may weigh.

    Usage is the number and USD value of the agency's requests completed in the month,
    on every service line.
    """
    end = _next_month(period)
    members = [a for a in db.session.scalars(select(Agency).where(Agency.membership == Membership.MEMBER)
                                             .order_by(Agency.code))
               if a.joined_on < end and (a.left_on is None or a.left_on > period)]
    from datetime import UTC, datetime, time

    start_dt = datetime.combine(period, time(), UTC)
    end_dt = datetime.combine(end, time(), UTC)
    usage = dict((row[0], (row[1], row[2])) for row in db.session.execute(
        select(ServiceRequest.agency_id, func.count(ServiceRequest.id),
               func.coalesce(func.sum(ServiceRequest.amount_usd), 0))
        .where(ServiceRequest.status == Status.COMPLETED, ServiceRequest.completed_at >= start_dt,
               ServiceRequest.completed_at < end_dt)
        .group_by(ServiceRequest.agency_id)))
    out = []
    for a in members:
        n, value = usage.get(a.id, (0, Decimal("0")))
        out.append(AgencyInputs(code=a.code, headcount=a.headcount_for(period.year) or 0,
                                usage_count=int(n), usage_value=to_decimal(value)))
    return out


@dataclass
class PoolPreview:
    pool: CostPool
    shares: list[Share]


def _preview(period: date) -> tuple[CostSharingKey, list[PoolPreview], str]:
    key = key_in_force(period)
    if key is None:
        raise Conflict(f"No cost-sharing key is in force in {period:%Y-%m}; the board must adopt one.")
    inputs = period_inputs(period)
    pools = pools_of(period)
    if not pools:
        raise Conflict(f"No cost pools were entered for {period:%Y-%m}.")
    previews = [PoolPreview(p, allocate(p.amount, key.components, inputs)) for p in pools]
    facts = {"key": key.id, "components": key.components,
             "pools": [[p.id, p.category, str(Fraction(p.amount))] for p in pools],
             "inputs": [[i.code, i.headcount, i.usage_count, str(Fraction(i.usage_value))] for i in inputs]}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    return key, previews, digest


def preview(period: date) -> tuple[CostSharingKey, list[PoolPreview]]:
    key, previews, _digest = _preview(period)
    return key, previews


def preview_digest(period: date) -> str:
    """A fingerprint of what the preview is computed from (key, pools, inputs): recording
    needs it, so what is recorded is what the manager read."""
    return _preview(period)[2]


def record_allocation(actor: User, period: date, digest: str | None = None) -> list[AllocationShare]:
    """Record the previewed allocation; recording again replaces the earlier shares.

    ``digest`` is the previewed one: if the key, a pool or an input changed since, the
    figures would differ from what was read, so it is refused (409). The API and the
    page always pass it; ``None`` is only for a caller that records as part of a larger
    step with its own preview (billing's period close).
    """
    _manager(actor)
    effects.ensure_not_frozen(period)
    key, previews, current = _preview(period)
    if digest is not None and not (isinstance(digest, str) and hmac.compare_digest(digest.encode(), current.encode())):
        raise Conflict("The figures changed since your preview; review them again before recording.")
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    rows = []
    for pv in previews:
        old = db.session.scalars(select(AllocationShare).where(AllocationShare.cost_pool_id == pv.pool.id)).all()
        for row in old:
            db.session.delete(row)
        db.session.flush()
        for share in pv.shares:
            row = AllocationShare(cost_pool_id=pv.pool.id, agency_id=agencies[share.code],
                                  key_id=key.id, amount=share.amount, explanation=share.explanation,
                                  recorded_by_id=actor.id, recorded_at=utcnow())
            db.session.add(row)
            rows.append(row)
        audit.record(actor, "allocation.record", pv.pool,
                     after={"key": key.id, "digest": digest, "shares": {s.code: s.amount for s in pv.shares}})
    db.session.flush()
    return rows


def recorded_shares(period: date) -> list[AllocationShare]:
    return list(db.session.scalars(select(AllocationShare).join(CostPool).where(CostPool.period == period)
                                   .order_by(CostPool.category, AllocationShare.agency_id)))


def recorded_allocation(period: date) -> tuple[CostSharingKey, list[PoolPreview]] | None:
    """The allocation as recorded (the stored rows, not a recomputation), or None."""
    rows = recorded_shares(period)
    if not rows:
        return None
    by_pool: dict[int, PoolPreview] = {}
    for r in sorted(rows, key=lambda r: (r.cost_pool.category, r.agency.code)):
        pv = by_pool.setdefault(r.cost_pool_id, PoolPreview(r.cost_pool, []))
        pv.shares.append(Share(code=r.agency.code, amount=r.amount, explanation=r.explanation))
    return db.session.get(CostSharingKey, rows[0].key_id), list(by_pool.values())
