"""The request spine and the one workflow engine every service line plugs into.

Each request type registers a transition table: rows of (from states, action, allowed
actors, guard, next state). Status changes happen only through :func:`perform`, which
checks, in this order, that the actor may see the request (404), may change anything at
all (403), holds the current version (409), asks for an action that exists from the
current state (409, listing the actions open to them), is among the allowed actors
(403) and passes the guard (409), validates the action's payload with the line's
schema (422), then moves the request, runs the line's effect for the action, stamps the
time, writes the timeline, the audit event and the requester's notification in the same
transaction.

Lines plug in without the engine (or the line's transition table) importing their
services: a line's ``states.py`` declares the rows, its service modules hold the
effects, and the line's ``install(app)`` registers a :class:`RequestType` that names
both. An effect receives the payload explicitly (``effect(request, user, payload)``),
so nothing is parked on a row for a hook to find.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, Integer, String, Text, bindparam, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.orm.exc import StaleDataError

from jof.core import alerts, audit, authz, words
from jof.core.calendar import local_date
from jof.core.counters import next_value
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import Money
from jof.core.notifications import notify
from jof.core.people import Agency, Role, User
from jof.core.timeutil import UTCDateTime, utcnow


class Status(StrEnum):
    """The states of the common lifecycle; lines add their own (also ``StrEnum``s)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


#: States after which nothing happens to a request.
FINAL_STATES = {Status.COMPLETED, Status.REJECTED, Status.CANCELLED}


class RequestFacts:
    """What a request says beyond its own columns, worked out the same way from a loaded
    :class:`ServiceRequest` and from a list's plain row (``waiting.RequestRow``)."""

    request_type: str
    amount_usd: Decimal | None
    approval_limit_usd: Decimal
    sla_due_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None

    @property
    def type(self) -> RequestType:
        return get_type(self.request_type)

    @property
    def service_line(self) -> str:
        return self.type.service_line

    @property
    def needs_certification(self) -> bool:
        return self.amount_usd is not None and self.amount_usd > self.approval_limit_usd

    @property
    def sla_breached(self) -> bool:
        if self.sla_due_at is None:
            return False
        end = self.completed_at or self.closed_at or utcnow()
        return end > self.sla_due_at


class ServiceRequest(RequestFacts, db.Model):
    """One request of any line; the line keeps its details in a record of its own."""

    __tablename__ = "service_request"
    __table_args__ = (Index("ix_service_request_queue", "status", "request_type", "agency_id"),
                      # newest-first lists, alone and filtered by status or agency (migration perf1)
                      Index("ix_service_request_newest", "created_at", "id"),
                      Index("ix_service_request_status_newest", "status", "created_at"),
                      Index("ix_service_request_agency_newest", "agency_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``PRC-2026-00042``: line prefix, year, gapless number per line and year.
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    request_type: Mapped[str] = mapped_column(String(30))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(30), default=Status.DRAFT)
    #: Value in USD that decides whether the agency head must certify.
    amount_usd: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the line's service level says the work is due; None when no SLA applies.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Optimistic lock: a writer holding an older version gets 409.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    agency: Mapped[Agency] = relationship()
    requester: Mapped[User] = relationship()
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="request", order_by="TimelineEntry.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def agency_code(self) -> str:
        return self.agency.code

    @property
    def approval_limit_usd(self) -> Decimal:
        return self.agency.approval_limit_usd

    @property
    def requester_email(self) -> str:
        return self.requester.email


class TimelineEntry(db.Model):
    """Who did what to a request and when, with their comment; shown on the request page."""

    __tablename__ = "timeline_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[ServiceRequest] = relationship(back_populates="timeline")
    actor: Mapped[User | None] = relationship()


# --- actors -----------------------------------------------------------------------------
# Who may take a transition is named by tokens, resolved against the request:
REQUESTER = "requester"  #: a requester of the request's own agency
AGENCY_HEAD = "agency_head"  #: the head (or alternate) of the request's agency
OFFICER = "officer"  #: a facility officer working on the request type's service line
MANAGER = "manager"  #: the facility manager


def actor_is(user: User, sr: ServiceRequest, token: str) -> bool:
    if token == REQUESTER:
        return user.has_role(Role.REQUESTER) and user.agency_id == sr.agency_id
    if token == AGENCY_HEAD:
        return authz.is_head_of(user, sr.agency)
    if token == OFFICER:
        return authz.is_officer_for(user, sr.type.service_line)
    if token == MANAGER:
        return user.has_role(Role.MANAGER)
    raise ValueError(f"unknown actor token {token!r}")


Guard = Callable[[ServiceRequest, User], str | None]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]
    #: Returns None when the move is allowed, otherwise the reason it is not.
    guard: Guard | None = None
    comment_required: bool = False
    label: str = ""
    #: Spine column stamped with the time of the move, if any.
    stamp: str | None = None
    #: When the request waits for this move's first actor, as an SQL condition on
    #: ``ServiceRequest`` for a user (besides its status): the guard's rule in SQL, so the
    #: lists of "what waits for me" agree with it without loading each request.
    waits_when: Callable[[User], Any] | None = None


