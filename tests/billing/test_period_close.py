"""Period close end to end over a month of activity (issue 7, acceptance 1 and 3)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from jof.billing import documents, invoices, services
from jof.billing.models import Charge, Invoice
from jof.core.calendar import local_today, next_month
from jof.core.db import db
from jof.core.errors import Conflict
from jof.core.money import rate_for
from jof.governance import cost_sharing as governance
from jof.governance.models import CostPool
from tests.billing.conftest import MONTH, agency, close, record, user

MANAGER = "manager@jof.example"


def test_close_drafts_one_invoice_per_agency_summing_to_fees_pass_through_and_pools(app, month):
    with app.app_context():
        manager = user("manager@jof.example")
        result = services.close_period(manager, month.period)
        db.session.commit()
        assert result.changed
        rows = db.session.scalars(select(Invoice).where(Invoice.period == month.period)).all()
        codes = sorted(i.agency.code for i in rows)
        # six members share the pools; the partner UNAIDS pays its fees only
        assert codes == ["UNAIDS", "UNDP", "UNEP", "UNESCO", "UNFPA", "UNOPS", "UNWOMEN"]
        total = sum((i.total_usd for i in rows), Decimal(0))
        assert total == month.fees + month.pass_through + month.pools
        for inv in rows:
            assert inv.total_usd == sum((ln.amount for ln in inv.lines), Decimal(0))
            assert inv.status == "draft" and inv.number is None
        unaids = next(i for i in rows if i.agency.code == "UNAIDS")
        assert {ln.kind for ln in unaids.lines} == {"fee", "pass_through"}
        assert unaids.total_usd == Decimal("35.00") + Decimal("815.37")
        # the local-currency equivalent at the month's operational rate
        rate = rate_for("BRL", month.period)
        assert unaids.local_currency == "BRL" and unaids.exchange_rate == rate
        assert unaids.total_local == (unaids.total_usd * rate).quantize(Decimal("0.01"))
        # every charge of the month is frozen on its agency's invoice
        assert db.session.scalar(select(func.count(Charge.id)).where(Charge.invoice_id.is_(None))) == 0
        ids = {i.agency_id: i.id for i in rows}
        for charge in db.session.scalars(select(Charge).where(Charge.period == month.period)):
            assert charge.invoice_id == ids[charge.agency_id]


def test_issuing_numbers_gapless_and_the_pdf_shows_number_agency_and_total(app, month):
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        issued = invoices.issue_period(manager, month.period)
        db.session.commit()
        today = local_today()
        assert [i.number for i in issued] == [f"JOF-{today.year}-{n:05d}" for n in range(1, 8)]
        for inv in issued:
            assert inv.issued_on == today and (inv.due_on - inv.issued_on).days == 30
        undp = next(i for i in issued if i.agency.code == "UNDP")
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(documents.invoice_pdf(undp))).pages)
        assert undp.number in text
        assert "United Nations Development Programme" in text
        assert f"USD {undp.total_usd:,.2f}" in text  # grouped
        assert "Page 1 / " in text
        assert "Share of pool" in text  # the cost-share explanation table


def test_closing_twice_changes_nothing_and_says_so(app, month):
    with app.app_context():
        manager = user("manager@jof.example")
        services.close_period(manager, month.period)
        db.session.commit()
        before = [(i.id, i.total_usd) for i in db.session.scalars(select(Invoice).order_by(Invoice.id))]
        again = services.close_period(manager, month.period)
        db.session.commit()
        assert not again.changed
        assert "already closed; nothing changed" in again.message
        assert [(i.id, i.total_usd) for i in db.session.scalars(select(Invoice).order_by(Invoice.id))] == before


def test_a_charge_dated_in_a_closed_period_lands_in_the_next_open_one_with_a_note(app, month):
    with app.app_context():
        services.close_period(user("manager@jof.example"), month.period)
        db.session.commit()
        event = record("UNEP", "TRV-late/ticket", "ticket_issuance", "travel", on=MONTH.replace(day=28))
        db.session.commit()
        charge = db.session.scalar(select(Charge).where(Charge.event_id == event.id))
        following = next_month(MONTH)
        assert charge.period == following
        assert "closed period" in charge.note and f"{following:%Y-%m}" in charge.note
        assert charge.invoice_id is None


def test_a_fee_without_a_price_blocks_the_close_and_leaves_the_period_open(app, month):
    with app.app_context():
        record("UNEP", "X-1", "unknown_service", "procurement")
        db.session.commit()
        with pytest.raises(Conflict, match="unknown_service"):
            services.close_period(user("manager@jof.example"), month.period)
        db.session.rollback()
        assert not services.is_closed(month.period)
        assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_only_the_manager_closes(app, month):
    from jof.core.errors import Forbidden

    with app.app_context():
        for email in ("auditor@jof.example", "head@undp.jof.example", "travel@jof.example"):
            with pytest.raises(Forbidden):
                services.close_period(user(email), month.period)
        assert agency("UNDP") is not None


def test_pools_and_allocation_of_a_closed_period_cannot_change(app, api, month):
    manager = api(MANAGER)
    period = f"{MONTH:%Y-%m}"
    preview = manager.get(f"/api/v1/governance/allocations/preview?period={period}").get_json()
    close(app, month)
    with app.app_context():
        pool_id = db.session.scalar(select(CostPool.id).where(CostPool.period == MONTH, CostPool.category == "staff"))
        shares_before = sorted((s.agency_id, s.amount) for s in governance.recorded_shares(MONTH))
    closed = f"The billing period {period} is closed."
    r = manager.post("/api/v1/governance/allocations", json={"period": period, "confirm": True,
                                                             "digest": preview["digest"]})
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    r = manager.patch(f"/api/v1/governance/cost-pools/{pool_id}", json={"amount": "1.00"})
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    r = manager.delete(f"/api/v1/governance/cost-pools/{pool_id}")
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    with app.app_context():
        assert sorted((s.agency_id, s.amount) for s in governance.recorded_shares(MONTH)) == shares_before
        assert db.session.get(CostPool, pool_id).amount == Decimal("10000.00")
    # the next month is open: pools go in there
    following = f"{next_month(MONTH):%Y-%m}"
    r = manager.post("/api/v1/governance/cost-pools", json={"period": following, "category": "staff",
                                                            "amount": "10.00"})
    assert r.status_code == 201, r.get_json()


def test_a_new_pool_category_in_a_closed_period_is_a_409(app, api, month):
    close(app, month)
    with app.app_context():
        from jof.governance.models import POOL_CATEGORIES

        used = set(db.session.scalars(select(CostPool.category).where(CostPool.period == MONTH)))
        free = next(c for c in POOL_CATEGORIES if c not in used)
    r = api(MANAGER).post("/api/v1/governance/cost-pools", json={"period": f"{MONTH:%Y-%m}", "category": free,
                                                                  "amount": "10.00"})
    assert r.status_code == 409 and f"The billing period {MONTH:%Y-%m} is closed." in r.get_json()["detail"]
