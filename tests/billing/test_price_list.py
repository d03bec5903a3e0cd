"""The price list: a version reprices some items and keeps the rest, withdraws others, and
takes effect only in an open billing month (DESIGN §7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.billing import pricing, services
from jof.billing.models import Charge
from jof.core.calendar import next_month
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.governance import effects
from jof.governance.models import Decision
from tests.billing.conftest import MONTH, close, record, user

MANAGER = "manager@jof.example"


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
    close(app, month)
    r = api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "Back-dated fee", "kind": "price_list",
        "payload": {"effective_from": MONTH.replace(day=20).isoformat(), "items": [item]}})
    assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"]
    following = next_month(MONTH)
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


def test_a_fee_above_the_one_amount_ceiling_or_below_zero_is_refused_naming_the_field(app, month):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            pricing.validate_items([
                {"code": "a", "service_line": "travel", "amount": "1000000000000"},
                {"code": "b", "service_line": "travel", "amount": "-1"}])
        assert refused.value.errors == {"items.0.amount": ["The amount is too large."],
                                        "items.1.amount": ["Must not be negative."]}
