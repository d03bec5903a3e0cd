"""A fixed cost-sharing key weighs member agencies by their code (DESIGN §7).

A code that names no member agency (``UNDPP`` for ``UNDP``, a partner, an agency gone
before the key starts) is refused when the key is proposed; a key that stops fitting
while the board votes is adopted but its effect fails, with the reason; and an
allocation never falls back to equal shares because the key's codes weigh nobody.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.people import Agency
from jof.core.timeutil import utcnow
from jof.governance import cost_sharing
from jof.governance.allocation import AgencyInputs, allocate
from jof.governance.models import AllocationShare, CostSharingKey, Decision
from tests.governance.conftest import MANAGER

FOUNDING = {"equal": "40", "headcount": "60"}


def _month(offset: int) -> date:
    today = utcnow().date()
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def _fixed(**weights: str) -> dict:
    return {"fixed": "100", "fixed_weights": weights}


def _propose(api, components: dict, effective_from: date | None = None):
    return api(MANAGER).post("/api/v1/governance/decisions", json={
        "title": "Fixed cost-sharing key", "kind": "cost_sharing_key",
        "payload": {"effective_from": (effective_from or _month(1)).isoformat(), "components": components}})


def _agency(code: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


# --- when the key is proposed ---------------------------------------------------------------


@pytest.mark.parametrize("code, reason", [
    ("UNDPP", "not an agency"),
    ("UNAIDS", "partner"),
])
def test_a_key_weighing_an_unknown_or_partner_agency_is_refused_when_proposed(board, api, code, reason):
    r = _propose(api, _fixed(UNDP="3", UNFPA="1", **{code: "2"}))
    assert r.status_code == 422, r.get_json()
    messages = r.get_json()["errors"]["payload.fixed_weights"]
    assert [m for m in messages if code in m and reason in m], messages
    assert db.session.scalar(select(func.count(Decision.id)).where(Decision.kind == "cost_sharing_key")) == 1


def test_a_key_weighing_an_agency_gone_before_the_key_starts_is_refused_when_proposed(board, api):
    _agency("UNEP").left_on = _month(1)
    db.session.commit()
    r = _propose(api, _fixed(UNDP="3", UNEP="1"), effective_from=_month(1))
    assert r.status_code == 422, r.get_json()
    assert any("UNEP" in m for m in r.get_json()["errors"]["payload.fixed_weights"])
    # Weighing it for a month it is still there is fine: it shares until it leaves.
    assert _propose(api, _fixed(UNDP="3", UNEP="1"), effective_from=_month(0)).status_code == 201


def test_a_key_weighing_member_agencies_in_lower_case_is_accepted_and_normalised(board, api):
    r = _propose(api, _fixed(undp="3", unfpa="1"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["payload"]["components"]["fixed_weights"] == {"UNDP": "3", "UNFPA": "1"}


def test_the_draft_form_offers_weights_only_to_the_member_agencies(web):
    manager = web(MANAGER)
    page = manager.get("/governance/decisions/new?kind=cost_sharing_key").get_data(as_text=True)
    offered = re.findall(r'name="weight_([A-Z]+)"', page)
    assert offered == ["UNDP", "UNEP", "UNESCO", "UNFPA", "UNOPS", "UNWOMEN"]  # not the partner UNAIDS


# --- when the key is adopted ----------------------------------------------------------------


def _leaves(agency: Agency, day: date) -> None:
    agency.left_on = day


def _made_partner(agency: Agency, day: date) -> None:
    agency.membership = "partner"


@pytest.mark.parametrize("change", [_leaves, _made_partner], ids=["left", "made partner"])
def test_a_key_whose_agency_stopped_being_a_member_while_the_board_voted_fails_with_the_reason(board, change):
    decision = board.open(kind="cost_sharing_key", title="Fixed key", payload={
        "effective_from": _month(1).isoformat(), "components": _fixed(UNDP="3", UNFPA="1")})
    board.votes(decision, yes=4)
    change(_agency("UNFPA"), _month(1))  # meanwhile, behind the vote
    db.session.commit()

    closed = board.close(decision)
    assert closed.outcome == "adopted" and closed.resolution_number
    [effect] = closed.effects
    assert effect.status == "failed", effect.summary
    assert "UNFPA" in effect.summary
    assert db.session.scalar(select(func.count(CostSharingKey.id))) == 1  # the founding key only
    assert cost_sharing.key_in_force(_month(1)).components == FOUNDING
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "decision.effect_failed")) == 1


# --- when a month is allocated --------------------------------------------------------------


def _key_behind_the_services_back(board, components: dict, effective_from: date) -> CostSharingKey:
    """A key stored before codes were checked (or written around the services)."""
    decision = board.draft(title="Old key")
    key = CostSharingKey(components=components, effective_from=effective_from, decision_id=decision.id)
    db.session.add(key)
    db.session.commit()
    return key


def test_allocation_refuses_a_key_naming_no_agency_instead_of_splitting_equally(board, api):
    _key_behind_the_services_back(board, _fixed(UNDPP="1"), _month(1))
    cost_sharing.add_cost_pool(board.user(MANAGER), _month(1), "premises", Decimal("6000.00"))
    db.session.commit()

    with pytest.raises(Conflict) as refused:
        cost_sharing.preview(_month(1))
    assert "UNDPP" in refused.value.detail
    r = api(MANAGER).get(f"/api/v1/governance/allocations/preview?period={_month(1):%Y-%m}")
    assert r.status_code == 409 and "UNDPP" in r.get_json()["detail"], r.get_json()
    with pytest.raises(Conflict):
        cost_sharing.record_allocation(board.user(MANAGER), _month(1))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AllocationShare.id))) == 0


def test_allocation_refuses_a_key_that_weighs_no_member_of_the_month(board):
    # UNFPA was a member when the key was adopted, and has left since.
    _key_behind_the_services_back(board, _fixed(UNFPA="1"), _month(1))
    _agency("UNFPA").left_on = _month(1)
    cost_sharing.add_cost_pool(board.user(MANAGER), _month(1), "premises", Decimal("6000.00"))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        cost_sharing.preview(_month(1))
    assert "UNFPA" in refused.value.detail and "new key" in refused.value.detail


def test_a_fixed_key_weighing_only_agencies_absent_from_the_inputs_is_never_split_equally():
    inputs = [AgencyInputs("UNDP"), AgencyInputs("UNFPA")]
    with pytest.raises(ValidationFailed) as refused:
        allocate(Decimal("100.00"), _fixed(UNDPP="1"), inputs)
    assert "UNDPP" in str(refused.value.errors)


def test_the_weight_of_an_agency_absent_from_the_month_is_left_out_and_the_explanation_says_so():
    inputs = [AgencyInputs("UNDP"), AgencyInputs("UNFPA")]
    shares = allocate(Decimal("100.00"), _fixed(UNDP="3", UNFPA="1", UNHCR="4"), inputs)
    assert {s.code: s.amount for s in shares} == {"UNDP": Decimal("75.00"), "UNFPA": Decimal("25.00")}
    assert all(any("UNHCR" in note for note in s.explanation["notes"]) for s in shares)


def test_a_zero_usage_month_still_splits_its_percentage_equally_as_documented():
    # The one fallback that stays: a method whose inputs are all zero for members present.
    inputs = [AgencyInputs("UNDP"), AgencyInputs("UNFPA")]
    shares = allocate(Decimal("100.00"), {"usage_count": "100"}, inputs)
    assert {s.amount for s in shares} == {Decimal("50.00")}
    assert "split equally" in shares[0].explanation["notes"][0]


def test_the_founding_key_refuses_codes_that_name_no_member(board):
    with pytest.raises(ValidationFailed) as refused:
        cost_sharing.adopt_initial_key(_fixed(UNDPP="1"), _month(0) - timedelta(days=400))
    assert "UNDPP" in str(refused.value.errors)
