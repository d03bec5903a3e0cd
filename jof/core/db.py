"""The database handle and the SQLite settings that make it safe for several writers.

SQLite (the embedded default) is configured as measured in STACK-NOTES: WAL, a busy
timeout, and ``BEGIN IMMEDIATE`` for transactions that may write. A deferred transaction
that later upgrades to a write lock fails at once with "database is locked" whatever
the timeout, so the write lock is taken up front. Reads (GET requests) keep a plain
``BEGIN`` because taking the write lock there halves read throughput.
"""

from __future__ import annotations

import contextvars
import sqlite3
import time
from contextlib import contextmanager

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

#: Whether the current unit of work may write. The web layer sets it from the HTTP
#: method; everything else (CLI, jobs, tests) writes and so defaults to True.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)

SQLITE_BUSY_TIMEOUT_MS = 15000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_conn, _record):
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    # Let SQLAlchemy's begin event below issue BEGIN itself (pysqlite's own
    # transaction handling would emit a deferred BEGIN behind our back).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


@contextmanager
def read_only():
    """Run a block as a reader (plain BEGIN on SQLite)."""
    token = write_intent.set(False)
    try:
        yield
    finally:
        write_intent.reset(token)


#: A pooled server connection idle for longer than this is checked with a round trip
#: before a request uses it (one the server or a firewall dropped meanwhile is replaced);
#: a connection in steady use is not, since a ping on every checkout was one more round
#: trip on every API call (issue 15).
IDLE_PING_SECONDS = 30.0


@event.listens_for(Pool, "checkin")
def _note_idle(_dbapi_conn, record):
    if record is not None:
        record.info["jof_idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_conn, record, _proxy):
    """Pessimistic disconnect handling for idle connections only: a failed ping raises
    :class:`DisconnectionError`, and the pool retries with a new connection."""
    if isinstance(dbapi_conn, sqlite3.Connection):
        return  # a file, not a server: nothing drops it
    since = record.info.get("jof_idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return  # just connected, or in use moments ago
    record.info["jof_pings"] = record.info.get("jof_pings", 0) + 1
    autocommit = getattr(dbapi_conn, "autocommit", None)
    try:
        if autocommit is False:
            dbapi_conn.autocommit = True  # the ping opens no transaction
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if autocommit is False:
            dbapi_conn.autocommit = False
    except Exception as exc:  # any failure means the connection is not usable
        raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc
