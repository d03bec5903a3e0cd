"""The travel line's tables: the stage is a declared table whose undeclared moves are a
409, the transition table reads no service module, and the request type's effects and
payload schemas are registered by ``install``, not by importing a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jof.core import statetable, workflow
from jof.core.errors import Conflict
from jof.travel import schemas
from jof.travel.models import Stage, TravelRequest
from jof.travel.states import STAGES, TYPE

STATES = Path(__file__).resolve().parents[2] / "jof" / "travel" / "states.py"


def test_the_stage_table_is_declared_with_the_other_state_tables():
    assert STAGES in statetable.tables()
    assert [s.value for s in Stage] == ["", "quoted", "ticketed", "travelled", "claimed", "settled"]


@pytest.mark.parametrize("state, action", STAGES.illegal_moves())
def test_every_undeclared_stage_move_is_a_409_that_changes_nothing(state, action):
    tr = TravelRequest(stage=Stage(state))
    with pytest.raises(Conflict) as exc:
        STAGES.move(tr, action)
    assert exc.value.extra["allowed_actions"] == STAGES.actions_from(state)
    assert tr.stage == state


def test_the_declared_stage_moves_follow_the_facilitys_steps():
    tr = TravelRequest(stage=Stage.NONE)
    for action, target in (("quote", "quoted"), ("quote", "quoted"), ("ticket", "ticketed"),
                           ("mark_travelled", "travelled"), ("claim", "claimed"), ("settle", "settled")):
        STAGES.move(tr, action)
        assert tr.stage == target and isinstance(tr.stage, Stage)


def test_the_transition_table_imports_no_service_module():
    tree = ast.parse(STATES.read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    travel = {m for m in imported if m and m.startswith("jof.travel")}
    assert travel <= {"jof.travel.models", "jof.travel.queries"}, travel
    assert not any("services" in (m or "") for m in imported)


def test_install_registers_each_steps_effect_and_payload_schema(app):
    rt = workflow.get_type(TYPE)
    assert rt.payloads == {"quote": schemas.QuotePayload, "ticket": schemas.TicketPayload,
                           "claim": schemas.ClaimPayload, "cancel": schemas.CancellationPayload}
    assert set(rt.effects) == {t.action for t in rt.transitions}
