"""Count the SQL statements a block of code sends: pages must cost the same number of
statements whatever their length (no query per row)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from jof.core.db import db

#: The once-a-minute write of an API token's last use (jof.core.auth._record_use).
TOKEN_USE = re.compile(r"\s*UPDATE api_token SET last_used_at", re.IGNORECASE)


class Counted:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def statements(app, token_use: bool = False) -> Iterator[Counted]:
    """Count what every connection of the app's engine executes inside the block
    (savepoints and transaction control are not statements of the page, nor, unless
    ``token_use``, the once-a-minute write of a token's last use)."""
    counted = Counted()
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if word in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA"):
            return
        if not token_use and TOKEN_USE.match(statement):
            return  # a token's last use, written at most once a minute: a clock's, not the page's
        counted.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before)
