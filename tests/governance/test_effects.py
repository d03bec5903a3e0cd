"""What an adopted decision changes, from its effective date; a rejected one changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.people import Agency
from jof.core.timeutil import utcnow
from jof.governance import effects, services
from jof.governance.models import CostSharingKey, Decision, DecisionEffect
from tests.governance.conftest import MANAGER, MEMBERS


def _month(offset: int) -> date:
    """The first day of the month ``offset`` months from now."""
    today = utcnow().date()
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def _key_decision(board, components: dict, effective_from: date, **kw) -> Decision:
    return board.open(kind="cost_sharing_key", title="New cost-sharing key",
                      payload={"effective_from": effective_from.isoformat(), "components": components}, **kw)


def _pools(board, *periods: date, amount: str = "6000.00") -> None:
    for period in periods:
        services.add_cost_pool(board.user(MANAGER), period, "premises", Decimal(amount))
    db.session.commit()


def test_the_demo_starts_with_a_founding_key_adopted_as_the_first_resolution(board):
    year = utcnow().year
    key = services.key_in_force(date(year, 1, 1))
    assert key.components == {"equal": "40", "headcount": "60"}
    assert key.decision.resolution_number == f"RES-{year}-001"
    assert key.decision.outcome == "adopted"
    assert services.key_in_force(date(year - 1, 12, 31)) is None


def test_an_adopted_key_is_used_from_its_effective_date_and_not_before(board):
    before, after = _month(0), _month(1)
    _pools(board, before, after)
    decision = _key_decision(board, {"equal": "100"}, after)
    board.votes(decision, yes=4)
    assert board.close(decision).outcome == "adopted"

    old_key, old = services.preview(before)
    assert old_key.components == {"equal": "40", "headcount": "60"}
    assert len({s.amount for s in old[0].shares}) > 1  # headcount weighs in

    new_key, new = services.preview(after)
    assert new_key.decision_id == decision.id and new_key.effective_from == after
    assert {s.amount for s in new[0].shares} == {Decimal("1000.00")}
    effect = db.session.scalar(select(DecisionEffect).where(DecisionEffect.decision_id == decision.id))
    assert effect.status == "applied" and effect.effective_from == after


@pytest.mark.parametrize("votes", [{"no": 4}, {"yes": 2}])
def test_a_rejected_or_inquorate_key_changes_nothing(board, votes):
    period = _month(1)
    _pools(board, period)
    keys_before = db.session.scalar(select(func.count(CostSharingKey.id)))
    decision = _key_decision(board, {"equal": "100"}, period)
    board.votes(decision, **votes)
    assert board.close(decision).outcome in ("rejected", "no_quorum")

    assert db.session.scalar(select(func.count(CostSharingKey.id))) == keys_before
    assert services.preview(period)[0].components == {"equal": "40", "headcount": "60"}
    assert db.session.scalar(select(func.count(DecisionEffect.id)).where(
        DecisionEffect.decision_id == decision.id)) == 0


def test_a_key_decision_needs_a_valid_payload(board, api):
    bad = {"title": "Key", "kind": "cost_sharing_key",
           "payload": {"effective_from": "2030-01-01", "components": {"equal": "50", "headcount": "40"}}}
    r = api(MANAGER).post("/api/v1/governance/decisions", json=bad)
    assert r.status_code == 422 and "payload.components" in r.get_json()["errors"]
    undated = {"title": "Key", "kind": "cost_sharing_key", "payload": {"components": {"equal": "100"}}}
    r = api(MANAGER).post("/api/v1/governance/decisions", json=undated)
    assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"]
    general = {"title": "Lunch", "kind": "general", "payload": {"effective_from": "2030-01-01"}}
    assert api(MANAGER).post("/api/v1/governance/decisions", json=general).status_code == 422


def _join(board, code: str, day: date, **kw) -> Decision:
    return board.open(kind="membership", title=f"{code} joins the facility", payload={
        "effective_from": day.isoformat(), "action": "join", "agency": code,
        "name": "United Nations High Commissioner for Refugees", "country": "BR", "membership": "member"},
        **kw)


def test_an_agency_joining_today_votes_on_decisions_opened_afterwards(board):
    earlier = board.open(title="Opened before the join")
    joining = _join(board, "UNHCR", utcnow().date())
    board.votes(joining, yes=6)  # everyone voted: closes at once and takes effect
    db.session.refresh(joining)
    assert joining.outcome == "adopted"
    unhcr = db.session.scalar(select(Agency).where(Agency.code == "UNHCR"))
    assert unhcr.membership == "member" and unhcr.joined_on == utcnow().date()

    later = board.open(title="Opened after the join")
    assert [v.agency.code for v in later.voters] == sorted([*MEMBERS, "UNHCR"])
    # The snapshot of a decision opened before the join does not move.
    db.session.refresh(earlier)
    assert [v.agency.code for v in earlier.voters] == MEMBERS
    assert "UNHCR" in [i.code for i in services.period_inputs(_month(0))]


def test_an_agency_joining_later_becomes_a_voting_member_on_its_date(board):
    day = utcnow().date() + timedelta(days=30)
    joining = _join(board, "UNHCR", day)
    board.votes(joining, yes=6)
    assert "UNHCR" not in [v.agency.code for v in board.open(title="Opened now").voters]
    assert "UNHCR" not in [a.code for a in services.voting_members(day)]

    services.close_due(now=utcnow() + timedelta(days=29))  # the day before: still waiting
    assert db.session.scalar(select(Agency).where(Agency.code == "UNHCR")) is None
    services.close_due(now=utcnow() + timedelta(days=30))
    unhcr = db.session.scalar(select(Agency).where(Agency.code == "UNHCR"))
    assert unhcr.joined_on == day and unhcr.membership == "member"
    assert "UNHCR" in [a.code for a in services.voting_members(day)]
    assert "UNHCR" not in [a.code for a in services.voting_members(day - timedelta(days=1))]


def test_a_partner_made_member_from_a_later_date_does_not_vote_before_it(board):
    from jof.governance.services import voting_members

    day = utcnow().date() + timedelta(days=30)
    decision = board.open(kind="membership", title="UNAIDS becomes a member", payload={
        "effective_from": day.isoformat(), "action": "change", "agency": "UNAIDS", "membership": "member"})
    board.votes(decision, yes=6)
    db.session.refresh(decision)
    assert decision.outcome == "adopted"

    today = utcnow().date()
    assert "UNAIDS" not in [a.code for a in voting_members(today)]
    assert "UNAIDS" not in [v.agency.code for v in board.open(title="Opened today").voters]
    unaids = db.session.scalar(select(Agency).where(Agency.code == "UNAIDS"))
    assert unaids.membership == "partner" and unaids.is_active_on(today)
    effect = db.session.scalar(select(DecisionEffect).where(DecisionEffect.decision_id == decision.id))
    assert effect.status == "scheduled"

    # On its date the scheduled run applies it, once.
    services.close_due(now=utcnow() + timedelta(days=31))
    assert effects.apply_pending(today=day) == 0  # close_due did it already
    services.close_due(now=utcnow() + timedelta(days=32))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(DecisionEffect, effect.id).status == "applied"
    assert "UNAIDS" in [a.code for a in voting_members(day)]
    assert db.session.get(Agency, unaids.id).joined_on == date(2024, 1, 1)  # its history stays
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "agency.membership")) == 1


def test_a_membership_change_of_an_unknown_agency_is_refused_when_proposed(board, api):
    r = api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "XYZ leaves", "kind": "membership",
        "payload": {"effective_from": "2030-01-01", "action": "leave", "agency": "XYZ"}})
    assert r.status_code == 422
    assert "payload.agency" in r.get_json()["errors"]


@pytest.fixture
def without_manual_module(monkeypatch):
    """Procurement manuals have no owning module in this test, whatever is installed."""
    monkeypatch.delitem(effects._APPLIERS, "procurement_manual", raising=False)
    monkeypatch.delitem(effects._VALIDATORS, "procurement_manual", raising=False)
    yield
    effects._APPLIERS.pop("procurement_manual", None)


@pytest.mark.usefixtures("without_manual_module")
def test_an_effect_without_its_module_stays_pending_until_the_module_applies_it_once(board, app):
    payload = {"effective_from": utcnow().date().isoformat(), "version": "2026.2", "chapters": ["RFQ"]}
    decision = board.open(kind="procurement_manual", title="Procurement manual 2026.2", payload=payload)
    board.votes(decision, yes=4)
    assert board.close(decision).outcome == "adopted"
    effect = db.session.scalar(select(DecisionEffect).where(DecisionEffect.decision_id == decision.id))
    assert effect.status == "pending" and effect.applied_at is None
    assert "no module" in effect.summary

    applied: list[tuple[int, dict]] = []

    def apply_manual(decision, payload, actor):
        applied.append((decision.id, dict(payload)))
        return f"Procurement manual {payload['version']} in force."

    effects.register("procurement_manual", lambda p: p, apply_manual)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["governance", "apply-pending"])
    second = runner.invoke(args=["governance", "apply-pending"])
    assert "applied 1 pending effect" in first.output, first.output
    assert "applied 0 pending effect" in second.output, second.output
    assert applied == [(decision.id, payload)]

    db.session.expire_all()
    effect = db.session.get(DecisionEffect, effect.id)
    assert effect.status == "applied" and effect.applied_at is not None
    assert effect.summary == "Procurement manual 2026.2 in force."
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "decision.effect_applied", AuditEvent.object_id == str(decision.id))) == 1


@pytest.mark.usefixtures("without_manual_module")
def test_a_rejected_effect_is_never_applied(board):
    payload = {"effective_from": utcnow().date().isoformat(), "version": "2026.2"}
    decision = board.open(kind="procurement_manual", title="Procurement manual 2026.2", payload=payload)
    board.votes(decision, no=4)
    assert board.close(decision).outcome == "rejected"
    calls = []
    effects.register("procurement_manual", lambda p: p, lambda *a: calls.append(a) or "done")
    assert effects.apply_pending() == 0
    assert calls == []
    assert db.session.scalar(select(func.count(DecisionEffect.id))) == 1  # the founding key only


def test_a_price_list_decision_without_billing_stays_pending_and_changes_nothing(board, monkeypatch):
    monkeypatch.delitem(effects._APPLIERS, "price_list", raising=False)
    monkeypatch.delitem(effects._VALIDATORS, "price_list", raising=False)
    payload = {"effective_from": utcnow().date().isoformat(), "items": {"ticket_issuance": "40.00"}}
    decision = board.open(kind="price_list", title="Price list 2027", payload=payload)
    board.votes(decision, yes=6)
    db.session.refresh(decision)
    assert decision.outcome == "adopted"
    assert [(e.kind, e.status) for e in decision.effects] == [("price_list", "pending")]
    assert db.session.scalar(select(func.count(CostSharingKey.id))) == 1
