"""The columns of the facility's own lists (the queue, agencies, users, the audit trail,
notifications): what the page shows, what it sorts by, what its export holds. See :mod:`jof.core.listing`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from jof.core.audit import AuditEvent
from jof.core.listing import Column, Listing
from jof.core.notifications import Notification
from jof.core.people import Agency, Role, User
from jof.core.templating import audit_changes, line_label, role_label, status_label, type_label
from jof.core.workflow import ServiceRequest

_agency_code = select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()

QUEUE = Listing(
    "requests",
    (
        Column("reference", _l("Reference"), lambda sr: sr.reference, ServiceRequest.reference),
        Column("line", _l("Line"), lambda sr: type_label(sr.request_type), ServiceRequest.request_type),
        Column("agency", _l("Agency"), lambda sr: sr.agency.code, _agency_code),
        Column("title", _l("Title"), lambda sr: sr.title, ServiceRequest.title),
        Column("status", _l("Status"), lambda sr: status_label(sr.status), ServiceRequest.status),
        Column("created", _l("Created"), lambda sr: sr.created_at, ServiceRequest.created_at),
        Column("sla_due", _l("SLA due"), lambda sr: sr.sla_due_at, ServiceRequest.sla_due_at),
        Column("sla_breached", _l("SLA breached"), lambda sr: sr.sla_breached),
    ),
    default_sort="created",
    tiebreak=(ServiceRequest.id.desc(),),
)


def _membership(agency: Agency) -> str:
    return str(MEMBERSHIP_LABELS.get(agency.membership, agency.membership))


MEMBERSHIP_LABELS = {"member": _l("Member"), "partner": _l("Partner")}

AGENCIES = Listing(
    "agencies",
    (
        Column("code", _l("Code"), lambda a: a.code, Agency.code),
        Column("name", _l("Name"), lambda a: a.name, Agency.name),
        Column("country", _l("Country"), lambda a: a.country, Agency.country),
        Column("membership", _l("Membership"), _membership, Agency.membership),
        Column("joined_on", _l("Joined"), lambda a: a.joined_on, Agency.joined_on),
        Column("left_on", _l("Left"), lambda a: a.left_on, Agency.left_on, empty_last=True),
        Column("approval_limit_usd", _l("Approval limit"), lambda a: a.approval_limit_usd,
               Agency.approval_limit_usd),
    ),
    default_sort="code",
    default_dir="asc",
    tiebreak=(Agency.id,),
)


def _roles(user: User) -> str:
    """The user's roles in words, an officer's service lines in brackets (as the page)."""
    words = []
    for role in sorted(user.roles):
        word = role_label(role)
        if role == Role.OFFICER and user.service_lines:
            word += " (" + ", ".join(line_label(line) for line in sorted(user.service_lines)) + ")"
        words.append(word)
    return ", ".join(words)


#: Facility staff (no agency) first going up, on both databases.
_user_agency = func.coalesce(select(Agency.code).where(Agency.id == User.agency_id).scalar_subquery(), "")

USERS = Listing(
    "users",
    (
        Column("email", _l("E-mail"), lambda u: u.email, User.email),
        Column("name", _l("Name"), lambda u: u.name, User.name),
        Column("agency", _l("Agency"), lambda u: u.agency.code if u.agency else str(_l("Facility")),
               _user_agency),
        Column("roles", _l("Roles"), _roles),
        Column("active", _l("Active"), lambda u: u.active, User.active),
    ),
    default_sort="email",
    default_dir="asc",
    tiebreak=(User.id,),
)
USER_LOADS = (selectinload(User.agency),)


def _changes(ev: AuditEvent) -> str:
    return "; ".join(f"{key}: {old} → {new}" if old else f"{key}: {new}"
                     for key, old, new in audit_changes(ev.before, ev.after, limit=10_000))


AUDIT = Listing(
    "audit-trail",
    (
        Column("seq", "#", lambda ev: ev.seq, AuditEvent.seq),
        Column("at", _l("When"), lambda ev: ev.at, AuditEvent.at),
        Column("actor", _l("Actor"), lambda ev: ev.actor_email, AuditEvent.actor_email),
        Column("action", _l("Action"), lambda ev: ev.action, AuditEvent.action),
        Column("object_type", _l("Object type"), lambda ev: ev.object_type, AuditEvent.object_type),
        Column("object_id", _l("Object id"), lambda ev: ev.object_id),
        Column("changes", _l("Changes"), _changes),
    ),
    default_sort="at",
    tiebreak=(AuditEvent.id.desc(),),
)

NOTIFICATIONS = Listing(
    "notifications",
    (
        Column("created", _l("When"), lambda n: n.created_at, Notification.created_at),
        Column("message", _l("Message"), lambda n: n.message, Notification.message),
        Column("read", _l("Read"), lambda n: n.read_at,
               case((Notification.read_at.is_(None), 0), else_=1)),  # unread first, on both databases
        Column("link", _l("Link"), lambda n: n.link),
    ),
    default_sort="created",
    tiebreak=(Notification.id.desc(),),
)
