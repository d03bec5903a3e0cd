"""Count the SQL statements a block of code sends: pages must cost the same number of
statements whatever their length (no query per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from jof.core.db import db


class Counted:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def statements(app) -> Iterator[Counted]:
    """Count what every connection of the app's engine executes inside the block
    (savepoints and transaction control are not statements of the page)."""
    counted = Counted()
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if word not in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA"):
            counted.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before)
