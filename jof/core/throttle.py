"""Login throttling that slows guessing without locking anyone out.

The old rule (5 failures lock an account for 15 minutes, whoever sent them) let anyone
who knew an e-mail address deny its owner a login. The rules now are, per failure
counted in the database (so they hold across gunicorn workers):

* **one address, one account**: after ``JOF_LOGIN_MAX_FAILURES`` (5) failures within
  ``JOF_LOGIN_WINDOW`` (15 minutes) that address gets 429 for that account, right
  password or not, until the oldest failure leaves the window;
* **one address, any account**: after ``JOF_LOGIN_MAX_FAILURES_PER_ADDRESS`` (30) the
  address gets 429 for every account (password spraying);
* **one account, any address**: after ``JOF_LOGIN_ACCOUNT_FREE_FAILURES`` (10) failures
  each next attempt must wait ``2 ** (n - 10)`` seconds after the last failure, at most
  ``JOF_LOGIN_MAX_DELAY`` (60 s): a guesser spread over many addresses is slowed down,
  and each wait is at most a minute, never a quarter of an hour. An address that has
  signed in to the account before (:class:`~jof.core.people.KnownLoginAddress`) is
  exempt, so guessers elsewhere cannot keep the owner waiting from their usual place.

An address is counted as its **group**: an IPv4 address alone, an IPv6 address by its
/64 network (one host holds a whole /64 and can rotate through it at will).

A refused attempt (429) verifies no password and writes nothing, so it costs the server
a few indexed counts. Every 429 says when to come back (``Retry-After``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from jof.core.db import db
from jof.core.errors import TooManyRequests
from jof.core.people import KnownLoginAddress, LoginAttempt
from jof.core.timeutil import utcnow


def address_group(remote_addr: str) -> str:
    """The key the throttle counts a client address by: IPv6 grouped by /64 (an
    IPv4-mapped address as its IPv4 address), IPv4 and anything unparsable as given."""
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return (remote_addr or "")[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def serialise(email: str, address: str) -> None:
    """Queue concurrent logins to one account from one address, to the commit.

    Counting, verifying and recording a failure are three statements: without a lock,
    30 parallel wrong guesses on PostgreSQL all counted 0-4 failures before any was
    recorded and 18 got to try a password. The lock is per (account, address), so the
    owner logging in from elsewhere never queues behind an attacker. SQLite needs none:
    a login writes, and JOF takes SQLite's write lock when such a request begins.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"login\0{email}\0{address}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _refuse(seconds: float, detail: str) -> TooManyRequests:
    return TooManyRequests(detail, retry_after=max(1, math.ceil(seconds)))


def _window_exceeded(where, limit: int, window: timedelta, now: datetime) -> float | None:
    """Seconds until fewer than ``limit`` failures matching ``where`` are in the window,
    or None when fewer already are."""
    since = now - window
    count = db.session.scalar(select(func.count(LoginAttempt.id)).where(*where, LoginAttempt.at > since)) or 0
    if count < limit:
        return None
    # The count falls below the limit once the (count - limit + 1) oldest have expired.
    oldest_to_expire = db.session.scalar(
        select(LoginAttempt.at).where(*where, LoginAttempt.at > since)
        .order_by(LoginAttempt.at).offset(count - limit).limit(1))
    return (oldest_to_expire + window - now).total_seconds()


def check(email: str, address: str) -> None:
    """Raise :class:`TooManyRequests` (with ``retry_after``) when this attempt must wait."""
    cfg = current_app.config
    now = utcnow()
    window = cfg["JOF_LOGIN_WINDOW"]
    wait = _window_exceeded((LoginAttempt.remote_addr == address,),
                            cfg["JOF_LOGIN_MAX_FAILURES_PER_ADDRESS"], window, now)
    if wait is not None:
        raise _refuse(wait, _("Too many failed logins from your network address. Try again in "
                              "%(minutes)s minutes.", minutes=math.ceil(wait / 60)))
    wait = _window_exceeded((LoginAttempt.email == email, LoginAttempt.remote_addr == address),
                            cfg["JOF_LOGIN_MAX_FAILURES"], window, now)
    if wait is not None:
        raise _refuse(wait, _("Too many failed logins for this account from your network address. "
                              "Try again in %(minutes)s minutes, or ask an administrator to reset "
                              "your password.", minutes=math.ceil(wait / 60)))
    if is_known(email, address):
        return  # the owner's usual place: only the per-address limits above apply
    count, last = db.session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.at > now - window)).one()
    free = cfg["JOF_LOGIN_ACCOUNT_FREE_FAILURES"]
    if count >= free and last is not None:
        delay = min(2.0 ** min(count - free, 32), cfg["JOF_LOGIN_MAX_DELAY"].total_seconds())
        wait = (last + timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            raise _refuse(wait, _("Too many failed logins for this account. Try again in %(seconds)s "
                                  "seconds.", seconds=max(1, math.ceil(wait))))


def is_known(email: str, address: str) -> bool:
    return db.session.scalar(select(KnownLoginAddress.id).where(
        KnownLoginAddress.email == email, KnownLoginAddress.remote_addr == address)) is not None


def remember(email: str, address: str) -> None:
    """Record that ``address`` signed in to the account (insert or refresh, race-free)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    stmt = insert(KnownLoginAddress).values(email=email, remote_addr=address, last_login_at=now)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["email", "remote_addr"],
                                                  set_={"last_login_at": now}))


def record_failure(email: str, address: str) -> None:
    db.session.add(LoginAttempt(email=email, at=utcnow(), remote_addr=address))


def forget_failures(email: str, address: str) -> None:
    """A right password clears this address's failures for the account (the owner's
    typos), not those of other addresses (an attacker's, which still slow them)."""
    db.session.execute(LoginAttempt.__table__.delete().where(
        LoginAttempt.email == email, LoginAttempt.remote_addr == address))
