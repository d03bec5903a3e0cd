"""ICT rules (DESIGN §5): the catalogue, subscriptions and their monthly charges, tickets.

Every function takes the acting user explicitly, never commits, and writes its audit
event in the caller's transaction. Status changes go through :func:`workflow.perform`.
"""

from __future__ import annotations

import calendar as pycalendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.core import audit, authz, charges, workflow
from jof.core.calendar import WorkingCalendar
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import quantize
from jof.core.notifications import notify
from jof.core.people import Agency, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest, Status, TimelineEntry
from jof.ict import sla, states
from jof.ict.models import (
    SERVICE_KINDS,
    TICKET_CATEGORIES,
    TICKET_KINDS,
    IctService,
    IctSubscription,
    IctTicket,
    SubscriptionPeriod,
    TicketComment,
)

LINE = states.SERVICE_LINE

# --- catalogue --------------------------------------------------------------------------------

#: The demo catalogue: price-list item code, name, kind, USD per seat-month or per unit.
DEMO_CATALOGUE = [
    ("email_account", "E-mail account", "recurring", "12.00",
     "Mailbox, calendar and office suite licence for one person."),
    ("connectivity", "Connectivity", "recurring", "25.00",
     "Wired and wireless network access and internet for one person at the common premises."),
    ("shared_printing", "Shared printing", "recurring", "8.00",
     "Access to the shared printers, toner and paper included."),
    ("laptop_setup", "Laptop set-up", "one_off", "60.00",
     "Imaging, encryption, enrolment and hand-over of one laptop."),
]


def load_demo_catalogue() -> None:
    """Add the demo services that are missing, and the public holidays the service desk's
    SLA clocks skip (``jof demo load`` calls this)."""
    for code, name, kind, price, description in DEMO_CATALOGUE:
        if db.session.scalar(select(IctService.id).where(IctService.code == code)) is None:
            db.session.add(IctService(code=code, name=name, kind=kind, unit_price_usd=Decimal(price),
                                      description=description, active=True))
    load_demo_holidays()
    db.session.flush()


#: Brazil's national public holidays on a fixed day: (month, day, name).
BRAZIL_FIXED_HOLIDAYS = [
    (1, 1, "Confraternização Universal"),
    (4, 21, "Tiradentes"),
    (5, 1, "Dia do Trabalho"),
    (9, 7, "Independência do Brasil"),
    (10, 12, "Nossa Senhora Aparecida"),
    (11, 2, "Finados"),
    (11, 15, "Proclamação da República"),
    (11, 20, "Dia Nacional de Zumbi e da Consciência Negra"),
    (12, 25, "Natal"),
]


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (the Meeus/Jones/Butcher computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    n = h + l_ - 7 * m + 114
    return date(year, n // 31, n % 31 + 1)


def brazil_holidays(year: int) -> list[tuple[date, str]]:
    days = [(date(year, m, d), name) for m, d, name in BRAZIL_FIXED_HOLIDAYS]
    days.append((easter_sunday(year) - timedelta(days=2), "Paixão de Cristo"))
    return sorted(days)


def load_demo_holidays() -> None:
    """Brazil's national holidays of this year and the next, those not there already
    (the facility adds its local ones on the holiday list)."""
    from jof.core.calendar import Holiday

    year = local_today().year
    known = set(db.session.scalars(select(Holiday.day)))
    for day, name in brazil_holidays(year) + brazil_holidays(year + 1):
        if day not in known:
            db.session.add(Holiday(day=day, name=name))
            known.add(day)


def services_query(include_inactive: bool = False):
    stmt = select(IctService)
    if not include_inactive:
        stmt = stmt.where(IctService.active.is_(True))
    return stmt.order_by(IctService.kind.desc(), IctService.name)


def get_service(code: str) -> IctService:
    service = db.session.scalar(select(IctService).where(IctService.code == code))
    if service is None:
        raise NotFound("No such ICT service.")
    return service


def _require_catalogue_admin(actor: User) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, Role.ADMIN,
                        why="Only the facility manager or an administrator edits the catalogue.")


def create_service(actor: User, data: dict) -> IctService:
    _require_catalogue_admin(actor)
    if db.session.scalar(select(IctService.id).where(IctService.code == data["code"])):
        raise ValidationFailed({"code": ["A service with this price-list code exists already."]})
    if data.get("kind", "recurring") not in SERVICE_KINDS:
        raise ValidationFailed({"kind": [f"Use one of: {', '.join(SERVICE_KINDS)}."]})
    service = IctService(code=data["code"], name=data["name"], kind=data.get("kind", "recurring"),
                         unit_price_usd=data["unit_price_usd"], description=data.get("description", ""),
                         active=data.get("active", True))
    db.session.add(service)
    audit.record(actor, "ict.service.create", service, after=audit.snapshot(service))
    return service


def update_service(actor: User, service: IctService, data: dict) -> IctService:
    _require_catalogue_admin(actor)
    before = audit.snapshot(service)
    for key in ("name", "description", "unit_price_usd", "active"):
        if key in data:
            setattr(service, key, data[key])
    audit.record(actor, "ict.service.update", service, before=before, after=audit.snapshot(service))
    return service


# --- subscriptions ------------------------------------------------------------------------------

SUBSCRIPTION_LIVE = (Status.APPROVED, Status.IN_PROGRESS)

#: Order dates (first day, last day, a change of seats) lie in this window: nothing the
#: facility served before 2000, and no order more than 5 years ahead.
EARLIEST_DAY = date(2000, 1, 1)
YEARS_AHEAD = 5


def local_today() -> date:
    return states.local_today()


def date_window(today: date | None = None) -> tuple[date, date]:
    """(earliest, latest) day an order date may name."""
    today = today or local_today()
    try:
        latest = today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + YEARS_AHEAD, day=28)
    return EARLIEST_DAY, latest


