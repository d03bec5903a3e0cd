"""Issue 11: `jof backup` and `jof restore` round-trip every row and a valid audit chain,
on SQLite and PostgreSQL; a restore refuses a database that holds data unless forced."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from jof import create_app
from jof.core.audit import AuditEvent
from jof.core.backup import rows_held
from jof.core.db import db
from tests.conftest import audit_guard_lifted


@pytest.fixture
def target_url(database_url, tmp_path):
    """A second, brand-new database of the same kind as the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    base, _, _ = database_url.rpartition("/")
    name = f"jof_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def target(target_url, tmp_path):
    application = create_app({"SQLALCHEMY_DATABASE_URI": target_url, "SECRET_KEY": "x", "TESTING": True})
    application.instance_path = str(tmp_path / "target-instance")
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def filled(app, make):
    make.request(status="completed")
    make.request("requester@unfpa.jof.example", status="approved")
    with app.app_context():
        return rows_held(db.engine)


def jof(application, *args):
    result = application.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def audit_hashes(application) -> list[str]:
    with application.app_context():
        hashes = list(db.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)))
        db.session.remove()
        return hashes


def table_digests(application) -> dict[str, str]:
    """SHA-256 of every table's rows, ordered by primary key (every column, every value)."""
    with application.app_context():
        meta = MetaData()
        meta.reflect(db.engine)
        digests = {}
        with db.engine.connect() as conn:
            for name, tbl in sorted(meta.tables.items()):
                order = list(tbl.primary_key.columns) or list(tbl.columns)
                digest = hashlib.sha256()
                for row in conn.execute(select(tbl).order_by(*order)):
                    digest.update(json.dumps([repr(v) if not isinstance(v, dict | list) else v for v in row],
                                             sort_keys=True, default=str).encode())
                    digest.update(b"\n")
                digests[name] = digest.hexdigest()
        db.session.remove()
        return digests


def assert_audit_guard_holds(application) -> None:
    """The restored database still refuses to change or delete an audit event."""
    with application.app_context():
        for sql in ("UPDATE audit_event SET actor_email = 'x@jof.example' WHERE seq = 2",
                    "UPDATE audit_event SET hash = 'f' WHERE seq = 2",
                    "DELETE FROM audit_event WHERE seq = 2", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError), db.engine.begin() as conn:
                conn.execute(text(sql))
        assert db.session.scalar(select(AuditEvent.actor_email).where(AuditEvent.seq == 2)) != "x@jof.example"
        db.session.remove()


def test_backup_and_restore_keep_every_value_of_every_row_and_the_audit_guard(app, target, filled, tmp_path):
    before = table_digests(app)
    path = tmp_path / "jof.backup"
    assert jof(app, "backup", str(path))[0] == 0
    code, output = jof(target, "restore", str(path))
    assert code == 0, output
    after = table_digests(target)
    assert set(after) == set(before) and "audit_event" in after and "alembic_version" in after
    assert [t for t in before if before[t] != after[t]] == []
    assert_audit_guard_holds(target)
    # the digest sees a single changed value
    with target.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE agency SET name = name || '.' WHERE code = 'UNDP'"))
    assert [t for t, d in table_digests(target).items() if d != before[t]] == ["agency"]


@pytest.mark.parametrize("forced", [False, True])
def test_the_audit_guard_holds_after_a_restore_forced_or_not(app, target, filled, tmp_path, forced):
    path = tmp_path / "jof.backup"
    assert jof(app, "backup", str(path))[0] == 0
    assert jof(target, "restore", str(path))[0] == 0
    if forced:
        assert jof(target, "restore", "--force", str(path))[0] == 0
    assert_audit_guard_holds(target)


def test_backup_and_restore_round_trip_every_row_and_a_valid_audit_chain(app, target, filled, tmp_path):
    path = tmp_path / "jof.backup"
    code, output = jof(app, "backup", str(path))
    assert code == 0, output
    assert path.stat().st_size > 0
    code, output = jof(target, "restore", str(path))
    assert code == 0, output
    assert "audit trail intact" in output
    with target.app_context():
        assert rows_held(db.engine) == filled
    assert sum(filled.values()) > 50 and filled["audit_event"] >= 12
    assert audit_hashes(target) == audit_hashes(app)


def test_a_restored_database_takes_new_work_and_keeps_its_chain(app, target, filled, tmp_path):
    path = tmp_path / "jof.backup"
    assert jof(app, "backup", str(path))[0] == 0
    assert jof(target, "restore", str(path))[0] == 0
    from jof.core import audit

    with target.app_context():
        audit.record(None, "system.restored", object_type="system", object_id="test")
        db.session.commit()
        assert audit.verify().ok and audit.verify().checked == filled["audit_event"] + 1


def test_restore_refuses_a_database_that_holds_data_unless_forced(app, target, filled, tmp_path):
    path = tmp_path / "jof.backup"
    assert jof(app, "backup", str(path))[0] == 0
    assert jof(target, "restore", str(path))[0] == 0
    with target.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE agency SET name = 'Changed after the backup' WHERE code = 'UNDP'"))
    code, output = jof(target, "restore", str(path))
    assert code == 1 and "not empty" in output
    with target.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM agency WHERE code = 'UNDP'")).scalar() == "Changed after the backup"
    code, output = jof(target, "restore", "--force", str(path))
    assert code == 0, output
    with target.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM agency WHERE code = 'UNDP'")).scalar() != "Changed after the backup"
        assert rows_held(db.engine) == filled


def test_restore_reports_a_backup_whose_audit_trail_was_tampered_with(app, target, filled, tmp_path):
    with app.app_context(), db.engine.begin() as conn, audit_guard_lifted(conn):
        conn.execute(text("UPDATE audit_event SET actor_email = 'x@jof.example' WHERE seq = 3"))
    path = tmp_path / "jof.backup"
    assert jof(app, "backup", str(path))[0] == 0
    code, output = jof(target, "restore", str(path))
    assert code == 1
    assert "TAMPERED at seq 3" in output


def test_restore_refuses_a_file_that_is_not_a_backup(target, tmp_path):
    path = tmp_path / "not-a-backup"
    path.write_bytes(b"hello")
    code, output = jof(target, "restore", str(path))
    assert code == 1 and "restore refused" in output
