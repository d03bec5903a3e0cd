"""Administration of the facility's people and reference data (agencies, users, rates)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jof.core import audit, auth, authz, calendar
from jof.core.apikit import DecimalString
from jof.core.db import db
from jof.core.errors import Conflict, NotFound, ValidationFailed
from jof.core.money import CURRENCIES, ExchangeRate, MoneyError, to_decimal
from jof.core.people import (
    AGENCY_ROLES,
    FACILITY_ROLES,
    SERVICE_LINES,
    SINGLE_HOLDER_ROLES,
    Agency,
    AgencyHeadcount,
    Membership,
    Role,
    User,
    UserRole,
)
from jof.core.timeutil import utcnow

AGENCY_FIELDS = ("name", "country", "membership", "joined_on", "left_on", "approval_limit_usd",
                 "address")


def _admin(actor: User) -> None:
    authz.ensure_can_change(actor)
    authz.require_roles(actor, Role.ADMIN, why="Only an administrator manages agencies, users and rates.")


def get_agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code.upper()))
    if agency is None:
        raise NotFound(f"No agency with code {code!r}.")
    return agency


def create_agency(actor: User, data: dict) -> Agency:
    _admin(actor)
    code = data["code"].strip().upper()
    if db.session.scalar(select(Agency.id).where(Agency.code == code)):
        raise ValidationFailed({"code": [f"An agency with code {code} already exists."]})
    agency = Agency(code=code, **{k: data[k] for k in AGENCY_FIELDS if k in data})
    agency.membership = agency.membership or Membership.MEMBER
    db.session.add(agency)
    _set_headcounts(agency, data.get("headcounts"))
    _check_dates(agency)
    audit.record(actor, "agency.create", agency, after=audit.snapshot(agency))
    return agency


def update_agency(actor: User, agency: Agency, data: dict) -> Agency:
    _admin(actor)
    before = audit.snapshot(agency)
    for key in AGENCY_FIELDS:
        if key in data:
            setattr(agency, key, data[key])
    if "alternate_email" in data:
        agency.alternate_id = _alternate(agency, data["alternate_email"])
    _set_headcounts(agency, data.get("headcounts"))
    _check_dates(agency)
    audit.record(actor, "agency.update", agency, before=before, after=audit.snapshot(agency))
    return agency


def _alternate(agency: Agency, email: str | None) -> int | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == auth.normalise_email(email)))
    if user is None or user.agency_id != agency.id:
        raise ValidationFailed({"alternate_email": [f"The alternate must be a user of {agency.code}."]})
    return user.id


def _check_dates(agency: Agency) -> None:
    if agency.left_on and agency.joined_on and agency.left_on <= agency.joined_on:
        raise ValidationFailed({"left_on": ["Must be after the date the agency joined."]})


def _set_headcounts(agency: Agency, headcounts: list[dict] | None) -> None:
    if headcounts is None:
        return
    years = [item["year"] for item in headcounts]
    twice = sorted({y for y in years if years.count(y) > 1})
    if twice:  # the schemas refuse it too; the unique key would fail at flush otherwise
        raise ValidationFailed({"headcounts": [f"Year {y} is given more than once." for y in twice]})
    by_year = {h.year: h for h in agency.headcounts}
    for item in headcounts:
        row = by_year.get(item["year"])
        if row is None:
            agency.headcounts.append(AgencyHeadcount(year=item["year"], headcount=item["headcount"]))
        else:
            row.headcount = item["headcount"]


def get_user(actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if not actor.has_role(Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.RESIDENT_COORDINATOR) and user.id != actor.id:
        authz.ensure_visible(actor, user.agency_id, "user")
    return user


def users_query(actor: User):
    stmt = select(User).order_by(User.email)
    if not authz.sees_all_agencies(actor):
        stmt = stmt.where(User.agency_id == actor.agency_id)
    return stmt


def _check_roles(agency_id: int | None, roles: list[str], lines: list[str], user_id: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    for role in SINGLE_HOLDER_ROLES & set(roles):
        message = _single_holder_taken(role, user_id)
        if message:
            errors["roles"] = [message]
    if not roles:
        errors["roles"] = ["Give the user at least one role."]
    allowed = AGENCY_ROLES if agency_id else FACILITY_ROLES
    wrong = [r for r in roles if r not in allowed]
    if wrong:
        kind = "agency staff" if agency_id else "facility staff"
        errors["roles"] = [f"{', '.join(wrong)} cannot be given to {kind}; allowed: "
                           f"{', '.join(sorted(allowed))}."]
    if Role.OFFICER in roles and not lines:
        errors["service_lines"] = ["An officer works on at least one service line."]
    bad_lines = [s for s in lines if s not in SERVICE_LINES]
    if bad_lines:
        errors["service_lines"] = [f"Unknown service line(s): {', '.join(bad_lines)}."]
    return errors


def _single_holder_taken(role: str, user_id: int | None) -> str | None:
    """Why ``role`` cannot go to the user ``user_id`` (None: a new account): another
    account holds it (even a deactivated one: the role must be removed from it first)."""
    holder = db.session.scalar(select(User).where(
        User.id != (user_id or 0), User.id.in_(select(UserRole.user_id).where(UserRole.role == role))))
    if holder is None:
        return None
    state = "" if holder.active else " (deactivated)"
    return (f"The facility has one {role.replace('_', ' ')}: {holder.email}{state}. "
            "Remove the role from that account first.")


def _apply_roles(user: User, roles: list[str], lines: list[str]) -> None:
    user.role_rows.clear()
    db.session.flush()
    try:
        # The database has the last word on single-holder roles: when another admin named
        # a Resident Coordinator a moment ago, the check above saw nothing yet and the
        # unique index refuses this row; the answer is the check's own message.
        with db.session.begin_nested():
            for role in sorted(set(roles)):
                if role == Role.OFFICER:
                    for line in sorted(set(lines)):
                        user.role_rows.append(UserRole(role=role, service_line=line))
                else:
                    user.role_rows.append(UserRole(role=role))
    except IntegrityError:
        with db.session.no_autoflush:
            messages = [m for r in sorted(SINGLE_HOLDER_ROLES & set(roles)) if (m := _single_holder_taken(r, user.id))]
        if not messages:
            raise
        raise ValidationFailed({"roles": messages}) from None


def create_user(actor: User | None, data: dict) -> User:
    """Create an account; ``actor`` None is the operator's command line."""
    if actor is not None:
        _admin(actor)
    email = auth.normalise_email(data["email"])
    errors: dict[str, list[str]] = {}
    if db.session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = ["A user with this e-mail already exists."]
    agency = None
    if data.get("agency"):
        try:
            agency = get_agency(data["agency"])
        except NotFound as exc:  # a field of the form, not a missing page
            errors["agency"] = [exc.detail]
    roles = list(data.get("roles") or [])
    lines = list(data.get("service_lines") or [])
    if "agency" not in errors:
        errors.update(_check_roles(agency.id if agency else None, roles, lines))
    try:
        auth.validate_new_password(data.get("password", ""))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    user = User(email=email, name=data["name"].strip(), agency_id=agency.id if agency else None,
                password_hash=auth.hash_password(data["password"]),
                locale=data.get("locale") or "en", active=True, session_version=1,
                created_at=utcnow())
    db.session.add(user)
    _apply_roles(user, roles, lines)
    audit.record(actor, "user.create", user,
                 after={**audit.snapshot(user), "roles": roles, "service_lines": lines})
    return user


