"""The Brazil pilot as demo data (DESIGN §1, §10); loading twice changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jof.core import audit, auth
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.money import ExchangeRate
from jof.core.people import Agency, AgencyHeadcount, Facility, Membership, Role, User, UserRole
from jof.core.timeutil import utcnow

AGENCIES = [
    # code, name, membership, headcount
    ("UNDP", "United Nations Development Programme", Membership.MEMBER, 120),
    ("UNFPA", "United Nations Population Fund", Membership.MEMBER, 35),
    ("UNESCO", "United Nations Educational, Scientific and Cultural Organization", Membership.MEMBER, 48),
    ("UNWOMEN", "UN Women", Membership.MEMBER, 22),
    ("UNOPS", "United Nations Office for Project Services", Membership.MEMBER, 60),
    ("UNEP", "United Nations Environment Programme", Membership.MEMBER, 15),
    ("UNAIDS", "Joint United Nations Programme on HIV/AIDS", Membership.PARTNER, 12),
]

FACILITY_USERS = [
    ("manager@jof.example", "Facility Manager", [Role.MANAGER], []),
    ("procurement@jof.example", "Procurement Officer", [Role.OFFICER], ["procurement"]),
    ("travel@jof.example", "Travel Officer", [Role.OFFICER], ["travel"]),
    ("ict@jof.example", "ICT Officer", [Role.OFFICER], ["ict"]),
    ("hr@jof.example", "HR Officer", [Role.OFFICER], ["hr"]),
    ("hr2@jof.example", "HR Officer (recruitment)", [Role.OFFICER], ["hr"]),
    ("auditor@jof.example", "Auditor", [Role.AUDITOR], []),
    ("admin@jof.example", "Administrator", [Role.ADMIN], []),
    ("rc@jof.example", "Resident Coordinator", [Role.RESIDENT_COORDINATOR], []),
]

#: Illustrative BRL operational rates (units per USD) for the demo year.
DEMO_BRL_RATES = {1: "5.400000", 2: "5.380000", 3: "5.350000", 4: "5.300000", 5: "5.320000",
                  6: "5.410000", 7: "5.450000", 8: "5.470000", 9: "5.420000", 10: "5.390000",
                  11: "5.360000", 12: "5.340000"}


@dataclass
class DemoResult:
    #: The password of the users it is printed with (the created ones, or when none was
    #: created every existing one); None when it would not open any of them.
    password: str | None
    created_users: list[str]
    existing_users: list[str]


def _user(email: str, name: str, agency: Agency | None, roles, lines, pw_hash: str,
          created: list, existing: list) -> None:
    if db.session.scalar(select(User.id).where(User.email == email)):
        existing.append(email)
        return
    user = User(email=email, name=name, agency_id=agency.id if agency else None,
                password_hash=pw_hash, locale="en", active=True, session_version=1,
                created_at=utcnow())
    for role in roles:
        if role == Role.OFFICER:
            user.role_rows.extend(UserRole(role=role, service_line=line) for line in lines)
        else:
            user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    created.append(email)


#: A made-up Brazilian IBAN whose check digits are right (bank 00000000, branch 00001).
DEMO_IBAN = "BR15 0000 0000 0000 1093 2840 814P 2"


def load(password: str | None = None, since: date | None = None, until: date | None = None) -> DemoResult:
    """The facility, its agencies, users and founding data; loading twice changes nothing.

    The dated data (founding key, price list, exchange rates, headcounts, DSA rates,
    holidays) covers the years from ``since`` to ``until`` (each default: today). The
    demo history passes its first month and today, and loads with the clock held at the
    start of its first month, so the facility is founded before its history begins.
    """
    password = password or secrets.token_urlsafe(12)
    pw_hash = auth.hash_password(password)
    if db.session.get(Facility, 1) is None:
        db.session.add(Facility(id=1, name="Joint Operations Facility Brazil", country="BR",
                                time_zone="America/Sao_Paulo", base_currency="USD",
                                local_currency="BRL", invoice_prefix="JOF",
                                work_start_minute=8 * 60, work_end_minute=18 * 60,
                                address="Casa da ONU, Setor de Embaixadas Norte, Brasília - DF",
                                # Fictitious account (a valid IBAN shape) for the demo invoices.
                                bank_name="Banco Demonstração S.A., agência Brasília",
                                bank_account_holder="Joint Operations Facility Brazil",
                                bank_account=DEMO_IBAN, bank_swift="DEMOBRDFXXX",
                                payment_reference="{invoice} / {agency}"))
    today = local_today()
    first_year = (since or today).year
    year = max((until or today).year, first_year)
    years = range(first_year, year + 1)
    for code, name, membership, headcount in AGENCIES:
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            agency = Agency(code=code, name=name, country="BR", membership=membership,
                            joined_on=date(2024, 1, 1), approval_limit_usd=Decimal("10000.00"),
                            address=f"{name}, Brasília - DF, Brazil")
            agency.headcounts.extend(AgencyHeadcount(year=y, headcount=headcount) for y in years)
            db.session.add(agency)
    db.session.flush()
    for day in (date(y, month, 1) for y in years for month in DEMO_BRL_RATES):
        rate = DEMO_BRL_RATES[day.month]
        if not db.session.scalar(select(ExchangeRate.id).where(ExchangeRate.currency == "BRL",
                                                               ExchangeRate.month == day)):
            db.session.add(ExchangeRate(currency="BRL", month=day, units_per_usd=Decimal(rate),
                                        created_at=utcnow()))
    created: list[str] = []
    existing: list[str] = []
    for code, _name, _m, _h in AGENCIES:
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        low = code.lower()
        _user(f"requester@{low}.jof.example", f"{code} Requester", agency, [Role.REQUESTER], [],
              pw_hash, created, existing)
        _user(f"head@{low}.jof.example", f"{code} Head of Agency", agency, [Role.AGENCY_HEAD], [],
              pw_hash, created, existing)
    for email, name, roles, lines in FACILITY_USERS:
        _user(email, name, None, roles, lines, pw_hash, created, existing)
    db.session.flush()
    from jof.governance import cost_sharing

    if cost_sharing.key_in_force(date(first_year, 1, 1)) is None:
        # The facility starts with a key its members adopted when they created it.
        cost_sharing.adopt_initial_key({"equal": "40", "headcount": "60"}, date(first_year, 1, 1))
    from jof.procurement import demo as procurement_demo

    procurement_demo.load_demo()
    from jof.ict import catalogue as ict

    ict.load_demo_catalogue(first_year, year)
    from jof.travel import rates as travel

    for y in years:
        travel.load_demo_rates(y)
    from jof.billing import pricing

    pricing.load_demo_prices(date(first_year, 1, 1))
    if created:
        audit.record(None, "demo.load", object_type="demo", object_id="brazil-pilot",
                     after={"users": created})
    if created:
        known = password  # the users just created have it
    else:
        # Say a password only when it is really theirs: ``make run`` passes the same stored
        # password every time, so its logins are printed on every run; a password
        # generated now (or a different --password) was given to nobody.
        users = db.session.scalars(select(User).where(User.email.in_(existing))).all()
        known = password if users and all(auth.check_password(u, password) for u in users) else None
    return DemoResult(known, created, existing)


def load_recruitments() -> bool:
    """The demo's recruitments (``jof/hr/demo.py``): a completed one whose passing
    candidates make the Finance G-6 roster, one filed from that roster, and an open one.
    Played through the HR services after :func:`load` (and after the history, which
    starts only on a database without requests); loading twice changes nothing."""
    from jof.hr import demo as hr_demo

    return hr_demo.load_demo()


def describe(result: DemoResult) -> str:
    lines = ["JOF demo data (Brazil pilot) loaded."]
    if result.password:
        lines.append(f"Demo logins, all with password: {result.password}")
        lines += [f"  {email}" for email in result.created_users or result.existing_users]
    if result.existing_users and (result.created_users or not result.password):
        lines.append("Demo logins that already existed (their passwords were left unchanged):")
        lines += [f"  {email}" for email in result.existing_users]
    return "\n".join(lines)