#: A line's side effect of an action, run inside the move's savepoint: it may refuse the
#: move by raising a domain error, and then nothing of the move is kept.
Effect = Callable[[ServiceRequest, User, Any], None]


@dataclass
class RequestType:
    code: str
    prefix: str
    label: str
    service_line: str
    transitions: list[Transition]
    #: action → the line's effect for it (see :data:`Effect`).
    effects: dict[str, Effect] = field(default_factory=dict)
    #: action → marshmallow schema (class) that validates the payload before the move.
    payloads: dict[str, type] = field(default_factory=dict)
    detail_endpoint: str | None = None
    states: list[str] = field(default_factory=list)
    #: States of this type, besides :data:`FINAL_STATES`, after which nothing happens.
    final_states: frozenset[str] = frozenset()

    def __post_init__(self):
        actions = {t.action for t in self.transitions}
        for name in (*self.effects, *self.payloads):
            if name not in actions:
                raise ValueError(f"{self.code}: effect or payload for unknown action {name!r}")
        if not self.states:
            seen: list[str] = []
            for t in self.transitions:
                for s in (*t.sources, t.target):
                    if s not in seen:
                        seen.append(s)
            self.states = seen


_REGISTRY: dict[str, RequestType] = {}


def register(rt: RequestType) -> RequestType:
    """Called by a line's ``install(app)``; installing again (a second app) replaces it."""
    _REGISTRY[rt.code] = rt
    return rt


def get_type(code: str) -> RequestType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise NotFound(f"Unknown request type {code!r}.") from None


def registered_types() -> list[RequestType]:
    return sorted(_REGISTRY.values(), key=lambda rt: rt.code)


# --- the common lifecycle (DESIGN §2) -----------------------------------------------------


def _within_agency_limit(sr: ServiceRequest, _user: User) -> str | None:
    if sr.needs_certification:
        return (
            f"The request is above {sr.agency.code}'s approval limit of USD "
            f"{sr.agency.approval_limit_usd:,}; its agency head must certify it first."
        )
    return None


def _needs_certification(sr: ServiceRequest, user: User) -> str | None:
    if not sr.needs_certification:
        return "The request is within the agency's approval limit; it needs no certification."
    if user.id == sr.requester_id:
        # Segregation of duties: an alternate who filed the request cannot vouch for it.
        return ("You filed this request, so you cannot certify it; the agency's other "
                "certifier (its head or its alternate) must.")
    return None


def _above_limit_sql():
    limit = select(Agency.approval_limit_usd).where(Agency.id == ServiceRequest.agency_id) \
        .scalar_subquery()
    return ServiceRequest.amount_usd.is_not(None) & (ServiceRequest.amount_usd > limit)


def _needs_certification_sql(user: User):
    return _above_limit_sql() & (ServiceRequest.requester_id != user.id)


def _within_agency_limit_sql(_user: User):
    return ~_above_limit_sql()


