"""How the ICT line plugs into the engine: the transition tables name no service, an
import registers nothing, each move's effect is registered by ``install(app)``, and the
data a move needs (the officer of an assignment) travels as the move's payload."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from jof.core import workflow
from jof.core.db import db
from jof.core.errors import Forbidden, ValidationFailed
from jof.core.notifications import Notification
from jof.ict import states
from tests.ict.conftest import user
from tests.ict.test_tickets import ICT, MANAGER, REQUESTER, file, ticket_row

ICT_DIR = Path(__file__).resolve().parents[2] / "jof" / "ict"
#: The line's modules that hold rules (and the effects of its moves).
SERVICE_MODULES = {"services", "catalogue", "subscriptions", "tickets"}


def _imported_ict_modules(path: Path) -> set[str]:
    """Every jof.ict module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "jof.ict":
                found |= {a.name for a in node.names}
            elif node.module.startswith("jof.ict."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("jof.ict.")}
    return found


def test_the_transition_tables_import_no_service_module_not_even_inside_a_function():
    assert _imported_ict_modules(ICT_DIR / "states.py") & SERVICE_MODULES == set()


def test_no_ict_module_is_longer_than_600_lines():
    lengths = {p.name: len(p.read_text().splitlines()) for p in ICT_DIR.glob("*.py")}
    assert {name: n for name, n in lengths.items() if n > 600} == {}


def test_importing_the_ict_modules_registers_nothing():
    code = ("import jof.ict.api, jof.ict.cli, jof.ict.views, jof.ict.states, jof.ict.tickets, "
            "jof.ict.subscriptions, jof.ict.catalogue\n"
            "from jof.core import charges, templating, workflow\n"
            "print(len(workflow.registered_types()), len(charges._monthly_billers), "
            "'resolved' in templating.STATUS_LABELS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ICT_DIR.parents[1])
    assert out.stdout.split() == ["0", "0", "False"]


def test_install_registers_each_moves_effect_and_the_assignment_payload(app):
    ticket = workflow.get_type(states.TICKET)
    subscription = workflow.get_type(states.SUBSCRIPTION)
    assert set(ticket.effects) == {"submit", "take", "assign", "wait", "respond", "resolve", "reopen"}
    assert set(subscription.effects) == {"approve", "complete", "cancel"}
    assert set(ticket.payloads) == {"assign"}


def test_a_second_app_installs_the_line_again_without_a_second_registration(app, tmp_path):
    from jof import create_app
    from jof.core import charges

    before = [t.code for t in workflow.registered_types()], sorted(charges._monthly_billers)
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'second.db'}",
                "SECRET_KEY": "another-test-secret", "TESTING": True, "SERVER_NAME": None})
    assert ([t.code for t in workflow.registered_types()], sorted(charges._monthly_billers)) == before
    assert set(workflow.get_type(states.TICKET).effects) >= {"assign"}


def test_ticket_states_are_a_strenum_and_every_row_names_them(app):
    rows = workflow.get_type(states.TICKET).transitions
    named = {s for t in rows for s in (*t.sources, t.target)}
    assert named == set(states.TicketStatus)
    assert all(isinstance(s, states.TicketStatus) for t in rows for s in (*t.sources, t.target))


def test_an_assignment_sent_as_the_engines_payload_assigns_the_officer_and_tells_them(app, api):
    ref = file(api(REQUESTER))["reference"]
    with app.app_context():
        manager = user(MANAGER)
        sr = workflow.get_by_reference(manager, ref)
        workflow.perform(manager, sr, "assign", "Yours.", version=sr.version, payload={"assignee": ICT})
        db.session.commit()
        row = ticket_row(app, ref)
        assert (sr.status, row.assignee.email) == ("assigned", ICT)
        assert row.owned_at is not None
        officer = user(ICT)
        assert db.session.scalar(select(Notification.id).where(
            Notification.user_id == officer.id, Notification.message.contains("was assigned to you"))) is not None


@pytest.mark.parametrize("payload, field_message", [
    (None, "Name the ICT officer to assign the ticket to."),
    ({"assignee": "not-an-address"}, "Not a valid email address."),
    ({"assignee": "travel@jof.example"}, "Name an active ICT officer."),
])
def test_an_assignment_without_an_ict_officer_is_a_422_and_nothing_moves(app, api, payload, field_message):
    ref = file(api(REQUESTER))["reference"]
    with app.app_context():
        manager = user(MANAGER)
        sr = workflow.get_by_reference(manager, ref)
        with pytest.raises(ValidationFailed) as refused:
            workflow.perform(manager, sr, "assign", payload=payload)
        assert refused.value.errors["assignee"] == [field_message]
        db.session.rollback()
        assert workflow.get_by_reference(manager, ref).status == "new"
        assert ticket_row(app, ref).assignee_id is None


def test_only_the_desk_gets_the_queue_and_the_service_says_so(session, demo):
    from jof.ict import tickets

    with pytest.raises(Forbidden):
        tickets.queue_query(user(REQUESTER))
    assert tickets.queue_query(user(ICT)) is not None


def test_a_billing_month_in_another_scripts_digits_is_refused(app, demo):
    # Full-width digits read as a number by a plain \d pattern; the core month reader
    # takes ASCII only, as everywhere else.
    result = app.test_cli_runner().invoke(args=["ict", "bill-month", "２０２６-０４"])
    assert result.exit_code == 2, result.output
    assert "YYYY-MM" in result.output
