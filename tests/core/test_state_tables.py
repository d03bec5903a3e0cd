"""Every declared table refuses every move it does not declare, with the engine's 409.

The tables are walked as the installed app has them, so a line that adds a state or an
action is covered without a new test."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from jof.core import statetable, workflow
from jof.core.db import db
from jof.core.errors import Conflict
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest

MANAGER = "manager@jof.example"

#: Every table a line (or core: the job queue's "job") declares today; one that stops declaring one fails here.
EXPECTED_TABLES = {"job", "billing period", "decision", "decision effect", "invoice", "lot",
                   "purchase order", "supplier", "tender", "travel stage"}


@pytest.mark.usefixtures("app")
def test_every_object_with_a_status_has_a_declared_table():
    assert EXPECTED_TABLES <= {t.noun for t in statetable.tables()}


@pytest.mark.usefixtures("app")
def test_each_state_table_refuses_every_undeclared_move_with_a_409():
    tried = 0
    for table in statetable.tables():
        assert table.illegal_moves(), f"the {table.noun} table allows everything"
        for state, action in table.illegal_moves():
            obj = SimpleNamespace(**{table.attribute: table.states(state)})
            with pytest.raises(Conflict) as refused:
                table.move(obj, action)
            assert refused.value.status == 409
            assert refused.value.extra["allowed_actions"] == table.actions_from(state)
            assert f"'{action}' is not possible while the {table.noun}" in refused.value.detail
            assert getattr(obj, table.attribute) == state  # nothing moved
            tried += 1
    assert tried > 0


@pytest.mark.usefixtures("app")
def test_each_state_table_takes_its_declared_moves_to_their_targets():
    for table in statetable.tables():
        for move in table.moves:
            for source in move.sources:
                obj = SimpleNamespace(**{table.attribute: table.states(source)})
                assert table.move(obj, move.action) == (source, move.target)
                got = getattr(obj, table.attribute)
                assert got == move.target and isinstance(got, table.states)


def test_each_request_type_refuses_every_undeclared_move_with_a_409(session, demo):
    """A bare request of each registered type, put in each of its states, is asked for
    every action its table does not allow from there: 409, and nothing changes."""
    manager = db.session.scalar(select(User).where(User.email == MANAGER))
    agency = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    requester = db.session.scalar(select(User).where(User.email == "requester@undp.jof.example"))
    tried = 0
    for rt in workflow.registered_types():
        actions = sorted({t.action for t in rt.transitions})
        for state in rt.states:
            refused_here = [a for a in actions
                            if not any(t.action == a and state in t.sources for t in rt.transitions)]
            if not refused_here:
                continue
            now = utcnow()
            sr = ServiceRequest(reference=f"WALK-{rt.code}-{state}"[:30], request_type=rt.code,
                                agency=agency, agency_id=agency.id, requester=requester,
                                requester_id=requester.id, title="walk", status=state,
                                created_at=now, status_changed_at=now)
            db.session.add(sr)
            db.session.flush()
            for action in refused_here:
                with pytest.raises(Conflict) as refused:
                    workflow.perform(manager, sr, action, comment="walk")
                assert refused.value.status == 409
                assert "allowed_actions" in refused.value.extra
                assert (sr.status, sr.version) == (state, 1)
                tried += 1
    db.session.rollback()
    assert tried > 0
