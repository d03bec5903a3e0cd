"""Append-only, hash-chained audit trail (DESIGN §9).

Services call :func:`record` in the same transaction as the change. The chain (a
sequence number and the hash of the previous event) is sealed just before commit, under
the lock of one counter row (``audit_chain``), so concurrent transactions cannot fork or
interleave the chain and the lock is held only for the instant of the commit. The
transaction's own changes are flushed before that lock is taken, so the chain lock is
always the last one a transaction acquires (no deadlock with business rows).

:func:`verify` walks the chain: an altered, removed or inserted event breaks a hash or
the gapless sequence; a removed *last* event shows as a chain shorter than the
``audit_chain`` counter.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_app_context
from sqlalchemy import JSON, ForeignKey, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jof.core.counters import Counter, next_value
from jof.core.db import db
from jof.core.timeutil import UTCDateTime, utcnow

log = logging.getLogger("jof.audit")

GENESIS = "0" * 64
#: The link written after a missing event (not hexadecimal, so never a real hash).
BROKEN_LINK = "missing-" + "-" * 56
#: The counter row whose lock serialises sealing and whose value is the chain length.
CHAIN_COUNTER = "audit_chain"


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain, gapless; assigned at commit.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The acting user's e-mail at the time, so the trail reads without joins.
    actor_email: Mapped[str] = mapped_column(String(254), default="system", index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[str] = mapped_column(String(80), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor = relationship("User")

    def payload(self) -> dict:
        return _payload(self)

    def compute_hash(self, prev_hash: str) -> str:
        return _chain_hash(self, prev_hash)


#: The fields the hash covers (everything but the surrogate id and the hashes).
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_email", "action", "object_type",
                 "object_id", "before", "after", "request_id")


def _payload(ev) -> dict:
    """The hashed content of an event (an ``AuditEvent`` or a row with its columns)."""
    data = {name: getattr(ev, name) for name in HASHED_FIELDS}
    data["at"] = data["at"].isoformat()
    return data


def _chain_hash(ev, prev_hash: str) -> str:
    body = json.dumps(_payload(ev), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def jsonable(value: Any) -> Any:
    """Make a value safe and stable for a JSON column (no floats, no objects)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def snapshot(obj, exclude: tuple[str, ...] = ("password_hash",)) -> dict:
    """The column values of a mapped object, for ``before``/``after``."""
    mapper = inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude
    }


def current_request_id() -> str:
    """The id of the HTTP request (or CLI run) the change belongs to."""
    if has_app_context():
        return g.get("request_id", "")
    return ""


def new_request_id() -> str:
    return uuid.uuid4().hex


def object_key(obj) -> tuple[str, str]:
    ident = getattr(obj, "reference", None) or getattr(obj, "code", None) or getattr(obj, "id", None)
    return type(obj).__tablename__, str(ident)


#: Events that may be written *deferred*: inserted outside the chain, without the chain
#: lock, and sealed by the next transaction that seals (a failed login: an attacker
#: must not be able to make every request queue on the chain lock).
DEFERRED_ACTIONS = frozenset({"auth.login_failed"})


def record(actor, action: str, obj=None, *, before: dict | None = None,
           after: dict | None = None, object_type: str | None = None,
           object_id: str | None = None, deferred: bool = False) -> AuditEvent:
    """Write an audit event in the current transaction.

    ``deferred`` (only for :data:`DEFERRED_ACTIONS`) leaves the event out of this
    transaction's seal: it takes its place in the chain when the next seal runs.
    """
    if deferred and action not in DEFERRED_ACTIONS:
        raise ValueError(f"{action} cannot be deferred")
    if obj is not None:
        db.session.flush()  # so the object has its id
        otype, oid = object_key(obj)
    else:
        otype, oid = object_type or "system", object_id or ""
    ev = AuditEvent(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None) or "system",
        action=action,
        object_type=object_type or otype,
        object_id=object_id or oid,
        before=jsonable(before),
        after=jsonable(after),
        request_id=current_request_id(),
    )
    db.session.add(ev)
    if not deferred:
        db.session.info.setdefault("audit_unsealed", []).append(ev)
    return ev


