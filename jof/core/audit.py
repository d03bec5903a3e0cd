"""Append-only, hash-chained audit trail (DESIGN §9).

Services call :func:`record` in the same transaction as the change. The chain (a
sequence number and the hash of the previous event) is sealed just before commit, under
the lock of one counter row, so concurrent transactions cannot interleave the chain and
the lock is held only for the instant of the commit.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_app_context
from sqlalchemy import JSON, ForeignKey, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jof.core.counters import next_value
from jof.core.db import db
from jof.core.timeutil import UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain, gapless; assigned at commit.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The acting user's e-mail at the time, so the trail reads without joins.
    actor_email: Mapped[str] = mapped_column(String(254), default="system")
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
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_email": self.actor_email,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "request_id": self.request_id,
        }

    def compute_hash(self, prev_hash: str) -> str:
        body = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), default=str)
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


def record(actor, action: str, obj=None, *, before: dict | None = None,
           after: dict | None = None, object_type: str | None = None,
           object_id: str | None = None) -> AuditEvent:
    """Write an audit event in the current transaction."""
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
    db.session.info.setdefault("audit_unsealed", []).append(ev)
    return ev


@event.listens_for(Session, "before_commit")
def _seal_chain(session: Session) -> None:
    pending = session.info.pop("audit_unsealed", None)
    if not pending:
        return
    for ev in pending:
        seq = next_value("audit_chain")  # row lock: one sealer at a time
        prev = GENESIS if seq == 1 else session.scalar(
            select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)
        )
        ev.seq = seq
        ev.prev_hash = prev
        ev.hash = ev.compute_hash(prev)
        session.flush()


@event.listens_for(Session, "after_rollback")
def _drop_unsealed(session: Session) -> None:
    session.info.pop("audit_unsealed", None)


@dataclass
class VerifyResult:
    checked: int
    #: Which event breaks the chain first ("seq 17", or "id 40" for one outside it).
    first_bad: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order and report the first event that does not match."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(checked, f"seq {expected_seq}", "the event is missing")
            if ev.prev_hash != prev:
                return VerifyResult(checked, f"seq {ev.seq}", "the link to the previous event is broken")
            if ev.compute_hash(prev) != ev.hash:
                return VerifyResult(checked, f"seq {ev.seq}", "its content does not match its hash")
            prev = ev.hash
            expected_seq += 1
            checked += 1
            last_seq = ev.seq
        db.session.expunge_all()
    unsealed = db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1))
    if unsealed is not None:
        return VerifyResult(checked, f"id {unsealed}", "the event is outside the chain")
    return VerifyResult(checked)


def events_query(actor: str | None = None, action: str | None = None,
                 object_type: str | None = None, object_id: str | None = None,
                 since=None, until=None):
    """The audit page's and API's filters; newest first."""
    from datetime import UTC, datetime, time, timedelta

    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor_email == actor.strip().lower())
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action.strip()))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type.strip())
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id.strip())
    if since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(since, time(), UTC))
    if until:
        stmt = stmt.where(AuditEvent.at < datetime.combine(until, time(), UTC) + timedelta(days=1))
    return stmt.order_by(AuditEvent.id.desc())