def _check_dates(**days: date | None) -> None:
    """A 422 for each named date outside :func:`date_window`."""
    earliest, latest = date_window()
    errors = {}
    for name, day in days.items():
        if day is not None and not earliest <= day <= latest:
            errors[name] = [f"Give a date from {earliest.isoformat()} to {latest.isoformat()} "
                            f"(at most {YEARS_AHEAD} years ahead)."]
    if errors:
        raise ValidationFailed(errors)


def order(actor: User, data: dict) -> IctSubscription:
    """An agency orders seats of a recurring service from a date (or units of a one-off
    service); the order is filed and submitted for the manager's approval."""
    service = db.session.scalar(select(IctService).where(IctService.code == data["service"]))
    if service is None or not service.active:
        raise ValidationFailed({"service": ["No such service in the catalogue."]})
    seats, starts_on, ends_on = data["seats"], data["starts_on"], data.get("ends_on")
    _check_dates(starts_on=starts_on, ends_on=ends_on)
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed({"ends_on": ["The last day cannot be before the first."]})
    if not service.recurring and ends_on is not None:
        raise ValidationFailed({"ends_on": ["A one-off service has no end date."]})
    agency = None
    if data.get("agency"):
        agency = db.session.scalar(select(Agency).where(Agency.code == data["agency"].strip().upper()))
        if agency is None:
            raise ValidationFailed({"agency": ["No such agency."]})
    unit = "seats" if service.recurring else "units"
    title = data.get("title") or f"{service.name}: {seats} {unit} from {starts_on.isoformat()}"
    # The value an agency head looks at: a year of the service, or the one-off price.
    value = service.unit_price_usd * seats * (12 if service.recurring else 1)
    sr = workflow.create_request(actor, states.SUBSCRIPTION, title=title,
                                 description=data.get("description", ""), amount_usd=quantize(value),
                                 agency=agency)
    sub = IctSubscription(request=sr, service=service, seats=seats, starts_on=starts_on, ends_on=ends_on)
    db.session.add(sub)
    audit.record(actor, "ict.subscription.order", sub, after=audit.snapshot(sub))
    if data.get("submit", True):
        workflow.perform(actor, sr, "submit")
    return sub


