"""The demo's procurement data: the founding manual and a few suppliers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from jof.core.db import db
from jof.core.timeutil import utcnow
from jof.procurement.manual import DEMO_MANUAL, activate_manual
from jof.procurement.models import (
    ProcurementManual,
    Supplier,
)

DEMO_SUPPLIERS = [
    ("Tecnologia Planalto Ltda", "11.222.333/0001-81", ["4321"]),
    ("Brasília Informática S.A.", "22.333.444/0001-92", ["43211503", "4322"]),
    ("Cerrado Office Supplies Ltda", "33.444.555/0001-03", ["44", "4512"]),
]


def load_demo() -> None:
    """The founding manual (DESIGN §3) and a few suppliers; loading twice changes nothing."""
    if db.session.scalar(select(ProcurementManual.id).limit(1)) is None:
        activate_manual(DEMO_MANUAL, date(2020, 10, 1), None)
    for name, tax_id, categories in DEMO_SUPPLIERS:
        if db.session.scalar(select(Supplier.id).where(Supplier.country == "BR", Supplier.tax_id == tax_id)) is None:
            db.session.add(Supplier(name=name, country="BR", tax_id=tax_id, categories=categories,
                                    contact_name="", contact_email="", contact_phone="", status="active",
                                    status_reason="", status_since=date(2024, 1, 1), created_at=utcnow()))
