"""The ICT service catalogue (DESIGN §5): what the desk sells, by the seat or by the unit,
and the demo catalogue with the public holidays its SLA clocks skip.

Every function takes the acting user explicitly, never commits, and writes its audit
event in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from jof.core import audit, authz
from jof.core.calendar import Holiday, local_today
from jof.core.db import db
from jof.core.errors import NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.ict.models import SERVICE_KINDS, IctService

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


def load_demo_catalogue(first_year: int | None = None, last_year: int | None = None) -> None:
    """Add the demo services that are missing, and the public holidays the service desk's
    SLA clocks skip (``jof demo load`` calls this; the demo history names its years)."""
    for code, name, kind, price, description in DEMO_CATALOGUE:
        if db.session.scalar(select(IctService.id).where(IctService.code == code)) is None:
            db.session.add(IctService(code=code, name=name, kind=kind, unit_price_usd=Decimal(price),
                                      description=description, active=True))
    load_demo_holidays(first_year, last_year)
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


def load_demo_holidays(first_year: int | None = None, last_year: int | None = None) -> None:
    """Brazil's national holidays from ``first_year`` to the year after ``last_year``
    (both default: this year), those not there already (the facility adds its local ones
    on the holiday list)."""
    year = local_today().year
    known = set(db.session.scalars(select(Holiday.day)))
    for y in range(min(first_year or year, year), max(last_year or year, year) + 2):
        for day, name in brazil_holidays(y):
            if day in known:
                continue
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


def may_edit(user: User) -> bool:
    """Whether the user edits the catalogue (the page shows the forms to them)."""
    return user.has_role(Role.MANAGER, Role.ADMIN)


def _require_catalogue_admin(actor: User) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.MANAGER, Role.ADMIN,
                        why="Only the facility manager or an administrator edits the catalogue.")


def catalogue_for(user: User) -> list[IctService]:
    """The catalogue as the user sees it: those who edit it also see withdrawn services."""
    return list(db.session.scalars(services_query(include_inactive=may_edit(user))))


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

