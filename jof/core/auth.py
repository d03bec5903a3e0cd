"""Authentication: argon2id passwords, revocable cookie sessions, hashed API tokens.

Passwords use argon2id at t=2, m=19 MiB, p=1 (OWASP ASVS 5.0 App. C minimum; ~28 ms
here). The cookie session carries the user's ``session_version``: logout and password
change bump it server-side, so an old cookie is dead even if someone kept a copy.
Failed logins are rows in the database, so the throttle (:mod:`jof.core.throttle`)
holds across gunicorn workers.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, session
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from jof.core import audit, throttle
from jof.core.db import db, write_intent
from jof.core.errors import TooManyRequests, Unauthorized, ValidationFailed  # noqa: F401 (re-exported)
from jof.core.people import ApiToken, User
from jof.core.timeutil import utcnow

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: Verified against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def validate_new_password(password: str) -> None:
    minimum = current_app.config["JOF_PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise ValidationFailed({"password": [f"Use at least {minimum} characters."]})


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(email: str, password: str, remote_addr: str = "") -> User:
    """Check a login from ``remote_addr``; on :class:`Unauthorized` the caller must still
    commit (the failure counts), which the request boundary does when
    ``g.commit_on_error`` is set. :mod:`jof.core.throttle` says when to refuse (429)
    before any password is verified.

    A failure for an existing account is audited, but *deferred*: the event is sealed
    into the chain by the next transaction that seals, so failures never queue on the
    chain lock. A failure for an unknown e-mail writes no audit event at all (only the
    throttle's row): the trail records what happened to accounts, and an attacker
    spraying made-up addresses must not be able to grow it.
    """
    email = normalise_email(email)[:254]
    address = throttle.address_group(remote_addr)
    throttle.serialise(email, address)
    throttle.check(email, address)
    user = db.session.scalar(select(User).where(User.email == email))
    if not check_password(user, password) or not user.active:
        throttle.record_failure(email, address)
        if user is not None:
            audit.record(None, "auth.login_failed", object_type="user", object_id=email[:80],
                         after={"remote_addr": (remote_addr or "")[:64]}, deferred=True)
        raise Unauthorized("Wrong e-mail or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.forget_failures(email, address)
    throttle.remember(email, address)
    audit.record(user, "auth.login", user)
    return user


# --- cookie sessions -------------------------------------------------------------------


def start_session(user: User) -> None:
    """A fresh session at login (nothing of the anonymous one survives)."""
    session.clear()
    now = int(utcnow().timestamp())
    session.update(uid=user.id, sv=user.session_version, iat=now, seen=now)
    session.permanent = True


def end_session(user: User | None) -> None:
    if user is not None:
        user.session_version += 1
        audit.record(user, "auth.logout", user)
    session.clear()


def user_from_session() -> User | None:
    """The logged-in user, or None when the session is absent, revoked or timed out."""
    uid = session.get("uid")
    if uid is None:
        return None
    now = utcnow().timestamp()
    cfg = current_app.config
    if now - session.get("seen", 0) > cfg["JOF_IDLE_TIMEOUT"].total_seconds() or \
            now - session.get("iat", 0) > cfg["JOF_ABSOLUTE_TIMEOUT"].total_seconds():
        session.clear()
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_version != session.get("sv"):
        session.clear()
        return None
    session["seen"] = int(now)
    return user


def change_password(user: User, current: str, new: str) -> None:
    errors = {}
    if not check_password(user, current):
        errors["current_password"] = ["The current password is wrong."]
    try:
        validate_new_password(new)
    except ValidationFailed as exc:
        errors.update({"new_password": exc.errors["password"]})
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    user.session_version += 1  # other sessions of this user end here
    audit.record(user, "auth.password_changed", user)
    revoke_all_tokens(user, user)


# --- API tokens -------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "api") -> tuple[str, ApiToken]:
    token = "jof_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_digest(token), name=name[:100],
                   created_at=utcnow(),
                   expires_at=utcnow() + current_app.config["JOF_API_TOKEN_TTL"])
    db.session.add(row)
    audit.record(user, "auth.token_issued", row, after={"name": row.name, "expires_at": row.expires_at})
    return token, row


#: How stale a token's ``last_used_at`` may be: it is written at most once in this
#: interval, so a busy client does not turn every read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@cache
def _token_lookup():
    """The token by its digest with its user and roles, one statement built once."""
    return (select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.role_rows))
            .where(ApiToken.token_hash == bindparam("digest")))


def user_from_token(token: str) -> tuple[User, ApiToken] | None:
    """The token's user (and row), read with the user and their roles in one statement; ``last_used_at``
    moves forward at most once a minute (:data:`TOKEN_USE_RESOLUTION`)."""
    row = db.session.execute(_token_lookup(), {"digest": _digest(token)}).unique().scalar_one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if not row.user.active:
        return None
    stale = row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION
    # SQLite: a read-only request runs in a deferred transaction, which cannot take the
    # write lock later without failing under concurrent writers; it records nothing.
    if stale and (write_intent.get() or db.engine.dialect.name != "sqlite"):
        _record_use(row, now)
    return row.user, row


def _record_use(row: ApiToken, now) -> None:
    """Move ``last_used_at`` forward in one conditional ``UPDATE``: only if it is still
    stale in the database, and (PostgreSQL) only if no other worker holds the row, so
    concurrent requests with one token neither write twice nor wait for each other."""
    cutoff = now - TOKEN_USE_RESOLUTION
    free = (select(ApiToken.id).where(ApiToken.id == row.id,
                                      or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff))
            .with_for_update(skip_locked=True).scalar_subquery())
    db.session.execute(update(ApiToken).where(ApiToken.id == free).values(last_used_at=now)
                       .execution_options(synchronize_session=False))
    set_committed_value(row, "last_used_at", now)


def revoke_all_tokens(actor: User | None, user: User) -> int:
    """Revoke every live token of ``user`` (password change or reset, deactivation):
    whoever held the old password may have minted tokens with it."""
    now = utcnow()
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                     ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = now
    if rows:
        audit.record(actor, "auth.tokens_revoked", user, after={"tokens": len(rows)})
    return len(rows)


def revoke_token(user: User, row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(user, "auth.token_revoked", row)
