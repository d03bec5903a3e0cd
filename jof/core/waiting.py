"""What waits for whom: the open requests whose next move is a given user's, derived from
the registered transition tables (the home page's "what needs me now", DESIGN §9), and the
facility's cross-line queue with its filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, literal, or_, select, true

from jof.core import authz
from jof.core.people import Agency, Role, User
from jof.core.timeutil import UTCDateTime, utcnow
from jof.core.workflow import (
    AGENCY_HEAD,
    FINAL_STATES,
    MANAGER,
    OFFICER,
    REQUESTER,
    RequestFacts,
    RequestType,
    ServiceRequest,
    registered_types,
    visible_requests,
)

#: Moves a request never waits for: someone may take them, but nothing is late without them.
OPTIONAL_ACTIONS = frozenset({"cancel", "reject", "reopen", "assign"})


def _waits_for_sql(user: User, rt: RequestType, token: str):
    """The requests of type ``rt`` that wait for ``user`` when a move waits for ``token``,
    or None when the user is never that actor for this type."""
    if token == REQUESTER:
        return (ServiceRequest.requester_id == user.id) if user.has_role(Role.REQUESTER) else None
    if token == AGENCY_HEAD:
        return (ServiceRequest.agency_id == user.agency_id) if authz.is_head_of(user, user.agency) else None
    if token == OFFICER:
        return true() if authz.is_officer_for(user, rt.service_line) else None
    if token == MANAGER:
        return true() if user.has_role(Role.MANAGER) else None
    raise ValueError(f"unknown actor token {token!r}")


def waiting_query(user: User):
    """The open requests that wait for this user's move, oldest first, or None.

    A move waits for the *first* actor its row names; the others (the manager's override,
    a requester's withdrawal) may take it, but the request is not waiting for them. Moves in
    :data:`OPTIONAL_ACTIONS` wait for nobody. A row's ``waits_when`` narrows it as its guard
    would, so a request above its agency's limit waits for the head, not the manager.
    """
    if authz.is_read_only(user):
        return None
    conditions = []
    for rt in registered_types():
        for t in rt.transitions:
            if t.action in OPTIONAL_ACTIONS:
                continue
            who = _waits_for_sql(user, rt, t.actors[0])
            if who is None:
                continue
            condition = (ServiceRequest.request_type == rt.code) & ServiceRequest.status.in_(t.sources) & who
            if t.waits_when is not None:
                condition = condition & t.waits_when(user)
            conditions.append(condition)
    if not conditions:
        return None
    return visible_requests(user).where(or_(*conditions)).order_by(
        ServiceRequest.status_changed_at.asc(), ServiceRequest.id.asc())


@dataclass
class QueueFilter:
    line: str | None = None
    agency: str | None = None
    status: str | None = None
    #: Only requests older than this many days.
    min_age_days: int | None = None
    sla_breached: bool | None = None
    open_only: bool = False


#: What a list item of a request shows, read as plain columns: the request's own, its
#: agency's code and approval limit, its requester's e-mail.
_ROW_COLUMNS = (
    *(ServiceRequest.__table__.c[name] for name in (
        "reference", "request_type", "title", "description", "status", "amount_usd", "created_at",
        "submitted_at", "certified_at", "approved_at", "started_at", "completed_at", "closed_at",
        "sla_due_at", "version")),
    Agency.code.label("agency_code"), Agency.approval_limit_usd, User.email.label("requester_email"),
)
_ROW_KEYS = tuple(c.key for c in _ROW_COLUMNS)


class RequestRow(RequestFacts):
    """A request as the API's list shows it, made from one row of :data:`_ROW_COLUMNS`:
    no ORM identity, no relationships, so a page of fifty costs fifty small objects."""

    def __init__(self, row):
        self.__dict__.update(zip(_ROW_KEYS, row, strict=True))


def _visible_rows(user: User):
    # Outer joins on the two primary keys: each request has exactly one agency and one
    # requester, and PostgreSQL drops the joins from the page's count.
    stmt = (select(*_ROW_COLUMNS)
            .outerjoin(Agency, Agency.id == ServiceRequest.agency_id)
            .outerjoin(User, User.id == ServiceRequest.requester_id))
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    return stmt


def queue_query(user: User, f: QueueFilter, *, rows: bool = False):
    """The manager's cross-line queue (and an agency user's own agency list): of
    requests, or with ``rows`` of plain rows for :class:`RequestRow`."""
    stmt = _visible_rows(user) if rows else visible_requests(user)
    if f.line:
        # A service line ("procurement") spans several request types; a type code
        # ("test") narrows to one.
        codes = {rt.code for rt in registered_types() if f.line in (rt.service_line, rt.code)}
        stmt = stmt.where(ServiceRequest.request_type.in_(codes or {f.line}))
    if f.agency:
        if not rows:
            stmt = stmt.join(Agency, Agency.id == ServiceRequest.agency_id)
        stmt = stmt.where(Agency.code == f.agency.strip().upper())
    if f.status:
        stmt = stmt.where(ServiceRequest.status == f.status)
    if f.open_only:
        stmt = stmt.where(ServiceRequest.status.not_in(FINAL_STATES))
        for rt in registered_types():
            if rt.final_states:
                stmt = stmt.where(~((ServiceRequest.request_type == rt.code)
                                    & ServiceRequest.status.in_(rt.final_states)))
    if f.min_age_days:
        stmt = stmt.where(ServiceRequest.created_at <= utcnow() - timedelta(days=f.min_age_days))
    if f.sla_breached is not None:
        # The bound "now" must go through the column type (naive UTC on SQLite).
        end = func.coalesce(ServiceRequest.completed_at, ServiceRequest.closed_at,
                            literal(utcnow(), UTCDateTime()))
        breached = ServiceRequest.sla_due_at.is_not(None) & (end > ServiceRequest.sla_due_at)
        stmt = stmt.where(breached if f.sla_breached else ~breached)
    return stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
