"""Issue 11: the database refuses to change or delete audit events, and an anchor kept
outside the database catches what the chain alone cannot (a rewritten chain, a cut
tail, an emptied table)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from jof.core import audit
from jof.core.audit import AuditEvent
from jof.core.db import db
from tests.conftest import audit_guard_lifted


@pytest.fixture
def trail(app, make):
    make.request(status="approved")
    make.request("requester@unfpa.jof.example", status="completed")
    with app.app_context():
        chain = list(db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert len(chain) >= 12 and chain == list(range(1, len(chain) + 1))
    return chain


def cli(app, *args):
    """A ``jof`` command through Flask's CLI runner: (exit code, stdout and stderr)."""
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def tamper(app, sql: str, **params) -> int:
    """As the schema's owner would: lift the triggers, then change the rows."""
    with app.app_context(), db.engine.begin() as conn, audit_guard_lifted(conn):
        return conn.execute(text(sql), params).rowcount


def rehash_from(app, first_seq: int) -> None:
    """Recompute every hash from ``first_seq`` on, so the plain chain verifies again."""
    table = AuditEvent.__table__
    with app.app_context(), db.engine.begin() as conn, audit_guard_lifted(conn):
        prev = conn.execute(select(table.c.hash).where(table.c.seq == first_seq - 1)).scalar() or audit.GENESIS
        for row in conn.execute(select(table).where(table.c.seq >= first_seq).order_by(table.c.seq)).all():
            new = audit._chain_hash(row, prev)
            conn.execute(table.update().where(table.c.id == row.id).values(prev_hash=prev, hash=new))
            prev = new


@pytest.fixture
def anchor_file(app, trail, tmp_path):
    path = tmp_path / "anchor.json"
    code, output = cli(app, "audit", "anchor", "--output", str(path))
    assert code == 0, output
    return path


# --- the database refuses ------------------------------------------------------------------


def _refused(app, sql: str, **params):
    with app.app_context():
        with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
            conn.execute(text(sql), params)
        return str(caught.value.orig)


def test_the_database_refuses_to_update_a_sealed_event(app, trail):
    message = _refused(app, "UPDATE audit_event SET action = 'request.reject' WHERE seq = :s", s=trail[3])
    assert "never change" in message
    _refused(app, "UPDATE audit_event SET hash = :h WHERE seq = :s", h="0" * 64, s=trail[3])
    _refused(app, "UPDATE audit_event SET seq = NULL WHERE seq = :s", s=trail[-1])
    with app.app_context():
        assert audit.verify().ok


def test_the_database_refuses_to_delete_an_event(app, trail):
    assert "never deleted" in _refused(app, "DELETE FROM audit_event WHERE seq = :s", s=trail[-1])
    _refused(app, "DELETE FROM audit_event")
    with app.app_context():
        assert audit.verify().checked == len(trail)


@pytest.mark.postgres_only
def test_postgresql_refuses_to_truncate_the_trail(app, trail):
    assert "never deleted" in _refused(app, "TRUNCATE audit_event")


def test_an_unsealed_event_is_sealed_once_and_its_content_never_changes(app, demo):
    with app.app_context():
        audit.record(None, "auth.login_failed", object_type="user", object_id="x@jof.example", deferred=True)
        db.session.commit()
        event_id = db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)))
    _refused(app, "UPDATE audit_event SET object_id = 'y@jof.example' WHERE id = :i", i=event_id)
    with app.app_context():
        assert audit.seal_deferred() == 1
        db.session.commit()
        assert db.session.get(AuditEvent, event_id).seq is not None
        assert audit.verify().ok


def _waiting_event(app) -> tuple[int, int]:
    """A deferred (unsealed) event and the chain counter's value: (event id, counter)."""
    with app.app_context():
        audit.record(None, "auth.login_failed", object_type="user", object_id="x@jof.example", deferred=True)
        db.session.commit()
        event_id = db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)))
        counter = db.session.scalar(text("SELECT value FROM counter WHERE key = 'audit_chain'"))
        return event_id, counter


def _head_hash(app, seq: int) -> str:
    with app.app_context():
        return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def test_the_database_refuses_to_seal_an_event_anywhere_but_at_the_next_place(app, trail):
    event_id, counter = _waiting_event(app)
    head = _head_hash(app, counter)
    seal = "UPDATE audit_event SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"
    # beyond the counter (the counter was not advanced) and far beyond it
    for wrong in (counter + 1, counter + 50):
        assert "next place of the chain" in _refused(app, seal, s=wrong, p=head, h="f" * 64, i=event_id)
    # the counter advanced, but the link names another event, or the hash is set alone
    with app.app_context():
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text("UPDATE counter SET value = value + 1 WHERE key = 'audit_chain'"))
            conn.execute(text(seal), {"s": counter + 1, "p": audit.GENESIS, "h": "f" * 64, "i": event_id})
    _refused(app, "UPDATE audit_event SET hash = :h WHERE id = :i", h="f" * 64, i=event_id)
    with app.app_context():
        assert db.session.get(AuditEvent, event_id).seq is None
        assert audit.verify().ok


def test_a_seal_at_the_next_place_is_accepted_once(app, trail):
    event_id, counter = _waiting_event(app)
    head = _head_hash(app, counter)
    seal = "UPDATE audit_event SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE counter SET value = value + 1 WHERE key = 'audit_chain'"))
        conn.execute(text(seal), {"s": counter + 1, "p": head, "h": "f" * 64, "i": event_id})
    _refused(app, seal, s=counter + 1, p=head, h="e" * 64, i=event_id)
    with app.app_context():
        assert db.session.get(AuditEvent, event_id).seq == counter + 1


