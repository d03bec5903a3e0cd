"""Gapless per-key counters (request references, invoice and resolution numbers).

A sequence (``nextval``) leaves gaps when a transaction rolls back; a counter row
incremented inside the caller's transaction does not: the ``UPDATE`` takes the row lock,
so concurrent callers queue and a rolled-back number is handed out again.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from jof.core.db import db


class Counter(db.Model):
    __tablename__ = "counter"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def next_value(key: str) -> int:
    session = db.session
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Counter).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"])
    )
    return session.execute(
        update(Counter)
        .where(Counter.key == key)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()


def peek(key: str) -> int:
    """The last value handed out for ``key`` (0 before the first), without taking one:
    what a confirmation shows as the numbers an action would use."""
    return db.session.scalar(select(Counter.value).where(Counter.key == key)) or 0