def subscriptions_query(user: User, agency_code: str | None = None, status: str | None = None,
                        live_only: bool = False):
    stmt = select(IctSubscription).join(ServiceRequest, ServiceRequest.id == IctSubscription.request_id)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    elif agency_code:
        stmt = stmt.join(Agency, Agency.id == ServiceRequest.agency_id).where(
            Agency.code == agency_code.strip().upper())
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    if live_only:
        stmt = stmt.where(ServiceRequest.status.in_(SUBSCRIPTION_LIVE))
    return stmt.order_by(ServiceRequest.agency_id, IctSubscription.starts_on.desc(), IctSubscription.id.desc())


def get_subscription(user: User, subscription_id: int) -> IctSubscription:
    sub = db.session.get(IctSubscription, subscription_id)
    if sub is None:
        raise NotFound("No such subscription.")
    authz.ensure_visible(user, sub.request.agency_id, "subscription")
    return sub


def subscription_by_reference(user: User, reference: str) -> IctSubscription:
    sr = workflow.get_by_reference(user, reference)
    sub = states.subscription_of(sr)
    if sub is None:
        raise NotFound("No such subscription.")
    return sub


def _may_change_subscription(actor: User, sub: IctSubscription) -> None:
    authz.ensure_visible(actor, sub.request.agency_id, "subscription")
    authz.ensure_can_change(actor)
    own_agency = actor.agency_id == sub.request.agency_id and actor.has_role(Role.REQUESTER, Role.AGENCY_HEAD)
    if not (own_agency or actor.has_role(Role.MANAGER) or authz.is_officer_for(actor, LINE)):
        raise Forbidden("Only the agency's requester or head, an ICT officer or the manager "
                        "may change a subscription.")
    if not sub.service.recurring:
        raise Conflict("A one-off service has no seats to change or end.")
    if sub.request.status not in SUBSCRIPTION_LIVE or not sub.periods:
        raise Conflict(f"Only an approved or active subscription changes; this one is "
                       f"{sub.request.status.replace('_', ' ')}.")


def _billed_from(sub: IctSubscription, day: date) -> bool:
    """Whether a monthly charge of the subscription exists for ``day``'s month or later."""
    first = day.replace(day=1)
    return db.session.scalar(select(ChargeableEvent.id).where(
        ChargeableEvent.source_ref.like(f"{sub.request.reference}/P%"),
        ChargeableEvent.delivered_on >= first).limit(1)) is not None


def _timeline(actor: User, sr: ServiceRequest, action: str, comment: str) -> None:
    """A note on the request's timeline for a change that is not a status change."""
    db.session.add(TimelineEntry(request=sr, at=utcnow(), actor_id=actor.id, action=action,
                                 from_status=sr.status, to_status=sr.status, comment=comment))


def change_seats(actor: User, sub: IctSubscription, seats: int, effective_from: date) -> SubscriptionPeriod:
    """A new number of seats from a day: the current period ends the day before and a new
    one starts, so each month's charge can be traced to the seats in force each day."""
    _may_change_subscription(actor, sub)
    _check_dates(effective_from=effective_from)
    current = sub.periods[-1]
    errors: dict[str, list[str]] = {}
    if seats < 1:
        errors["seats"] = ["At least one seat; end the subscription to stop it."]
    elif seats == current.seats:
        errors["seats"] = [f"The subscription has {seats} seats already."]
    if effective_from <= current.starts_on:
        errors["effective_from"] = [f"Must be after the current period's first day "
                                    f"({current.starts_on.isoformat()})."]
    elif sub.ends_on is not None and effective_from > sub.ends_on:
        errors["effective_from"] = [f"The subscription ends on {sub.ends_on.isoformat()}."]
    elif _billed_from(sub, effective_from):
        errors["effective_from"] = ["That month has been billed already; change from a later month."]
    if errors:
        raise ValidationFailed(errors)
    before = {"seats": current.seats, "period": current.seq}
    current.ends_on = effective_from - timedelta(days=1)
    period = SubscriptionPeriod(seq=current.seq + 1, seats=seats, starts_on=effective_from,
                                ends_on=sub.ends_on, created_at=utcnow(), created_by_id=actor.id)
    sub.periods.append(period)
    _timeline(actor, sub.request, "change_seats",
              f"{current.seats} → {seats} seats from {effective_from.isoformat()}")
    audit.record(actor, "ict.subscription.change_seats", sub, before=before,
                 after={"seats": seats, "period": period.seq, "effective_from": effective_from})
    return period


