"""The audit trail: hash-chained, written with the change, and `jof audit verify` finds tampering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from jof.core import audit
from jof.core.audit import AuditEvent
from jof.core.counters import Counter
from jof.core.db import db
from jof.core.workflow import ServiceRequest
from tests.conftest import audit_guard_lifted


def run_verify(app):
    """``jof audit verify`` through Flask's CLI runner: (exit code, all output)."""
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def seqs(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))


def raw(app, sql: str, **params) -> int:
    """Raw SQL against the trail, as someone who owns the schema would tamper with it
    (lifting the append-only triggers first, as such a person can)."""
    with app.app_context(), db.engine.begin() as conn, audit_guard_lifted(conn):
        return conn.execute(text(sql), params).rowcount


@pytest.fixture
def trail(app, make):
    """A trail of a dozen or more events: demo data plus requests walked through the workflow."""
    make.request(status="approved")
    make.request("requester@unfpa.jof.example", status="completed")
    make.request(status="submitted")
    chain = seqs(app)
    assert len(chain) >= 12
    assert chain == list(range(1, len(chain) + 1))
    return chain


def test_intact_trail_verifies(app, trail):
    code, output = run_verify(app)
    assert code == 0, output
    assert f"intact: {len(trail)} events checked" in output
    with app.app_context():
        result = audit.verify()
        assert result.ok and result.checked == len(trail)
        assert db.session.scalar(select(Counter.value).where(Counter.key == "audit_chain")) == len(trail)


def test_the_real_command_exits_non_zero_naming_the_tampered_event(app, database_url, trail):
    jof = Path(sys.executable).with_name("jof")
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x"}

    intact = subprocess.run([str(jof), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert f"{len(trail)} events checked" in intact.stdout

    middle = trail[len(trail) // 2]
    assert raw(app, "UPDATE audit_event SET action = 'request.reject' WHERE seq = :s", s=middle) == 1
    tampered = subprocess.run([str(jof), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert tampered.returncode == 1
    assert f"TAMPERED at seq {middle}:" in tampered.stderr
    assert "does not match its hash" in tampered.stderr
    assert f"({middle - 1} events before it are intact)" in tampered.stderr


def test_changed_after_of_a_middle_event_is_found(app, trail):
    middle = trail[len(trail) // 2]
    forged = json.dumps({"status": "approved", "version": 99, "comment": "forged"})
    with app.app_context():
        value = "CAST(:v AS JSON)" if db.engine.dialect.name == "postgresql" else ":v"
        assert raw(app, f"UPDATE audit_event SET after = {value} WHERE seq = :s", v=forged, s=middle) == 1
        assert db.session.scalar(select(AuditEvent.after).where(AuditEvent.seq == middle))["version"] == 99
    code, output = run_verify(app)
    assert code == 1
    assert f"TAMPERED at seq {middle}: its content does not match its hash" in output


def test_rehashed_event_breaks_the_next_link(app, trail):
    """Forging an event and recomputing its own hash still breaks the next event's link."""
    middle = trail[len(trail) // 2]
    with app.app_context():
        ev = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == middle))
        ev.actor_email = "someone-else@jof.example"
        new_hash = ev.compute_hash(ev.prev_hash)
        db.session.rollback()
    raw(app, "UPDATE audit_event SET actor_email = 'someone-else@jof.example', hash = :h WHERE seq = :s",
        h=new_hash, s=middle)
    code, output = run_verify(app)
    assert code == 1
    assert f"TAMPERED at seq {middle + 1}: the link to the previous event is broken" in output


def test_deleted_middle_event_is_found(app, trail):
    middle = trail[len(trail) // 2]
    assert raw(app, "DELETE FROM audit_event WHERE seq = :s", s=middle) == 1
    code, output = run_verify(app)
    assert code == 1
    assert f"TAMPERED at seq {middle}: the event is missing" in output


def test_deleted_last_event_is_found(app, trail):
    last = trail[-1]
    assert raw(app, "DELETE FROM audit_event WHERE seq = :s", s=last) == 1
    code, output = run_verify(app)
    assert code == 1
    assert f"TAMPERED at seq {last}: the event is missing (the chain was sealed up to seq {last})" in output
    # Work goes on after the break, and the break stays visible.
    with app.app_context():
        audit.record(None, "system.after_break", object_type="system", object_id="x")
        db.session.commit()
        assert audit.verify().first_bad == f"seq {last}"


def test_events_beyond_the_sealed_chain_are_found(app, trail):
    raw(app, "UPDATE counter SET value = value - 2 WHERE key = 'audit_chain'")
    code, output = run_verify(app)
    assert code == 1
    assert f"TAMPERED at seq {trail[-1] - 1}: the event is beyond the sealed chain" in output


def test_an_event_outside_the_chain_is_found(app, trail):
    raw(app, "UPDATE audit_event SET seq = NULL WHERE seq = :s", s=trail[-1])
    raw(app, "UPDATE counter SET value = value - 1 WHERE key = 'audit_chain'")
    code, output = run_verify(app)
    assert code == 1
    assert "TAMPERED at id " in output and "outside the chain" in output


def test_a_failed_request_leaves_no_audit_event(app, api, make):
    """The transition writes its event, the commit then fails: the request is 409 and
    neither the change nor its event (nor a place in the chain) remains."""
    ref = make.request(status="submitted")
    manager = api("manager@jof.example")
    before = seqs(app)
    version = manager.get(f"/api/v1/requests/{ref}").get_json()["version"]
    assert seqs(app) == before  # a read writes nothing

    sealed = []

    def fail_after_seal(session):
        if session.in_nested_transaction():
            return  # a savepoint inside the transition, not the request's commit
        # Inside the doomed transaction: the event is there, sealed into the chain.
        sealed.extend(session.execute(select(AuditEvent.seq).where(
            AuditEvent.action == "request.approve", AuditEvent.hash.is_not(None))).scalars())
        raise StaleDataError("simulated concurrent change at commit")

    event.listen(Session, "before_commit", fail_after_seal)
    try:
        r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": version})
    finally:
        event.remove(Session, "before_commit", fail_after_seal)
    assert r.status_code == 409, r.get_json()
    assert sealed == [len(before) + 1], "the approve event was written and sealed before the commit failed"
    assert seqs(app) == before
    with app.app_context():
        assert db.session.scalar(select(ServiceRequest.status).where(ServiceRequest.reference == ref)) == "submitted"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "request.approve")) == 0
        assert audit.verify().ok

    r = manager.post(f"/api/v1/requests/{ref}/transitions", json={"action": "approve", "version": version})
    assert r.status_code == 200, r.get_json()
    assert seqs(app) == before + [len(before) + 1]  # the chain continues without a hole
    with app.app_context():
        assert audit.verify().ok


def test_an_event_in_a_rolled_back_savepoint_takes_no_place_in_the_chain(session):
    audit.record(None, "system.kept", object_type="system", object_id="1")
    savepoint = session.begin_nested()
    audit.record(None, "system.discarded", object_type="system", object_id="2")
    session.flush()
    savepoint.rollback()
    audit.record(None, "system.kept_too", object_type="system", object_id="3")
    session.commit()
    rows = session.execute(select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert [tuple(r) for r in rows] == [(1, "system.kept"), (2, "system.kept_too")]
    assert audit.verify().ok


def test_verify_leaves_the_callers_session_alone(session, trail):
    ev = session.scalar(select(AuditEvent).where(AuditEvent.seq == 1))
    assert audit.verify().ok
    assert ev in session
