"""What an adopted decision changes, from its effective date; a rejected one changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.people import Agency
from jof.core.timeutil import utcnow
from jof.governance import cost_sharing, decisions, effects
from jof.governance.models import CostSharingKey, Decision, DecisionEffect
from tests.governance.conftest import MANAGER, MEMBERS, head_email


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
        cost_sharing.add_cost_pool(board.user(MANAGER), period, "premises", Decimal(amount))
    db.session.commit()


def test_the_demo_starts_with_a_founding_key_adopted_as_the_first_resolution(board):
    year = utcnow().year
    key = cost_sharing.key_in_force(date(year, 1, 1))
    assert key.components == {"equal": "40", "headcount": "60"}
    assert key.decision.resolution_number == f"RES-{year}-001"
    assert key.decision.outcome == "adopted"
    assert cost_sharing.key_in_force(date(year - 1, 12, 31)) is None


def test_an_adopted_key_is_used_from_its_effective_date_and_not_before(board):
    before, after = _month(0), _month(1)
    _pools(board, before, after)
    decision = _key_decision(board, {"equal": "100"}, after)
    board.votes(decision, yes=4)
    assert board.close(decision).outcome == "adopted"

    old_key, old = cost_sharing.preview(before)
    assert old_key.components == {"equal": "40", "headcount": "60"}
    assert len({s.amount for s in old[0].shares}) > 1  # headcount weighs in

    new_key, new = cost_sharing.preview(after)
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
    assert cost_sharing.preview(period)[0].components == {"equal": "40", "headcount": "60"}
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
    assert "UNHCR" in [i.code for i in cost_sharing.period_inputs(_month(0))]


def test_an_agency_joining_later_becomes_a_voting_member_on_its_date(board):
    day = utcnow().date() + timedelta(days=30)
    joining = _join(board, "UNHCR", day)
    board.votes(joining, yes=6)
    assert "UNHCR" not in [v.agency.code for v in board.open(title="Opened now").voters]
    assert "UNHCR" not in [a.code for a in decisions.voting_members(day)]

    decisions.close_due(now=utcnow() + timedelta(days=29))  # the day before: still waiting
    assert db.session.scalar(select(Agency).where(Agency.code == "UNHCR")) is None
    decisions.close_due(now=utcnow() + timedelta(days=30))
    unhcr = db.session.scalar(select(Agency).where(Agency.code == "UNHCR"))
    assert unhcr.joined_on == day and unhcr.membership == "member"
    assert "UNHCR" in [a.code for a in decisions.voting_members(day)]
    assert "UNHCR" not in [a.code for a in decisions.voting_members(day - timedelta(days=1))]


def test_a_partner_made_member_from_a_later_date_does_not_vote_before_it(board):
    from jof.governance.decisions import voting_members

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
    decisions.close_due(now=utcnow() + timedelta(days=31))
    assert effects.apply_pending(today=day) == 0  # close_due did it already
    decisions.close_due(now=utcnow() + timedelta(days=32))
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


def _propose(api, kind: str, payload: dict):
    return api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "An effect", "kind": kind, "payload": payload})


JOIN = {"effective_from": "2030-01-01", "action": "join", "agency": "UNHCR",
        "name": "United Nations High Commissioner for Refugees", "country": "BR"}


@pytest.mark.parametrize("change, field", [
    ({"country": 12}, "payload.country"),
    ({"country": "BRAZIL"}, "payload.country"),
    ({"country": None}, "payload.country"),
    ({"agency": 5}, "payload.agency"),
    ({"agency": "U" * 21}, "payload.agency"),
    ({"agency": "UN HCR"}, "payload.agency"),
    ({"name": "N" * 201}, "payload.name"),
    ({"name": 7}, "payload.name"),
    ({"action": ["join"]}, "payload.action"),
    ({"membership": "observer"}, "payload.membership"),
    ({"headcount": 10}, "payload.headcount"),
])
def test_a_membership_payload_of_the_wrong_type_or_length_is_refused_when_proposed(board, api, change, field):
    r = _propose(api, "membership", {**JOIN, **change})
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()


def test_a_membership_payload_is_normalised_when_proposed(board, api):
    r = _propose(api, "membership", {**JOIN, "agency": " unhcr ", "country": "br"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["payload"] == {**JOIN, "membership": "member"}


def test_a_membership_payload_spoilt_behind_the_services_back_fails_its_effect_not_the_vote(board, api):
    decision = _join(board, "UNHCR", utcnow().date())
    db.session.execute(update(Decision).where(Decision.id == decision.id).values(
        payload={**decision.payload, "country": "BRAZIL"}))
    db.session.commit()
    board.votes(decision, yes=5)
    r = api(head_email("UNWOMEN")).put(f"/api/v1/governance/decisions/{decision.id}/vote", json={"choice": "yes"})
    assert r.status_code == 200, r.get_json()  # the last vote closes the decision

    db.session.expire_all()
    closed = db.session.get(Decision, decision.id)
    assert closed.status == "closed" and closed.outcome == "adopted"
    [effect] = closed.effects
    assert effect.status == "failed" and "ISO 3166" in effect.summary
    assert db.session.scalar(select(Agency).where(Agency.code == "UNHCR")) is None
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "decision.effect_failed")) == 1


def test_an_agency_cannot_leave_on_or_before_the_day_it_joined(board, api):
    for day in ("2024-01-01", "2023-06-30"):  # UNDP joined on 2024-01-01
        r = _propose(api, "membership", {"effective_from": day, "action": "leave", "agency": "UNDP"})
        assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"], r.get_json()
    assert _propose(api, "membership", {"effective_from": "2024-01-02", "action": "leave",
                                        "agency": "UNDP"}).status_code == 201


def test_a_leave_that_became_impossible_while_waiting_for_its_day_fails_and_changes_nothing(board):
    day = utcnow().date() + timedelta(days=30)
    decision = board.open(kind="membership", title="UNDP leaves", payload={
        "effective_from": day.isoformat(), "action": "leave", "agency": "UNDP"})
    board.votes(decision, yes=6)
    # Meanwhile an administrator corrects UNDP's joining date to after that day.
    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    undp.joined_on = day + timedelta(days=1)
    db.session.commit()

    decisions.close_due(now=utcnow() + timedelta(days=31))
    db.session.commit()
    db.session.expire_all()
    effect = db.session.scalar(select(DecisionEffect).where(DecisionEffect.decision_id == decision.id))
    assert effect.status == "failed" and "only leave after" in effect.summary
    assert db.session.get(Agency, undp.id).left_on is None
    assert effects.apply_pending(today=day + timedelta(days=2)) == 0  # a failed effect is not retried


@pytest.mark.parametrize("day", [date(1990, 1, 1), _month(-1), _month(0) - timedelta(days=1)])
def test_a_key_cannot_take_effect_before_this_month(board, api, day):
    r = _propose(api, "cost_sharing_key", {"effective_from": day.isoformat(), "components": {"equal": "100"}})
    assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"], r.get_json()
    assert _propose(api, "cost_sharing_key", {"effective_from": _month(0).isoformat(),
                                              "components": {"equal": "100"}}).status_code == 201


def test_a_key_cannot_take_effect_in_or_before_a_recorded_month(board, api):
    _pools(board, _month(1))
    cost_sharing.record_allocation(board.user(MANAGER), _month(1), cost_sharing.preview_digest(_month(1)))
    db.session.commit()
    for day in (_month(0), _month(1), _month(1) + timedelta(days=14)):
        r = _propose(api, "cost_sharing_key", {"effective_from": day.isoformat(), "components": {"equal": "100"}})
        assert r.status_code == 422 and "payload.effective_from" in r.get_json()["errors"], (day, r.get_json())
    assert _propose(api, "cost_sharing_key", {"effective_from": _month(2).isoformat(),
                                              "components": {"equal": "100"}}).status_code == 201


def test_a_key_whose_month_was_recorded_while_the_board_voted_fails_and_closing_goes_on(board):
    _pools(board, _month(0))
    decision = _key_decision(board, {"equal": "100"}, _month(0))
    board.votes(decision, yes=4)
    cost_sharing.record_allocation(board.user(MANAGER), _month(0), cost_sharing.preview_digest(_month(0)))
    db.session.commit()

    closed = board.close(decision)
    assert closed.outcome == "adopted" and closed.resolution_number
    [effect] = closed.effects
    assert effect.status == "failed" and "recorded already" in effect.summary
    assert db.session.scalar(select(func.count(CostSharingKey.id))) == 1  # the founding key only
    assert cost_sharing.key_in_force(_month(0)).components == {"equal": "40", "headcount": "60"}


@pytest.mark.parametrize("components", [
    {"fixed": "100", "fixed_weights": ["UNDP", "3"]},
    {"fixed": "100", "fixed_weights": "UNDP"},
    {"fixed": "100", "fixed_weights": {"UNDP": "1e5000"}},
    {"fixed": "100", "fixed_weights": {"UNDP": "1e999999999"}},
    {"equal": "100", "headcount": "1e-40"},
])
def test_a_key_that_would_break_allocation_is_refused_when_proposed(board, api, components):
    r = _propose(api, "cost_sharing_key", {"effective_from": _month(1).isoformat(), "components": components})
    assert r.status_code == 422, r.get_json()
    assert any(k.startswith("payload.") for k in r.get_json()["errors"]), r.get_json()


def test_a_founding_key_is_numbered_in_the_year_it_is_adopted_not_the_year_it_takes_effect(board):
    year = utcnow().year
    key = cost_sharing.adopt_initial_key({"equal": "100"}, date(year - 3, 1, 1))
    db.session.commit()
    assert key.decision.resolution_number == f"RES-{year}-002"