def end_subscription(actor: User, sub: IctSubscription, last_day: date) -> IctSubscription:
    """Set the last day of service; the months after it are not charged."""
    _may_change_subscription(actor, sub)
    _check_dates(ends_on=last_day)
    current = sub.periods[-1]
    if last_day < current.starts_on:
        raise ValidationFailed({"ends_on": [f"The current period starts on {current.starts_on.isoformat()}; "
                                            "the last day cannot be before it."]})
    if _billed_through(sub) > last_day:
        raise ValidationFailed({"ends_on": ["That month has been billed already; end the subscription "
                                            "in a month not billed yet."]})
    before = {"ends_on": sub.ends_on}
    sub.ends_on = last_day
    current.ends_on = last_day
    _timeline(actor, sub.request, "end", f"last day of service {last_day.isoformat()}")
    audit.record(actor, "ict.subscription.end", sub, before=before, after={"ends_on": last_day})
    return sub


def _billed_through(sub: IctSubscription) -> date:
    day = db.session.scalar(select(ChargeableEvent.delivered_on).where(
        ChargeableEvent.source_ref.like(f"{sub.request.reference}/P%")).order_by(
        ChargeableEvent.delivered_on.desc()).limit(1))
    return day or date.min


def trim_on_cancel(actor: User, sub: IctSubscription) -> None:
    """A cancelled subscription serves no day after today: later periods go, the open one ends."""
    today = local_today()
    for period in list(sub.periods):
        if period.starts_on > today:
            sub.periods.remove(period)
        elif period.ends_on is None or period.ends_on > today:
            period.ends_on = today
    if sub.periods:
        sub.ends_on = min(sub.ends_on or today, today)


def record_one_off(actor: User, sub: IctSubscription) -> ChargeableEvent:
    """A delivered one-off service (laptop set-up) is chargeable once."""
    return charges.record(
        actor, source_ref=f"{sub.request.reference}/one-off", service_line=LINE, agency=sub.request.agency,
        service_item=sub.service.code, quantity=Decimal(sub.seats),
        value_usd=quantize(sub.service.unit_price_usd * sub.seats), delivered_on=local_today(),
        description=f"{sub.seats} × {sub.service.name}")


# --- monthly charges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyCharge:
    """One period's share of a month: seats × price × days served / days in the month."""

    source_ref: str
    period: SubscriptionPeriod
    seats: int
    days: int
    month_days: int
    first: date
    last: date
    #: Seat-months, at the 4 decimals a chargeable quantity keeps.
    quantity: Decimal
    #: Exact ``seats × price × days / month_days``, quantized to the cent once.
    amount: Decimal


