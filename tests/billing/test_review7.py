"""Fixes of the independent billing review 7: bad input is never a 5xx, payments and credit
notes hold under concurrency, a closed period is frozen for governance, partial price lists,
payment dates, the line trigger, local-currency minor units, the stale period ZIP."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from jof.billing import invoices, jobs, pricing, services
from jof.billing.models import Charge, Invoice, InvoiceLine, Payment
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.money import ExchangeRate
from jof.governance import effects
from jof.governance.models import CostPool, Decision
from tests.billing.conftest import MONTH, record, user

MANAGER = "manager@jof.example"


def _close(app, month, issue: tuple[str, ...] = ()) -> dict[str, int]:
    with app.app_context():
        manager = user(MANAGER)
        services.close_period(manager, month.period)
        ids = {i.agency.code: i.id for i in db.session.scalars(select(Invoice))}
        for code in issue:
            invoices.issue(manager, ids[code])
        db.session.commit()
        return ids


# --- item 3: bad input is a 404 or a 422, never a 500 ------------------------------------------


def test_absurd_invoice_ids_and_months_are_404_and_422_not_500(app, api, web, month):
    ids = _close(app, month, issue=("UNDP",))
    manager = api(MANAGER)
    for ref in ("99999999999999999999999", "9" * 19, "%C2%B2", "%D9%A3", "-1", "0"):
        assert manager.get(f"/api/v1/billing/invoices/{ref}").status_code == 404, ref
        assert manager.get(f"/api/v1/billing/invoices/{ref}.pdf").status_code == 404, ref
    assert manager.get(f"/api/v1/billing/invoices/{ids['UNFPA']}").status_code == 200  # a draft by id still works
    r = manager.post("/api/v1/billing/credit-notes", json={"invoice": "99999999999999999999", "reason": "xyz"})
    assert r.status_code == 404
    for bad in ("9999-12", "1999-12", "2100-01", "0000-01"):
        r = manager.post(f"/api/v1/billing/periods/{bad}/close")
        assert r.status_code == 422 and "period" in r.get_json()["errors"], bad
        assert manager.get(f"/api/v1/billing/invoices?period={bad}").status_code == 422, bad
        assert manager.get(f"/api/v1/billing/charges?period={bad}").status_code == 422, bad
    browser = web(MANAGER)
    page = browser.get("/billing/periods?period=9999-12")
    assert page.status_code == 422 and "2099-12" in page.get_data(as_text=True)
    assert browser.get("/billing/periods/9999-12.zip").status_code == 422


# --- item 4: payments and credit notes are checked one after the other -------------------------


def _race(app, invoice_id: int, kind: str, amount: Decimal, workers: int = 6) -> list[str]:
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def worker(n: int):
        with app.app_context():
            manager = user(MANAGER)
            inv = db.session.get(Invoice, invoice_id)
            invoices.balance(inv)  # the collections are loaded before the others commit
            barrier.wait()
            try:
                if kind == "payment":
                    invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount=str(amount),
                                            reference=f"BB-{n}")
                else:
                    invoices.credit_note(manager, inv, reason="Parallel credit", amount=str(amount))
                db.session.commit()
                outcomes.append("ok")
            except ValidationFailed:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


@pytest.mark.postgres_only
def test_parallel_payments_never_exceed_the_balance_nor_credit_notes_the_total(app, month):
    ids = _close(app, month, issue=("UNDP", "UNFPA"))
    with app.app_context():
        totals = {code: db.session.get(Invoice, ids[code]).total_usd for code in ("UNDP", "UNFPA")}
    parts = {code: (t / 3).quantize(Decimal("0.01")) + Decimal("0.01") for code, t in totals.items()}
    expected = ["ok", "ok", "refused", "refused", "refused", "refused"]  # a third one would exceed
    assert _race(app, ids["UNDP"], "payment", parts["UNDP"]) == expected
    assert _race(app, ids["UNFPA"], "credit", parts["UNFPA"]) == expected
    with app.app_context():
        paid = db.session.get(Invoice, ids["UNDP"])
        assert invoices.paid(paid) == 2 * parts["UNDP"] <= totals["UNDP"] and invoices.balance(paid) >= 0
        credited = db.session.get(Invoice, ids["UNFPA"])
        assert invoices.credited(credited) == 2 * parts["UNFPA"] <= totals["UNFPA"]


# --- item 5: a closed period is frozen for governance ------------------------------------------


def test_pools_and_allocation_of_a_closed_period_cannot_change(app, api, month):
    manager = api(MANAGER)
    period = f"{MONTH:%Y-%m}"
    preview = manager.get(f"/api/v1/governance/allocations/preview?period={period}").get_json()
    _close(app, month)
    with app.app_context():
        pool_id = db.session.scalar(select(CostPool.id).where(CostPool.period == MONTH, CostPool.category == "staff"))
        shares_before = sorted((s.agency_id, s.amount) for s in services.governance.recorded_shares(MONTH))
    closed = f"The billing period {period} is closed."
    r = manager.post("/api/v1/governance/allocations", json={"period": period, "confirm": True,
                                                             "digest": preview["digest"]})
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    r = manager.patch(f"/api/v1/governance/cost-pools/{pool_id}", json={"amount": "1.00"})
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    r = manager.delete(f"/api/v1/governance/cost-pools/{pool_id}")
    assert r.status_code == 409 and closed in r.get_json()["detail"]
    with app.app_context():
        assert sorted((s.agency_id, s.amount) for s in services.governance.recorded_shares(MONTH)) == shares_before
        assert db.session.get(CostPool, pool_id).amount == Decimal("10000.00")
    # the next month is open: pools go in there
    following = f"{services.next_month(MONTH):%Y-%m}"
    r = manager.post("/api/v1/governance/cost-pools", json={"period": following, "category": "staff",
                                                            "amount": "10.00"})
    assert r.status_code == 201, r.get_json()


def test_a_new_pool_category_in_a_closed_period_is_a_409(app, api, month):
    _close(app, month)
    with app.app_context():
        from jof.governance.models import POOL_CATEGORIES

        used = set(db.session.scalars(select(CostPool.category).where(CostPool.period == MONTH)))
        free = next(c for c in POOL_CATEGORIES if c not in used)
    r = api(MANAGER).post("/api/v1/governance/cost-pools", json={"period": f"{MONTH:%Y-%m}", "category": free,
                                                                  "amount": "10.00"})
    assert r.status_code == 409 and f"The billing period {MONTH:%Y-%m} is closed." in r.get_json()["detail"]


# --- item 6: partial price lists and their date ---------------------------------------------------


def _adopt(payload: dict) -> Decision:
    decision = Decision(title="Price change", kind="price_list", status="closed", outcome="adopted",
                        payload=effects.validate_payload("price_list", payload))
    db.session.add(decision)
    db.session.flush()
    effects.apply_adopted(decision, user(MANAGER))
    db.session.commit()
    return decision


def test_a_version_repricing_one_item_keeps_the_others_and_withdraw_removes(app, month):
    with app.app_context():
        start = MONTH.replace(day=20)
        before = {i.code: i for i in pricing.in_force(start).items}
        decision = _adopt({"effective_from": start.isoformat(),
                           "items": [{"code": "ticket_issuance", "service_line": "travel", "method": "flat",
                                      "amount": "38.00"}],
                           "withdraw": ["lta_call_off"]})
        assert decision.effects[0].status == "applied", decision.effects[0].summary
        now = {i.code: i for i in pricing.in_force(start).items}
        assert now["ticket_issuance"].amount == Decimal("38.00")
        assert set(now) == set(before) - {"lta_call_off"}
        assert now["micro_purchase"].rate == before["micro_purchase"].rate
        assert now["micro_purchase"].cap == before["micro_purchase"].cap
        record("UNEP", "RFQ-after", "rfq_process", "procurement", on=start)
        db.session.commit()
        assert db.session.scalar(select(Charge.amount).where(Charge.source_ref == "RFQ-after")) == Decimal("350.00")
        # everything else still priced: the month closes
        result = services.close_period(user(MANAGER), month.period)
        assert result.changed


def test_a_price_list_dated_in_a_closed_period_is_refused_at_proposal_and_fails_at_adoption(app, api, month):
    item = {"code": "ticket_issuance", "service_line": "travel", "method": "flat", "amount": "38.00"}
    with app.app_context():  # proposed while the month is open
        payload = effects.validate_payload("price_list", {"effective_from": MONTH.replace(day=20).isoformat(),
                                                          "items": [item]})
    _close(app, month)
    r = api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "Back-dated fee", "kind": "price_list",
        "payload": {"effective_from": MONTH.replace(day=20).isoformat(), "items": [item]}})
    assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"]
    following = services.next_month(MONTH)
    r = api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "Fee from next month", "kind": "price_list",
        "payload": {"effective_from": following.isoformat(), "items": [item]}})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        versions = pricing.in_force(MONTH.replace(day=20)).version
        decision = Decision(title="Adopted before the close", kind="price_list", status="closed",
                            outcome="adopted", payload=payload)
        db.session.add(decision)
        db.session.flush()
        effects.apply_adopted(decision, user(MANAGER))
        db.session.commit()
        assert decision.effects[0].status == "failed"
        assert f"The billing period {MONTH:%Y-%m} is closed" in decision.effects[0].summary
        assert pricing.in_force(MONTH.replace(day=20)).version == versions


def test_withdrawing_an_unknown_item_or_pricing_and_withdrawing_one_is_refused(app, month):
    with app.app_context():
        start = MONTH.replace(day=20).isoformat()
        with pytest.raises(ValidationFailed) as both:
            effects.validate_payload("price_list", {"effective_from": start, "withdraw": ["rfq_process"],
                                                    "items": [{"code": "rfq_process", "service_line": "procurement",
                                                               "amount": "1.00"}]})
        assert "payload.withdraw" in both.value.errors
        decision = _adopt({"effective_from": start, "withdraw": ["no_such_item"]})
        assert decision.effects[0].status == "failed" and "no_such_item" in decision.effects[0].summary


# --- item 9: payment dates -------------------------------------------------------------------------


def test_payment_dates_run_from_the_issue_date_to_tomorrow(app, api, month):
    ids = _close(app, month, issue=("UNDP",))
    manager = api(MANAGER)
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNDP"])
        number, issued_on = inv.number, inv.issued_on
    for bad in ("0001-01-01", "9999-12-31", (issued_on - timedelta(days=1)).isoformat(),
                (issued_on + timedelta(days=2)).isoformat()):
        r = manager.post(f"/api/v1/billing/invoices/{number}/payments",
                         json={"paid_on": bad, "amount": "1.00", "reference": "BB-1"})
        assert r.status_code == 422 and "paid_on" in r.get_json()["errors"], bad
    for good in (issued_on, issued_on + timedelta(days=1)):
        r = manager.post(f"/api/v1/billing/invoices/{number}/payments",
                         json={"paid_on": good.isoformat(), "amount": "1.00", "reference": f"BB-{good}"})
        assert r.status_code == 201, r.get_json()
    with app.app_context():
        assert len(db.session.scalars(select(Payment)).all()) == 2


# --- item 10: a draft line cannot be moved into an issued invoice ---------------------------------


def test_the_database_refuses_moving_a_draft_line_into_an_issued_invoice(app, month):
    ids = _close(app, month, issue=("UNDP",))
    with app.app_context():
        line_id = db.session.scalar(select(InvoiceLine.id).where(InvoiceLine.invoice_id == ids["UNFPA"]).limit(1))
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE invoice_line SET invoice_id = :issued WHERE id = :line"),
                               {"issued": ids["UNDP"], "line": line_id})
        db.session.rollback()
        # moving between drafts is still the draft's business
        db.session.execute(text("UPDATE invoice_line SET invoice_id = :other WHERE id = :line"),
                           {"other": ids["UNESCO"], "line": line_id})
        db.session.rollback()


# --- item 11: the local total in the currency's minor units -----------------------------------------


def test_the_local_total_has_the_minor_units_of_the_local_currency(app, api, month):
    with app.app_context():
        from jof.core.people import Facility

        db.session.get(Facility, 1).local_currency = "CLP"
        db.session.add(ExchangeRate(currency="CLP", month=MONTH, units_per_usd=Decimal("943.123457")))
        db.session.commit()
    ids = _close(app, month, issue=("UNDP",))
    with app.app_context():
        inv = db.session.get(Invoice, ids["UNDP"])
        expected = (inv.total_usd * Decimal("943.123457")).quantize(Decimal(1))
        assert inv.total_local == expected
        assert invoices.local_total(inv) == expected and invoices.local_total(inv).as_tuple().exponent == 0
        number = inv.number
    body = api(MANAGER).get(f"/api/v1/billing/invoices/{number}").get_json()
    assert body["local_currency"] == "CLP" and body["total_local"] == str(expected)


# --- item 12: the period ZIP is never served stale --------------------------------------------------


def test_issuing_paying_or_crediting_drops_the_rendered_period_zip(app, month):
    ids = _close(app, month)
    with app.app_context():
        manager = user(MANAGER)
        path = jobs.zip_path(month.period)
        for step in ("issue", "pay", "credit"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"PK stale")
            inv = db.session.get(Invoice, ids["UNDP"])
            if step == "issue":
                invoices.issue(manager, inv.id)
            elif step == "pay":
                invoices.record_payment(manager, inv, paid_on=inv.issued_on, amount="1.00", reference="BB-9")
            else:
                invoices.credit_note(manager, inv, reason="Seat counted twice", amount="1.00")
            db.session.commit()
            assert not path.exists(), step