def update_user(actor: User, user: User, data: dict) -> User:
    _admin(actor)
    before = {**audit.snapshot(user), "roles": sorted(user.roles), "service_lines": sorted(user.service_lines)}
    if "name" in data:
        user.name = data["name"].strip()
    if "locale" in data:
        user.locale = data["locale"]
    if "active" in data and data["active"] != user.active:
        if user.id == actor.id and not data["active"]:
            raise Conflict("You cannot deactivate your own account.")
        user.active = data["active"]
        user.session_version += 1
        auth.revoke_all_tokens(actor, user)
    if "roles" in data or "service_lines" in data:
        roles = list(data.get("roles", user.roles))
        lines = list(data.get("service_lines", user.service_lines))
        errors = _check_roles(user.agency_id, roles, lines, user.id)
        if errors:
            raise ValidationFailed(errors)
        _apply_roles(user, roles, lines)
    if data.get("password"):
        auth.validate_new_password(data["password"])
        user.password_hash = auth.hash_password(data["password"])
        user.session_version += 1
        auth.revoke_all_tokens(actor, user)
    audit.record(actor, "user.update", user, before=before,
                 after={**audit.snapshot(user), "roles": sorted(user.roles),
                        "service_lines": sorted(user.service_lines)})
    return user


def set_locale(actor: User, locale: str, languages: dict) -> None:
    if locale not in languages:
        raise ValidationFailed({"locale": [f"Choose one of: {', '.join(languages)}."]})
    before = {"locale": actor.locale}
    actor.locale = locale
    audit.record(actor, "user.locale", actor, before=before, after={"locale": locale})