def parse_month(text: str, today: date | None = None) -> date:
    """``YYYY-MM`` → the month's first day, within the window of order dates."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed({"month": ["Expected YYYY-MM, e.g. 2026-03."]})
    month = date(int(match.group(1)), int(match.group(2)), 1)
    earliest, latest = date_window(today)
    if not earliest.replace(day=1) <= month <= latest.replace(day=1):
        raise ValidationFailed({"month": [f"Expected a month from {earliest:%Y-%m} to {latest:%Y-%m}."]})
    return month


def prorate(seats: int, unit_price: Decimal, days: int, month_days: int) -> Decimal:
    """``seats × unit_price × days / month_days``, rounded to the cent once (half up)."""
    return quantize(Decimal(seats) * unit_price * Decimal(days) / Decimal(month_days))


def month_charges(sub: IctSubscription, month: date) -> list[MonthlyCharge]:
    """The charges a recurring subscription owes for a calendar month, one per period."""
    month_days = pycalendar.monthrange(month.year, month.month)[1]
    month_first, month_last = month.replace(day=1), month.replace(day=month_days)
    out = []
    for period in sub.periods:
        first = max(period.starts_on, month_first)
        last = min(period.ends_on or month_last, month_last)
        if last < first:
            continue
        days = (last - first).days + 1
        out.append(MonthlyCharge(
            source_ref=f"{sub.request.reference}/P{period.seq}/{month_first:%Y-%m}", period=period,
            seats=period.seats, days=days, month_days=month_days, first=first, last=last,
            quantity=quantize(Decimal(period.seats * days) / Decimal(month_days), 4),
            amount=prorate(period.seats, sub.service.unit_price_usd, days, month_days)))
    return out


def bill_month(actor: User | None, month: date, today: date | None = None) -> tuple[int, int]:
    """Write the month's chargeable events of every recurring subscription; running it
    again writes nothing new (one event per subscription period and month). Returns
    (events created, events that existed already)."""
    today = today or local_today()
    month_last = month.replace(day=pycalendar.monthrange(month.year, month.month)[1])
    if month_last >= today:
        raise ValidationFailed({"month": [f"{month:%Y-%m} is not over yet; bill it after its last day "
                                          f"({month_last.isoformat()})."]})
    subs = db.session.scalars(
        select(IctSubscription).join(IctService).join(SubscriptionPeriod)
        .where(IctService.kind == "recurring", SubscriptionPeriod.starts_on <= month_last,
               (SubscriptionPeriod.ends_on.is_(None)) | (SubscriptionPeriod.ends_on >= month.replace(day=1)))
        .distinct().order_by(IctSubscription.id)).all()
    created = existing = 0
    for sub in subs:
        for line in month_charges(sub, month):
            # A concurrent run may record the same line between our look and our insert:
            # record_new says whether this run wrote it, so each charge is counted once.
            _event, new = charges.record_new(
                actor, source_ref=line.source_ref, service_line=LINE, agency=sub.request.agency,
                service_item=sub.service.code, quantity=line.quantity, value_usd=line.amount,
                delivered_on=line.last,
                description=(f"{sub.service.name}, {line.seats} seats × {line.days}/"
                             f"{line.month_days} days of {month:%Y-%m}"))
            if new:
                created += 1
            else:
                existing += 1
    return created, existing


# --- tickets ---------------------------------------------------------------------------------------


def _level(name: str, field: str) -> int:
    try:
        return sla.LEVELS[name]
    except KeyError:
        raise ValidationFailed({field: [f"Use one of: {', '.join(sla.LEVELS)}."]}) from None


def file_ticket(actor: User, data: dict) -> IctTicket:
    """Open a ticket for the requester's agency; its SLA clocks start now."""
    urgency, impact = _level(data["urgency"], "urgency"), _level(data["impact"], "impact")
    errors = {}
    if data.get("kind", "incident") not in TICKET_KINDS:
        errors["kind"] = [f"Use one of: {', '.join(TICKET_KINDS)}."]
    if data.get("category", "other") not in TICKET_CATEGORIES:
        errors["category"] = [f"Use one of: {', '.join(TICKET_CATEGORIES)}."]
    service = None
    if data.get("service"):
        service = db.session.scalar(select(IctService).where(IctService.code == data["service"]))
        if service is None:
            errors["service"] = ["No such service in the catalogue."]
    if errors:
        raise ValidationFailed(errors)
    agency = None
    if data.get("agency"):
        agency = db.session.scalar(select(Agency).where(Agency.code == data["agency"].strip().upper()))
        if agency is None:
            raise ValidationFailed({"agency": ["No such agency."]})
    sr = workflow.create_request(actor, states.TICKET, title=data.get("title", ""),
                                 description=data.get("description", ""), agency=agency)
    ticket = IctTicket(request=sr, kind=data.get("kind", "incident"), category=data.get("category", "other"),
                       service=service, urgency=urgency, impact=impact,
                       priority=sla.priority_of(urgency, impact), paused_seconds=0)
    db.session.add(ticket)
    audit.record(actor, "ict.ticket.file", ticket, after=audit.snapshot(ticket))
    workflow.perform(actor, sr, "submit")
    return ticket