def test_the_application_seals_several_waiting_events_in_one_commit(app, trail):
    with app.app_context():
        for n in range(3):
            audit.record(None, "auth.login_failed", object_type="user", object_id=f"x{n}@jof.example",
                         deferred=True)
        db.session.commit()
        assert audit.seal_deferred() == 3
        db.session.commit()
        result = audit.verify()
        assert result.ok and result.checked == len(trail) + 3


# --- anchors --------------------------------------------------------------------------------


def test_an_anchor_holds_seq_head_hash_and_signature_and_verifies(app, trail, anchor_file):
    anchor = json.loads(anchor_file.read_text())
    assert anchor["seq"] == len(trail)
    with app.app_context():
        head = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == len(trail)))
    assert anchor["hash"] == head and len(anchor["signature"]) == 64
    code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 0, output
    assert f"the first {len(trail)} match the anchor" in output


def test_an_anchor_still_verifies_after_new_events(app, make, trail, anchor_file):
    make.request(status="submitted")
    code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 0, output


def test_an_anchor_goes_to_standard_output_without_a_file(app, trail):
    code, output = cli(app, "audit", "anchor")
    assert code == 0
    assert json.loads(output)["seq"] == len(trail)


def test_a_rewritten_chain_passes_plain_verify_but_not_the_anchor(app, trail, anchor_file):
    middle = trail[len(trail) // 2]
    tamper(app, "UPDATE audit_event SET actor_email = 'someone-else@jof.example' WHERE seq = :s", s=middle)
    rehash_from(app, middle)
    code, output = cli(app, "audit", "verify")
    assert code == 0, output  # the chain alone cannot tell
    code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 1
    assert "rewritten" in output


def test_a_cut_tail_with_the_counter_lowered_is_caught_by_the_anchor(app, trail, anchor_file):
    keep = len(trail) - 3
    tamper(app, "DELETE FROM audit_event WHERE seq > :k", k=keep)
    tamper(app, "UPDATE counter SET value = :k WHERE key = 'audit_chain'", k=keep)
    code, output = cli(app, "audit", "verify")
    assert code == 0, output
    code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 1
    assert f"covers {len(trail)} events but the chain holds only {keep}" in output


def test_an_emptied_trail_is_caught_by_the_anchor(app, trail, anchor_file):
    tamper(app, "DELETE FROM audit_event")
    tamper(app, "DELETE FROM counter WHERE key = 'audit_chain'")
    code, output = cli(app, "audit", "verify")
    assert code == 0, output
    code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 1
    assert "holds only 0" in output


def test_an_edited_anchor_is_refused(app, trail, anchor_file, tmp_path):
    anchor = json.loads(anchor_file.read_text())
    anchor["seq"] -= 3
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(anchor))
    code, output = cli(app, "audit", "verify", "--anchor", str(forged))
    assert code == 2
    assert "signature is wrong" in output


def test_an_anchor_signed_with_another_key_is_refused(app, trail, anchor_file):
    app.config["AUDIT_KEY"] = "another-key"
    try:
        code, output = cli(app, "audit", "verify", "--anchor", str(anchor_file))
    finally:
        app.config.pop("AUDIT_KEY")
    assert code == 2 and "signature is wrong" in output


def test_no_anchor_is_written_for_a_tampered_chain(app, trail, tmp_path):
    tamper(app, "UPDATE audit_event SET action = 'x' WHERE seq = :s", s=trail[2])
    code, output = cli(app, "audit", "anchor", "--output", str(tmp_path / "a.json"))
    assert code == 1 and "TAMPERED" in output
    assert not (tmp_path / "a.json").exists()


def test_the_audit_key_is_made_once_into_the_instance_folder_readable_by_its_owner_only(app, trail):
    assert "AUDIT_KEY" not in app.config
    cli(app, "audit", "anchor")
    key_file = os.path.join(app.instance_path, "audit_key")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = open(key_file).read()
    cli(app, "audit", "anchor")
    assert open(key_file).read() == first


def test_an_anchor_whose_time_was_edited_is_refused(app, trail, anchor_file, tmp_path):
    anchor = json.loads(anchor_file.read_text())
    assert anchor["format"] == "jof-audit-anchor/2"
    anchor["at"] = "2020-01-01T00:00:00+00:00"
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(anchor))
    code, output = cli(app, "audit", "verify", "--anchor", str(moved))
    assert code == 2
    assert "signature is wrong" in output


def test_a_format_1_anchor_still_verifies_and_says_its_time_is_unsigned(app, trail, tmp_path):
    import hashlib
    import hmac

    from jof.core.anchor import audit_key

    with app.app_context():
        head = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == len(trail)))
        key = audit_key(app).encode()
    signature = hmac.new(key, f"jof-audit-anchor/1\n{len(trail)}\n{head}".encode(), hashlib.sha256).hexdigest()
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "jof-audit-anchor/1", "seq": len(trail), "hash": head,
                               "at": "2026-12-01T00:00:00+00:00", "signature": signature}))
    code, output = cli(app, "audit", "verify", "--anchor", str(old))
    assert code == 0, output
    assert "its time is not signed" in output
    tamper(app, "UPDATE audit_event SET actor_email = 'x@jof.example' WHERE seq = 2")
    rehash_from(app, 2)
    code, output = cli(app, "audit", "verify", "--anchor", str(old))
    assert code == 1 and "rewritten" in output
