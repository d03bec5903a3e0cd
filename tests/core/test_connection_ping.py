"""A pooled connection is pinged before use only when it has been idle: a busy API
worker spends no round trip per request on it, and a connection the server dropped
while idle is replaced instead of failing the request."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from jof.core import db as jofdb


@pytest.fixture
def engine(database_url):
    eng = create_engine(database_url, pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()


def _record(conn):
    return conn.connection._connection_record


@pytest.mark.postgres_only
def test_a_connection_in_steady_use_is_not_pinged(engine):
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            record = _record(conn)
    assert "jof_pings" not in record.info


@pytest.mark.postgres_only
def test_an_idle_connection_the_server_dropped_is_replaced(engine, database_url):
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        record = _record(conn)
    killer = create_engine(database_url)
    with killer.connect() as k:
        k.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    record.info["jof_idle_since"] = time.monotonic() - jofdb.IDLE_PING_SECONDS - 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid


@pytest.mark.postgres_only
def test_an_idle_connection_that_answers_is_kept(engine):
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        record = _record(conn)
    record.info["jof_idle_since"] = time.monotonic() - jofdb.IDLE_PING_SECONDS - 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
        assert _record(conn).info["jof_pings"] == 1
        assert conn.execute(text("SELECT 1")).scalar() == 1