def get_ticket(user: User, reference: str) -> IctTicket:
    sr = workflow.get_by_reference(user, reference)
    ticket = states.ticket_of(sr)
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ict_officers() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.OFFICER, UserRole.service_line == LINE, User.active.is_(True))
        .order_by(User.name)).unique())


def assign(actor: User, ticket: IctTicket, officer_email: str, comment: str = "",
           version: int | None = None) -> IctTicket:
    officer = db.session.scalar(select(User).where(User.email == (officer_email or "").strip().lower()))
    if officer is None or not officer.active or not authz.is_officer_for(officer, LINE):
        raise ValidationFailed({"assignee": ["Name an active ICT officer."]})
    ticket.pending_assignee = officer
    workflow.perform(actor, ticket.request, "assign", comment, version)
    if officer.id != actor.id:
        notify(officer, f"{ticket.request.reference} “{ticket.request.title}” was assigned to you "
                        f"({ticket.priority}).", f"/ict/tickets/{ticket.request.reference}")
    return ticket


def reprioritise(actor: User, ticket: IctTicket, urgency: str, impact: str,
                 version: int | None = None) -> IctTicket:
    """A new urgency or impact; the due times are recomputed for the new priority."""
    sr = ticket.request
    authz.ensure_can_change(actor)
    if not (authz.is_officer_for(actor, LINE) or actor.has_role(Role.MANAGER)):
        raise Forbidden("Only an ICT officer or the manager may change a ticket's priority.")
    if version is not None and version != sr.version:
        raise Conflict(f"The ticket was changed by someone else (you had version {version}, it is "
                       f"now version {sr.version}). Reload it and try again.", current_version=sr.version)
    if sr.status not in states.OPEN_TICKET_STATES:
        raise Conflict(f"The ticket is {sr.status.replace('_', ' ')}; its priority no longer changes.")
    u, i = _level(urgency, "urgency"), _level(impact, "impact")
    before = {"urgency": ticket.urgency, "impact": ticket.impact, "priority": ticket.priority,
              "resolve_due_at": ticket.resolve_due_at}
    ticket.urgency, ticket.impact, ticket.priority = u, i, sla.priority_of(u, i)
    sla.Clock().recompute(ticket)
    if before["priority"] != ticket.priority:
        _timeline(actor, sr, "reprioritise", f"{before['priority']} → {ticket.priority}")
    db.session.flush()
    audit.record(actor, "ict.ticket.reprioritise", ticket, before=before,
                 after={"urgency": u, "impact": i, "priority": ticket.priority,
                        "resolve_due_at": ticket.resolve_due_at})
    return ticket


def add_comment(actor: User, ticket: IctTicket, body: str) -> TicketComment:
    """A comment from the requester's agency or the ICT desk; a requester's reply to a
    ticket waiting on them restarts its clock."""
    sr = ticket.request
    authz.ensure_visible(actor, sr.agency_id, "ticket")
    authz.ensure_can_change(actor)
    agency_side = actor.agency_id == sr.agency_id
    if not (agency_side or authz.is_officer_for(actor, LINE) or actor.has_role(Role.MANAGER)):
        raise Forbidden("Only the agency, the ICT officers and the manager comment on a ticket.")
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": ["Write a comment."]})
    if len(body) > 5000:
        raise ValidationFailed({"body": ["At most 5000 characters."]})
    if sr.status in (Status.CANCELLED, states.CLOSED):
        raise Conflict(f"The ticket is {sr.status}; open a new one.")
    comment = TicketComment(ticket=ticket, author_id=actor.id, body=body, at=utcnow())
    db.session.add(comment)
    audit.record(actor, "ict.ticket.comment", comment, after={"ticket": sr.reference, "body": body})
    link = f"/ict/tickets/{sr.reference}"
    if agency_side:
        if sr.status == states.WAITING and "respond" in workflow.allowed_actions(actor, sr):
            workflow.perform(actor, sr, "respond", body)
        if ticket.assignee is not None:
            notify(ticket.assignee, f"{sr.reference}: new comment from {actor.name}.", link)
    elif sr.requester_id != actor.id:
        notify(sr.requester, f"{sr.reference} “{sr.title}”: new comment from {actor.name}.", link)
    return comment


