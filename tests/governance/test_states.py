"""The board's state tables: a decision is drafted, opened and closed once; an effect is
applied or failed once. Every undeclared move is a 409 naming the actions possible now."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from jof.core import statetable
from jof.core.db import db
from jof.core.errors import Conflict
from jof.core.timeutil import utcnow
from jof.governance import decisions
from jof.governance.models import Decision, DecisionEffect
from jof.governance.states import DECISIONS, EFFECTS, DecisionStatus, EffectStatus, Outcome
from tests.governance.conftest import MANAGER


def test_the_boards_tables_are_declared_with_the_core():
    nouns = [t.noun for t in statetable.tables()]
    assert "decision" in nouns and "decision effect" in nouns


@pytest.mark.parametrize("table", [DECISIONS, EFFECTS], ids=lambda t: t.noun)
def test_every_undeclared_move_is_a_409_naming_the_actions_possible_now(table):
    assert table.illegal_moves()
    for state, action in table.illegal_moves():
        obj = SimpleNamespace(status=table.states(state))
        with pytest.raises(Conflict) as refused:
            table.move(obj, action)
        assert refused.value.extra["allowed_actions"] == table.actions_from(state)
        assert obj.status == state  # nothing moved


def test_a_closed_decision_is_final_and_an_applied_or_failed_effect_too():
    assert DECISIONS.actions_from(DecisionStatus.CLOSED) == []
    assert EFFECTS.actions_from(EffectStatus.APPLIED) == []
    assert EFFECTS.actions_from(EffectStatus.FAILED) == []


def test_opening_a_closed_decision_answers_409_with_the_allowed_actions(board, api):
    decision = board.open()
    board.votes(decision, yes=6)  # everyone voted: it closes at once
    r = api(MANAGER).post(f"/api/v1/governance/decisions/{decision.id}/open",
                          json={"closes_at": (utcnow() + timedelta(days=3)).isoformat()})
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["allowed_actions"] == []
    assert "closed" in r.get_json()["detail"]


def test_closing_a_draft_answers_409_saying_it_must_be_opened_first(board, api):
    decision = board.draft()
    r = api(MANAGER).post(f"/api/v1/governance/decisions/{decision.id}/close")
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["allowed_actions"] == ["open"]
    db.session.expire_all()
    assert db.session.get(Decision, decision.id).status == DecisionStatus.DRAFT


def test_statuses_are_enums_in_python_and_plain_text_in_the_database(board):
    decision = board.open()
    board.votes(decision, yes=6)
    db.session.expire_all()
    closed = db.session.get(Decision, decision.id)
    assert closed.status is DecisionStatus.CLOSED and closed.outcome is Outcome.ADOPTED
    raw = db.session.execute(text("SELECT status, outcome FROM decision WHERE id = :id"),
                             {"id": decision.id}).one()
    assert tuple(raw) == ("closed", "adopted")
    founding = db.session.scalars(select(DecisionEffect)).first()
    assert founding.status is EffectStatus.APPLIED


def test_the_founding_decision_walks_the_declared_moves(board):
    # Recorded as opened and closed the same instant, adopted, with its effect applied.
    decision = decisions.record_founding(None, title="Founding rule", kind="general",
                                         text="Agreed when the facility was created.", payload=None)
    assert decision.status is DecisionStatus.CLOSED and decision.outcome is Outcome.ADOPTED
    assert decision.opened_at == decision.closed_at and decision.resolution_number
