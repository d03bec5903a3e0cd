"""UTC inside, the facility's time zone at the edges.

:func:`utcnow` is the one clock of JOF: every service, workflow stamp, audit event and
"today at the facility" (``jof.core.calendar``) reads it. :func:`clock_at` sets it to a
given instant for a block of code, so the demo history (``jof demo history``) and tests
can act in the past through the real services instead of patching them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

#: The instant :func:`clock_at` holds the clock at, if any (per thread and task).
_held: ContextVar[datetime | None] = ContextVar("jof_clock_held", default=None)


def utcnow() -> datetime:
    held = _held.get()
    return held if held is not None else datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[datetime]:
    """Within the block, :func:`utcnow` (and so the facility's today) is ``moment``.

    Only for generating history and for tests: the clock stands still inside the block,
    and nested blocks restore the outer instant on leaving. A naive ``moment`` is refused,
    as everywhere else in JOF.
    """
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _held.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _held.reset(token)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases.

    SQLite has no time zone support, so values are stored naive in UTC and made aware
    again on the way out; a naive value on the way in is a bug and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def to_local(value: datetime | None, tz_name: str) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz_name))