def common_lifecycle() -> list[Transition]:
    """draft → submitted → (certified) → approved → in_progress → completed, with
    rejection (reason required) and cancellation (requester until work starts, manager
    any time before completion)."""
    S = Status
    return [
        Transition("submit", (S.DRAFT,), S.SUBMITTED, (REQUESTER,), label="Submit", stamp="submitted_at"),
        Transition("certify", (S.SUBMITTED,), S.CERTIFIED, (AGENCY_HEAD,), _needs_certification,
                   label="Certify", stamp="certified_at", waits_when=_needs_certification_sql),
        Transition("approve", (S.SUBMITTED,), S.APPROVED, (MANAGER,), _within_agency_limit,
                   label="Approve", stamp="approved_at", waits_when=_within_agency_limit_sql),
        Transition("approve", (S.CERTIFIED,), S.APPROVED, (MANAGER,), label="Approve",
                   stamp="approved_at"),
        Transition("reject", (S.SUBMITTED,), S.REJECTED, (MANAGER, AGENCY_HEAD),
                   comment_required=True, label="Reject", stamp="closed_at"),
        Transition("reject", (S.CERTIFIED,), S.REJECTED, (MANAGER,), comment_required=True,
                   label="Reject", stamp="closed_at"),
        Transition("start", (S.APPROVED,), S.IN_PROGRESS, (OFFICER, MANAGER), label="Start work",
                   stamp="started_at"),
        Transition("complete", (S.IN_PROGRESS,), S.COMPLETED, (OFFICER, MANAGER), label="Complete",
                   stamp="completed_at"),
        Transition("cancel", (S.DRAFT, S.SUBMITTED, S.CERTIFIED, S.APPROVED), S.CANCELLED,
                   (REQUESTER, MANAGER), label="Cancel", stamp="closed_at"),
        Transition("cancel", (S.IN_PROGRESS,), S.CANCELLED, (MANAGER,), comment_required=True,
                   label="Cancel", stamp="closed_at"),
    ]


# --- engine -----------------------------------------------------------------------------


def _permitted(user: User, sr: ServiceRequest, t: Transition) -> bool:
    return any(actor_is(user, sr, token) for token in t.actors)


def allowed_actions(user: User, sr: ServiceRequest) -> list[str]:
    """The actions this user can take on the request now (guards included)."""
    if authz.is_read_only(user):
        return []
    actions: list[str] = []
    for t in sr.type.transitions:
        if sr.status in t.sources and _permitted(user, sr, t) and not (t.guard and t.guard(sr, user)):
            if t.action not in actions:
                actions.append(t.action)
    return actions


def available_transitions(user: User, sr: ServiceRequest) -> list[Transition]:
    allowed = set(allowed_actions(user, sr))
    out: dict[str, Transition] = {}
    for t in sr.type.transitions:
        if t.action in allowed and sr.status in t.sources:
            out.setdefault(t.action, t)
    return list(out.values())