@event.listens_for(Session, "before_commit")
def _seal_chain(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: seal at the real commit only
    pending = session.info.pop("audit_unsealed", None)
    if not pending:
        return
    # Events discarded with a rolled-back savepoint are no longer in the session: they
    # must not take a place in the chain (that would leave a hole).
    pending = [ev for ev in pending if ev in session and ev.seq is None]
    if not pending:
        return
    # Write the transaction's changes first, so the chain lock below is the last lock
    # this transaction takes and is held only until the commit that follows.
    session.flush()
    _seal(session, pending)


def _seal(session: Session, pending: list[AuditEvent]) -> int:
    """Give the waiting deferred events, then ``pending``, their places in the chain."""
    # Deferred events committed by others go first, in the order they were written. Their
    # row locks come before the chain lock, in that order for every sealer; a sealer that
    # waited for them sees them sealed and skips them (PostgreSQL re-checks the condition).
    mine = [ev.id for ev in pending]
    waiting = session.scalars(
        select(AuditEvent).where(AuditEvent.seq.is_(None), AuditEvent.hash.is_(None),
                                 AuditEvent.action.in_(DEFERRED_ACTIONS), AuditEvent.id.not_in(mine))
        .order_by(AuditEvent.id).with_for_update()
    ).all()
    events = [*waiting, *pending]
    for ev in events:
        seq = next_value(CHAIN_COUNTER)  # row lock: one sealer at a time
        prev = GENESIS if seq == 1 else session.scalar(
            select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)
        )
        if prev is None:
            # The previous event was deleted. Keep the facility working and keep the
            # break visible: verify() reports the missing event; this one links to a
            # marker that can never be a real hash.
            log.critical("audit chain broken: event seq %s is missing; run `jof audit verify`",
                         seq - 1)
            prev = BROKEN_LINK
        ev.seq = seq
        ev.prev_hash = prev
        ev.hash = ev.compute_hash(prev)
        # Each seal is written while the counter still holds its seq: the database
        # accepts a seal only at the chain's next place (migration hard2).
        session.flush()
    return len(events)


def seal_deferred() -> int:
    """Seal the deferred events still waiting (before an anchor is taken); the caller
    commits. Returns how many were sealed."""
    return _seal(db.session, [])


@event.listens_for(Session, "after_transaction_end")
def _drop_unsealed(session: Session, transaction) -> None:
    # Only when the outermost transaction ends: a rolled-back savepoint discards its own
    # events (they leave the session, and the seal skips them), not the others.
    if transaction.parent is None:
        session.info.pop("audit_unsealed", None)


@dataclass
class VerifyResult:
    checked: int
    #: Which event breaks the chain first ("seq 17", or "id 40" for one outside it).
    first_bad: str | None = None
    reason: str = ""
    #: The hash of the last event checked (of event ``checked``), when the chain is intact.
    head_hash: str = GENESIS
    #: The hash of the event ``verify(remember=...)`` asked for, if the chain has it.
    remembered_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify(batch: int = 5000, remember: int | None = None) -> VerifyResult:
    """Walk the chain in order and report the first event that does not match.

    Reads plain rows (not ORM objects), so it leaves the caller's session alone. Safe
    while others write: the chain length is read first, and every event up to it was
    committed with it, so events sealed meanwhile can only lengthen the walk.
    ``remember``: a sequence number whose hash the result keeps (``remembered_hash``),
    to compare with an anchor.
    """
    table = AuditEvent.__table__

    def chain_length() -> int:
        return db.session.scalar(select(Counter.value).where(Counter.key == CHAIN_COUNTER)) or 0

    sealed = chain_length()
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    remembered = None
    while True:
        rows = db.session.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(checked, f"seq {expected_seq}", "the event is missing")
            if ev.prev_hash != prev:
                return VerifyResult(checked, f"seq {ev.seq}", "the link to the previous event is broken")
            if _chain_hash(ev, prev) != ev.hash:
                return VerifyResult(checked, f"seq {ev.seq}", "its content does not match its hash")
            prev = ev.hash
            if ev.seq == remember:
                remembered = ev.hash
            expected_seq += 1
            checked += 1
            last_seq = ev.seq
    if sealed > last_seq:
        return VerifyResult(checked, f"seq {last_seq + 1}",
                            f"the event is missing (the chain was sealed up to seq {sealed})")
    if last_seq > sealed:
        sealed = chain_length()  # others may have sealed events during the walk
    if last_seq > sealed:
        return VerifyResult(checked, f"seq {sealed + 1}",
                            f"the event is beyond the sealed chain (sealed up to seq {sealed})")
    unsealed = db.session.scalar(select(table.c.id).where(
        table.c.seq.is_(None), (table.c.action.not_in(DEFERRED_ACTIONS)) | table.c.hash.is_not(None)).limit(1))
    if unsealed is not None:
        return VerifyResult(checked, f"id {unsealed}", "the event is outside the chain")
    return VerifyResult(checked, head_hash=prev, remembered_hash=remembered)


def events_query(actor: str | None = None, action: str | None = None,
                 object_type: str | None = None, object_id: str | None = None,
                 since=None, until=None):
    """The audit page's and API's filters; newest first."""
    from datetime import UTC, datetime, time, timedelta

    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor_email == actor.strip().lower())
    if action:
        # A prefix, literally: ``%`` and ``_`` in the filter match themselves only.
        stmt = stmt.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type.strip())
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id.strip())
    if since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(since, time(), UTC))
    if until:
        stmt = stmt.where(AuditEvent.at < datetime.combine(until, time(), UTC) + timedelta(days=1))
    return stmt.order_by(AuditEvent.id.desc())
