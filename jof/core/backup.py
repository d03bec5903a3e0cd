"""Backups of the whole database, and restoring one into an empty database.

SQLite is copied with its online backup API (a consistent copy while workers keep
writing, WAL included); PostgreSQL with ``pg_dump -Fc`` and ``pg_restore``, the server's
own tools (they must be on ``PATH``, of the server's major version or newer). A restore
refuses a database that already holds data unless forced, since it replaces what is
there; afterwards the caller verifies the audit chain of what was restored.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import URL, Engine

#: Tables whose rows do not make a database "hold data" (a freshly migrated one has them).
BOOKKEEPING = {"alembic_version"}


class BackupError(RuntimeError):
    pass


def rows_held(engine: Engine) -> dict[str, int]:
    """Rows per table, for every table but Alembic's bookkeeping."""
    names = [n for n in inspect(engine).get_table_names() if n not in BOOKKEEPING]
    with engine.connect() as conn:
        return {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names}


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it
    (so it does not show in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed (the PostgreSQL client tools are needed)") from None
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return path


def backup(engine: Engine, target: Path) -> None:
    if engine.dialect.name == "postgresql":
        url, env = _libpq(engine.url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), url], env)
        return
    source = sqlite3.connect(_sqlite_path(engine))
    tmp = target.with_name(f".{target.name}.partial")
    copy = sqlite3.connect(tmp)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    tmp.replace(target)  # never a half-written backup under the real name


def restore(engine: Engine, source: Path, force: bool = False) -> None:
    """Replace the database's content by the backup's. Refused when the database holds
    data, unless ``force``."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    held = {n: c for n, c in rows_held(engine).items() if c}
    if held and not force:
        sample = ", ".join(f"{n} ({c})" for n, c in sorted(held.items())[:5])
        raise BackupError(f"the target database is not empty: {sample}{' …' if len(held) > 5 else ''}; "
                          "restore into an empty database, or pass --force to replace its content")
    engine.dispose()  # nothing of ours stays connected to what is replaced
    if engine.dialect.name == "postgresql":
        url, env = _libpq(engine.url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", "--dbname", url, str(source)], env)
        return
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} is not a sound SQLite database")
        target = sqlite3.connect(_sqlite_path(engine))
        try:
            backup_db.backup(target)
        finally:
            target.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup: {exc}") from None
    finally:
        backup_db.close()