def perform(user: User, sr: ServiceRequest, action: str, comment: str = "",
            version: int | None = None, payload: Any = None) -> TimelineEntry:
    authz.ensure_visible(user, sr.agency_id, "request")
    authz.ensure_can_change(user)
    if version is not None and version != sr.version:
        raise Conflict(
            f"The request was changed by someone else (you had version {version}, it is now "
            f"version {sr.version}). Reload it and try again.",
            current_version=sr.version,
        )
    rt = sr.type
    candidates = [t for t in rt.transitions if t.action == action and sr.status in t.sources]
    if not candidates:
        allowed = allowed_actions(user, sr)
        raise Conflict(
            _("“%(action)s” is not possible while the request is %(status)s.",
              action=words.action_label(action), status=words.status_label(sr.status).lower())
            + " " + (_("Allowed now: %(actions)s.", actions=", ".join(words.action_label(a) for a in allowed))
                     if allowed else _("No action is open to you now.")),
            allowed_actions=allowed,
        )
    permitted = [t for t in candidates if _permitted(user, sr, t)]
    if not permitted:
        who = sorted({a for t in candidates for a in t.actors})
        raise Forbidden(f"Only the {' or the '.join(w.replace('_', ' ') for w in who)} may {action} this request.")
    reasons = []
    chosen = None
    for t in permitted:
        reason = t.guard(sr, user) if t.guard else None
        if reason is None:
            chosen = t
            break
        reasons.append(reason)
    if chosen is None:
        raise Conflict(reasons[0], allowed_actions=allowed_actions(user, sr))
    comment = (comment or "").strip()
    if chosen.comment_required and not comment:
        raise ValidationFailed({"comment": [f"Give a reason to {action} the request."]})
    schema = rt.payloads.get(action)
    if schema is not None:
        payload = load_payload(schema, payload)
    effect = rt.effects.get(action)

    before = {"status": sr.status, "version": sr.version}
    now = utcnow()
    from_status = sr.status
    try:
        # A savepoint: if the line's own side effects refuse the move, or another writer
        # got there first, the request and the session are as they were before.
        with db.session.begin_nested():
            sr.status = chosen.target
            sr.status_changed_at = now
            if chosen.stamp:
                setattr(sr, chosen.stamp, now)
            entry = TimelineEntry(request=sr, at=now, actor_id=user.id, action=action,
                                  from_status=from_status, to_status=chosen.target, comment=comment)
            db.session.add(entry)
            if effect is not None:
                effect(sr, user, payload)
            db.session.flush()
    except StaleDataError:
        current = db.session.scalar(select(ServiceRequest.version).where(ServiceRequest.id == sr.id))
        raise Conflict(
            "The request was changed by someone else at the same time. Reload it and try again.",
            current_version=current,
        ) from None
    audit.record(user, f"request.{action}", sr, before=before,
                 after={"status": sr.status, "version": sr.version, "comment": comment})
    if sr.requester_id != user.id:
        with force_locale(sr.requester.locale or "en"):  # the words of the one who reads it
            message = _("%(ref)s “%(title)s”: %(action)s by %(name)s, now %(status)s.", ref=sr.reference,
                        title=sr.title, action=_done_words(action, chosen.label), name=user.name,
                        status=words.status_label(sr.status).lower())
        notify(sr.requester, message, f"/requests/{sr.reference}")
    _alert_waiting(sr, user, action)
    return entry


def _done_words(action: str, label: str) -> str:
    """A past move as the timeline names it ("Approved"); a line's step without such a word
    keeps its own label."""
    done = words.ACTION_DONE_LABELS.get(action)
    return str(done) if done is not None else words.action_label(action, label or "")


#: Moves that end or refuse a request: nobody "waits" to take them.
NOT_WAITING = {"reject", "cancel"}


def waiting_for(sr: ServiceRequest) -> list[User]:
    """Who can move the request on from where it stands (the requester's own moves and
    refusals aside): the people a "waiting for your action" alert goes to."""
    open_moves = [t for t in sr.type.transitions if sr.status in t.sources and t.action not in NOT_WAITING]
    tokens = {a for t in open_moves for a in t.actors} - {REQUESTER}
    roles = {MANAGER: Role.MANAGER, OFFICER: Role.OFFICER, AGENCY_HEAD: Role.AGENCY_HEAD}
    candidates = alerts.users_with_roles(*(roles[t] for t in tokens)) if tokens else []
    if AGENCY_HEAD in tokens and sr.agency.alternate is not None:
        candidates.append(sr.agency.alternate)
    return [u for u in candidates
            if any(_permitted(u, sr, t) and not (t.guard and t.guard(sr, u)) for t in open_moves)]


def _alert_waiting(sr: ServiceRequest, actor: User, action: str) -> None:
    """Tell whoever must act next; the manager hears of every new submission (DESIGN §8)."""
    params = {"reference": sr.reference, "title": sr.title, "agency": sr.agency.code}
    link = f"/requests/{sr.reference}"
    people = waiting_for(sr)
    if action == "submit":
        managers = alerts.users_with_roles(Role.MANAGER)
        alerts.raise_alert(alerts.REQUEST_WAITING, managers,
                           "New submission: %(reference)s “%(title)s” from %(agency)s.", params, link,
                           actor=actor)
        people = [u for u in people if u not in managers]
    alerts.raise_alert(alerts.REQUEST_WAITING, people,
                       "%(reference)s “%(title)s” (%(agency)s) waits for your action.", params, link,
                       actor=actor)


def load_payload(schema: type, payload: Any) -> dict:
    """An action's payload through the line's schema: field messages as a 422."""
    import marshmallow as ma

    from jof.core.errors import flatten_field_errors

    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ValidationFailed({"_body": ["Send the action's details as a JSON object."]})
    try:
        return schema().load(payload)
    except ma.ValidationError as exc:
        raise ValidationFailed(flatten_field_errors(exc.messages)) from None