def tickets_query(user: User, *, status: str | None = None, priority: str | None = None,
                  assigned_to_me: bool = False, open_only: bool = False, breached: bool | None = None,
                  sort: str = "time_left"):
    """Tickets the user may see. ``time_left`` puts the clock closest to (or furthest past)
    its resolve due time first; tickets whose clock is stopped come after the running ones."""
    stmt = select(IctTicket).join(ServiceRequest, ServiceRequest.id == IctTicket.request_id)
    if not authz.sees_all_agencies(user):
        stmt = stmt.where(ServiceRequest.agency_id == user.agency_id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    if open_only:
        stmt = stmt.where(ServiceRequest.status.in_(states.OPEN_TICKET_STATES))
    if priority:
        stmt = stmt.where(IctTicket.priority == priority)
    if assigned_to_me:
        stmt = stmt.where(IctTicket.assignee_id == user.id)
    if breached is not None:
        flag = IctTicket.resolve_breached | IctTicket.own_breached
        running = (ServiceRequest.status.in_(states.OPEN_TICKET_STATES)
                   & ServiceRequest.sla_due_at.is_not(None) & (ServiceRequest.sla_due_at < utcnow()))
        own_late = (IctTicket.owned_at.is_(None) & ServiceRequest.status.in_(states.OPEN_TICKET_STATES)
                    & (IctTicket.own_due_at < utcnow()))
        cond = flag | running | own_late
        stmt = stmt.where(cond if breached else ~cond)
    if sort == "time_left":
        return stmt.order_by(ServiceRequest.sla_due_at.is_(None), ServiceRequest.sla_due_at,
                             IctTicket.resolve_due_at, IctTicket.id)
    return stmt.order_by(ServiceRequest.created_at.desc(), IctTicket.id.desc())


@dataclass
class TicketClock:
    """What a page or the API shows of a ticket's clocks at one moment."""

    own_due_at: object
    resolve_due_at: object
    own_left: timedelta | None
    resolve_left: timedelta | None
    paused: bool
    own_breached: bool
    resolve_breached: bool


def clock_of(ticket: IctTicket, clock: sla.Clock | None = None, now=None) -> TicketClock:
    clock = clock or sla.Clock()
    now = now or utcnow()
    open_ = ticket.request.status in states.OPEN_TICKET_STATES
    resolve_left = clock.time_left(ticket, now) if open_ else None
    own_left = clock.own_time_left(ticket, now) if open_ else None
    own_breached = ticket.own_breached or (own_left is not None and own_left < timedelta(0))
    resolve_breached = ticket.resolve_breached or (resolve_left is not None and resolve_left < timedelta(0))
    return TicketClock(ticket.own_due_at, ticket.resolve_due_at, own_left, resolve_left,
                       ticket.paused_since is not None and open_, own_breached, resolve_breached)


def working_calendar() -> WorkingCalendar:
    return WorkingCalendar.of_facility()


def monthly_billing_note(actor, month: date) -> str:
    """The period close's call into ICT (registered by ``jof.ict.install``)."""
    created, existing = bill_month(actor, month)
    return f"ICT monthly billing: {created} new subscription charge(s), {existing} recorded before."
