"""Billing fixtures: a month of demo activity recorded through the real ledger entry points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.billing import invoices, services
from jof.billing.models import Invoice
from jof.core import charges
from jof.core.db import db
from jof.core.people import Agency, User
from jof.governance import cost_sharing as governance

YEAR = date.today().year
#: Last month: a month that is over (the ICT line bills only finished months).
MONTH = date(YEAR - 1, 12, 1) if date.today().month == 1 else date(YEAR, date.today().month - 1, 1)


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def agency(code: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def record(code: str, ref: str, item: str, line: str, qty="1", value="0.00", on=None, kind="fee"):
    return charges.record(user("travel@jof.example"), source_ref=ref, service_line=line, agency=agency(code),
                          service_item=item, quantity=Decimal(qty), value_usd=Decimal(value),
                          delivered_on=on or MONTH.replace(day=10), kind=kind)


@dataclass
class Month:
    period: date
    fees: Decimal
    pass_through: Decimal
    pools: Decimal


@pytest.fixture
def month(app, demo) -> Month:
    """March: tickets, RFQs, email seats and micro-purchases of several agencies, plus two pools."""
    with app.app_context():
        if MONTH.year < YEAR:  # January: the demo's rates, prices and key start this year
            from jof.billing import pricing
            from jof.core.money import ExchangeRate

            db.session.add(ExchangeRate(currency="BRL", month=MONTH, units_per_usd=Decimal("5.34")))
            pricing.create_version(pricing.DEMO_ITEMS, MONTH)
            governance.adopt_initial_key({"equal": "40", "headcount": "60"}, MONTH)
        d = MONTH.replace(day=12)
        fees = Decimal(0)
        for n, code in enumerate(["UNDP", "UNDP", "UNDP", "UNAIDS"]):
            record(code, f"TRV-{YEAR}-0000{n}/ticket", "ticket_issuance", "travel", on=d)
            record(code, f"TRV-{YEAR}-0000{n}/fare", "air_fare", "travel", value=f"{812 + n}.37", on=d,
                   kind="pass_through")
            fees += Decimal("35.00")
        record("UNFPA", f"PRC-{YEAR}-00001/rfq", "rfq_process", "procurement", on=d)
        record("UNFPA", f"PRC-{YEAR}-00002/rfq", "rfq_process", "procurement", on=d)
        record("UNFPA", f"PRC-{YEAR}-00003/itb", "itb_process", "procurement", on=d)
        fees += Decimal("350.00") * 2 + Decimal("1200.00")
        record("UNESCO", f"ICT-SUB-1/{MONTH:%Y-%m}", "email_account", "ict", qty="15", on=d)
        fees += Decimal("180.00")
        # 2% of value, floor 25, cap 100: 500 → 25 (floor), 10,000 → 100 (cap), 3,000.50 → 60.01
        for n, (value, fee) in enumerate([("500.00", "25.00"), ("10000.00", "100.00"), ("3000.50", "60.01")]):
            record("UNWOMEN", f"PRC-{YEAR}-0010{n}/micro", "micro_purchase", "procurement", value=value, on=d)
            fees += Decimal(fee)
        manager = user("manager@jof.example")
        governance.add_cost_pool(manager, MONTH, "staff", "10000.00")
        governance.add_cost_pool(manager, MONTH, "premises", "3333.33")
        db.session.commit()
        pass_through = sum((Decimal(f"{812 + n}.37") for n in range(4)), Decimal(0))
        return Month(MONTH, fees, pass_through, Decimal("13333.33"))


def close(app, month, issue: tuple[str, ...] = ()) -> dict[str, int]:
    """Close the month as the manager and issue the invoices of ``issue``; ids by agency code."""
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        ids = {i.agency.code: i.id for i in db.session.scalars(select(Invoice))}
        for code in issue:
            invoices.issue(manager, ids[code])
        db.session.commit()
        return ids