def _facility_year(at: datetime) -> int:
    """The year at the facility: a request filed on 31 December at 22:00 in Brasília is
    of that year, although it is already 1 January in UTC."""
    return local_date(at).year


def new_reference(prefix: str, year: int) -> str:
    return f"{prefix}-{year}-{next_value(f'ref:{prefix}:{year}'):05d}"


def create_request(user: User, request_type: str, *, title: str, description: str = "",
                   amount_usd: Decimal | None = None, agency: Agency | None = None,
                   requester: User | None = None) -> ServiceRequest:
    """File a draft for the user's own agency; lines call this before adding details.

    ``requester``: a facility officer files the draft for one of the agency's requesters
    through another line's service (HR's onboarding files the new person's ICT account
    for the recruitment's requester, ``core.accounts``); the draft is theirs, the
    timeline and the audit name the officer who filed it."""
    authz.ensure_can_change(user)
    rt = get_type(request_type)
    if agency is None:
        agency = user.agency
    if agency is None:
        raise ValidationFailed({"agency": ["Facility staff must name the agency the request is for."]})
    if not user.is_facility_staff and agency.id != user.agency_id:
        raise NotFound("No such agency.")
    if requester is not None and requester.id != user.id:
        if not user.is_facility_staff:
            raise Forbidden("Only facility staff file a request for someone else.")
        owner = requester
    else:
        owner = user
    if not (owner.has_role(Role.REQUESTER) and owner.agency_id == agency.id) and not owner.has_role(Role.MANAGER):
        raise Forbidden("Only a requester of the agency (or the facility manager) may file a request.")
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["A title is required."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    if amount_usd is not None and amount_usd < 0:
        errors["amount_usd"] = ["Must not be negative."]
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    sr = ServiceRequest(
        reference=new_reference(rt.prefix, _facility_year(now)), request_type=rt.code, agency=agency,
        agency_id=agency.id, requester=owner, requester_id=owner.id, title=title,
        description=description or "", amount_usd=amount_usd, status=Status.DRAFT,
        created_at=now, status_changed_at=now,
    )
    db.session.add(sr)
    db.session.add(TimelineEntry(request=sr, at=now, actor_id=user.id, action="create",
                                 from_status=None, to_status=Status.DRAFT))
    audit.record(user, "request.create", sr, after=audit.snapshot(sr))
    return sr


# --- reading ---------------------------------------------------------------------------


def visible_requests(user: User):
    """The requests the user may see, with what every list shows of them loaded in a
    fixed number of statements (not one per requester or agency)."""
    # Agency and requester come in the page's own statement (each row has exactly one);
    # a list shows the requester's name and e-mail, never their roles.
    stmt = select(ServiceRequest).options(joinedload(ServiceRequest.agency),
                                          joinedload(ServiceRequest.requester).lazyload(User.role_rows))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    return stmt


@cache
def _by_reference(detail: bool):
    """The select of one request by ``:reference``, built once (not on every request)."""
    stmt = select(ServiceRequest).where(ServiceRequest.reference == bindparam("reference"))
    if detail:
        # One statement: agency and requester are one row each, the timeline a few.
        stmt = stmt.options(joinedload(ServiceRequest.agency),
                            joinedload(ServiceRequest.requester).lazyload(User.role_rows),
                            joinedload(ServiceRequest.timeline).joinedload(TimelineEntry.actor)
                            .lazyload(User.role_rows))
    return stmt


def get_by_reference(user: User, reference: str, *, detail: bool = False) -> ServiceRequest:
    """The request of that reference, or 404 (also for another agency's request).

    ``detail``: with what its detail shows loaded in the same statement (agency,
    requester, the timeline with its actors), as the API's representation reads it;
    writers load the bare row, which they may lock.
    """
    sr = db.session.execute(_by_reference(detail), {"reference": reference}).unique().scalar_one_or_none()
    if sr is None:
        raise NotFound("No such request.")
    authz.ensure_visible(user, sr.agency_id, "request")
    return sr
