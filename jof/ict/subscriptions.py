"""ICT subscriptions (DESIGN §5): an agency's order of seats of a catalogue service, its
seat periods, and the monthly charges prorated by day.

Every function takes the acting user explicitly, never commits, and writes its audit
event in the caller's transaction. Status changes go through :func:`workflow.perform`;
what a move does to the subscription is one of the effects at the end of this module,
which ``jof.ict.install`` names in the request type (:data:`EFFECTS`).
"""

from __future__ import annotations

import calendar as pycalendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import accounts, audit, authz, calendar, charges, templating, workflow
from jof.core.calendar import local_today
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jof.core.money import quantize
from jof.core.people import Agency, Role, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from jof.ict import states
from jof.ict.models import IctService, IctSubscription, SubscriptionPeriod
from jof.ict.states import SUBSCRIPTION_LIVE, note_on_timeline

LINE = states.SERVICE_LINE


#: Order dates (first day, last day, a change of seats) lie in this window: nothing the
#: facility served before 2000, and no order more than 5 years ahead.
EARLIEST_DAY = date(2000, 1, 1)
YEARS_AHEAD = 5


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


#: The service a new staff member's account is ordered as (core.accounts).
ACCOUNT_SERVICE = "email_account"


def file_account(actor: User, order: accounts.AccountOrder) -> str:
    """Another line's request for a new person's account (HR's onboarding): one seat of
    the e-mail account from the person's first day, filed as a draft in the agency's
    name for ``order.requester``, who submits it (the agency pays for the seat), and
    marked with the reference it was filed for. Registered with ``core.accounts`` by
    ``jof.ict.install``; answers the new request's reference."""
    service = db.session.scalar(select(IctService).where(IctService.code == ACCOUNT_SERVICE))
    if service is None or not service.active:
        raise Conflict("The ICT catalogue offers no e-mail account to order.")
    _check_dates(starts_on=order.starts_on)
    sr = workflow.create_request(
        actor, states.SUBSCRIPTION, agency=order.agency, requester=order.requester,
        title=f"{service.name} for {order.person}, from {order.starts_on.isoformat()} ({order.filed_for})",
        description=f"Filed by the onboarding of {order.filed_for}.",
        amount_usd=quantize(service.unit_price_usd * 12))
    sub = IctSubscription(request=sr, service=service, seats=1, starts_on=order.starts_on,
                          filed_for=order.filed_for)
    db.session.add(sub)
    db.session.flush()
    audit.record(actor, "ict.subscription.order", sub, after=audit.snapshot(sub))
    return sr.reference


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


def agency_filter_for(user: User) -> list[Agency]:
    """The agencies the subscriptions page filters on: every agency for facility staff,
    none for an agency's own people (they see only theirs)."""
    if not user.is_facility_staff:
        return []
    return list(db.session.scalars(select(Agency).order_by(Agency.code)))


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


def may_change(user: User, sub: IctSubscription) -> bool:
    """Whether the subscription page offers the user to change seats or end the service."""
    return (not authz.is_read_only(user) and sub.service.recurring
            and sub.request.status in SUBSCRIPTION_LIVE)


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
        raise Conflict(_("Only an approved or active subscription changes; this one is %(status)s.",
                         status=templating.status_label(sub.request.status).lower()))


def _billed_from(sub: IctSubscription, day: date) -> bool:
    """Whether a monthly charge of the subscription exists for ``day``'s month or later."""
    first = day.replace(day=1)
    return db.session.scalar(select(ChargeableEvent.id).where(
        ChargeableEvent.source_ref.like(f"{sub.request.reference}/P%"),
        ChargeableEvent.delivered_on >= first).limit(1)) is not None


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
    note_on_timeline(actor, sub.request, "change_seats",
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
    note_on_timeline(actor, sub.request, "end", f"last day of service {last_day.isoformat()}")
    audit.record(actor, "ict.subscription.end", sub, before=before, after={"ends_on": last_day})
    return sub


def _billed_through(sub: IctSubscription) -> date:
    day = db.session.scalar(select(ChargeableEvent.delivered_on).where(
        ChargeableEvent.source_ref.like(f"{sub.request.reference}/P%")).order_by(
        ChargeableEvent.delivered_on.desc()).limit(1))
    return day or date.min


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
    """``YYYY-MM`` (read by :func:`jof.core.calendar.parse_month`) → the month's first day,
    within the window of order dates: a month can only be billed if it could be ordered."""
    earliest, latest = date_window(today)
    window = f"Expected a month from {earliest:%Y-%m} to {latest:%Y-%m}."
    try:
        month = calendar.parse_month(text, "month")
    except ValidationFailed:
        # A well-formed month outside JOF's years (9999-12) is told the ICT window.
        if isinstance(text, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text.strip(), re.ASCII):
            raise ValidationFailed({"month": [window]}) from None
        raise
    if not earliest.replace(day=1) <= month <= latest.replace(day=1):
        raise ValidationFailed({"month": [window]})
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


def monthly_billing_note(actor, month: date) -> str:
    """The period close's call into ICT (registered by ``jof.ict.install``)."""
    created, existing = bill_month(actor, month)
    return f"ICT monthly billing: {created} new subscription charge(s), {existing} recorded before."


# --- effects of the moves (named in the request type by jof.ict.install) ------------------


def start_first_period(sr: ServiceRequest, user: User, _payload=None) -> None:
    """Approval starts the first seat period of a recurring service."""
    sub = states.subscription_of(sr)
    if sub is not None and sub.service.recurring and not sub.periods:
        sub.periods.append(SubscriptionPeriod(seq=1, seats=sub.seats, starts_on=sub.starts_on,
                                              ends_on=sub.ends_on, created_at=sr.status_changed_at,
                                              created_by_id=user.id))


def record_one_off(sr: ServiceRequest, user: User, _payload=None) -> ChargeableEvent | None:
    """A delivered one-off service (laptop set-up) is chargeable once, when completed."""
    sub = states.subscription_of(sr)
    if sub is None or sub.service.recurring:
        return None
    return charges.record(
        user, source_ref=f"{sub.request.reference}/one-off", service_line=LINE, agency=sub.request.agency,
        service_item=sub.service.code, quantity=Decimal(sub.seats),
        value_usd=quantize(sub.service.unit_price_usd * sub.seats), delivered_on=local_today(),
        description=f"{sub.seats} × {sub.service.name}")


def trim_on_cancel(sr: ServiceRequest, _user: User, _payload=None) -> None:
    """A cancelled subscription serves no day after today: later periods go, the open one ends."""
    sub = states.subscription_of(sr)
    if sub is None or not sub.periods:
        return
    today = local_today()
    for period in list(sub.periods):
        if period.starts_on > today:
            sub.periods.remove(period)
        elif period.ends_on is None or period.ends_on > today:
            period.ends_on = today
    if sub.periods:
        sub.ends_on = min(sub.ends_on or today, today)


#: action → effect, for the ``ict_subscription`` request type.
EFFECTS = {"approve": start_first_period, "complete": record_one_off, "cancel": trim_on_cancel}