# --- UN operational rates of exchange ----------------------------------------------------


def parse_month(text: str) -> date | None:
    """``YYYY-MM`` as the first of that month, or None when it is not a month JOF
    accepts (core's calendar: 2000-01 to 2099-12; ``0000-01`` names no month at all)."""
    try:
        return calendar.parse_month(text)
    except ValidationFailed:
        return None


def set_rate(actor: User, currency: str, month: date | str, units_per_usd: Decimal) -> ExchangeRate:
    """Set one month's rate; ``month`` is a date or ``YYYY-MM``, read only once the actor
    is known to be the administrator (nobody else learns what is wrong with the data)."""
    _admin(actor)
    errors = _rate_errors(currency, units_per_usd)
    if isinstance(month, str):
        month = parse_month(month)
        if month is None:
            errors["month"] = [calendar.MONTH_MESSAGE]
    if errors:
        raise ValidationFailed(errors)
    month = month.replace(day=1)
    row = db.session.scalar(select(ExchangeRate).where(ExchangeRate.currency == currency,
                                                       ExchangeRate.month == month))
    before = audit.snapshot(row) if row else None
    if row is None:
        row = ExchangeRate(currency=currency, month=month, created_at=utcnow(), created_by_id=actor.id)
        db.session.add(row)
    row.units_per_usd = units_per_usd
    audit.record(actor, "exchange_rate.set", row, before=before, after=audit.snapshot(row))
    return row


def _rate_errors(currency: str, rate) -> dict:
    errors: dict[str, list[str]] = {}
    if currency not in CURRENCIES or currency == "USD":
        errors["currency"] = [f"Unknown or base currency {currency!r}."]
    try:
        rate = to_decimal(rate)
        if rate <= 0:
            errors["units_per_usd"] = ["Must be positive."]
        elif rate >= DecimalString.MAX_ABS:  # the API's bound; the column overflows beyond
            errors["units_per_usd"] = ["The rate is too large."]
        elif rate != rate.quantize(Decimal("0.000001")):
            errors["units_per_usd"] = ["At most 6 decimals."]
    except MoneyError as exc:
        errors["units_per_usd"] = [str(exc)]
    except InvalidOperation:  # a quantize beyond the decimal context's precision
        errors["units_per_usd"] = ["The rate has too many digits."]
    return errors


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[dict] = field(default_factory=list)


def import_rates_csv(actor: User, text: str) -> ImportReport:
    """Import ``currency,month,units_per_usd`` rows (month as YYYY-MM).

    All or nothing: when any row is rejected nothing is written, and the report says
    which rows and why, so the file can be fixed and sent again.
    """
    _admin(actor)
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    expected = {"currency", "month", "units_per_usd"}
    if not reader.fieldnames or not expected <= {f.strip() for f in reader.fieldnames}:
        raise ValidationFailed({"file": ["The CSV needs the columns currency, month, units_per_usd."]})
    parsed = []
    for lineno, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        currency = row["currency"].upper()
        errors = _rate_errors(currency, row["units_per_usd"])
        month_date = parse_month(row["month"])
        if month_date is None:
            errors["month"] = [calendar.MONTH_MESSAGE]
        if errors:
            report.rejected.append({"line": lineno, "errors": errors})
            continue
        parsed.append((currency, month_date, to_decimal(row["units_per_usd"])))
    if not parsed and not report.rejected:
        raise ValidationFailed({"file": ["The CSV has no rows."]})
    if report.rejected:
        return report
    for currency, month_date, rate in parsed:
        set_rate(actor, currency, month_date, rate)
        report.imported += 1
    return report
