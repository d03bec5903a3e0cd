"""The migrations build exactly the schema the models describe, on both databases.

Each test here migrates its own EMPTY database (a fresh SQLite file, or a fresh
PostgreSQL database on the PostgreSQL pass), never the session one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text

from jof import create_app
from jof.core.db import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture
def empty_database_url(tmp_path):
    if os.environ.get("JOF_TEST_DATABASE", "sqlite") != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = os.environ["JOF_TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_migr_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_app(empty_database_url):
    application = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url,
                              "SECRET_KEY": "x", "TESTING": True})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def drift(metadata=None) -> list:
    """What autogenerate would still want to change (the options of migrations/env.py)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "compare_server_default": False})
        return compare_metadata(ctx, metadata if metadata is not None else db.metadata)


def app_tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def test_exactly_one_head():
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads} (merge them)"


def test_migrated_schema_equals_models_and_latest_downgrade_works(fresh_app):
    assert app_tables() == set()
    upgrade()
    assert app_tables() == set(db.metadata.tables)
    assert drift() == []

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    downgrade(revision="-1")
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current != head
    if current is None:  # the latest revision is the first: nothing of it is left
        assert app_tables() == set()

    upgrade()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert drift() == []


def test_the_comparison_sees_drift(fresh_app):
    """The no-drift assertion above can fail: a missing table, a changed type and a
    missing foreign key of the migrated schema are all reported."""
    upgrade()
    changed = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    Table("not_migrated", changed, Column("id", Integer, primary_key=True))
    counter = changed.tables["counter"]
    counter.c.value.type = String(20)
    kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in drift(changed)}
    assert {"add_table", "modify_type"} <= kinds

    # The cyclic agency.alternate_id -> user.id key exists in the database (alembic
    # renders use_alter keys inside create_table, where PostgreSQL silently lost it).
    with db.engine.connect() as conn:
        fks = inspect(conn).get_foreign_keys("agency")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in fks] == [(["alternate_id"], "user")]


def test_jobs1_carries_billing_jobs_over_to_core_jobs_with_their_ids_and_back(fresh_app):
    """Billing's job rows become core's ``job`` rows (same ids, so their pages' URLs hold;
    the period as parameters), new ids follow them, and a downgrade gives billing its own back."""
    from datetime import UTC, date, datetime

    from sqlalchemy import select

    from jof.core.jobs import Job

    upgrade(revision="perf2")
    at = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(text('INSERT INTO "user" (id, email, name, password_hash, active, locale, session_version, '
                          'created_at) VALUES (1, :e, :n, :p, :a, :l, 1, :at)'),
                     {"e": "m@jof.example", "n": "M", "p": "x", "a": True, "l": "en", "at": at})
        conn.execute(text("INSERT INTO billing_job (id, kind, period, status, done, total, message, result, "
                          "requested_by_id, created_at) VALUES (7, 'close_period', :d, 'done', 7, 7, 'ok', "
                          ":r, 1, :at), (9, 'render_period', :d, 'failed', 0, 0, 'no', NULL, 1, :at)"),
                     {"d": date(2026, 5, 1), "r": '{"changed": true}', "at": at})
    upgrade()
    rows = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert [(j.id, j.kind, j.params, j.period, str(j.status), j.result) for j in rows] == [
        (7, "close_period", {"period": "2026-05"}, date(2026, 5, 1), "done", {"changed": True}),
        (9, "render_period", {"period": "2026-05"}, date(2026, 5, 1), "failed", None)]
    db.session.add(Job(kind="monthly_report", params={"month": "2026-05"}, requested_by_id=1))
    db.session.commit()
    assert db.session.scalar(select(Job.id).order_by(Job.id.desc())) == 10
    db.session.remove()
    downgrade(revision="perf2")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT id, kind FROM billing_job ORDER BY id")).all() == [
            (7, "close_period"), (9, "render_period")]
