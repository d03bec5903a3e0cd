"""E-mail: written while the change happens, sent only once it is committed.

A message is rendered at once (the recipient's language and the facility's time zone
are known then) and parked in the session's outbox. When the transaction commits, the
outbox goes out: onto the RQ queue when ``REDIS_URL`` is set (``jof.worker.send_mail``
sends it), else straight to the SMTP server from this process. When the transaction
rolls back, the outbox is dropped, so nobody is told of a change that did not happen; a
savepoint that rolls back drops what was written inside it. Nothing is queued at all
while ``MAIL_SERVER`` is unset.

An SMTP failure after the commit is logged and never turns the answer into an error: the
change is made, and the in-app notification carries the same news.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass

from flask import current_app, has_app_context
from flask_mailman import EmailMessage, Mail
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

mail = Mail()

OUTBOX = "jof_outbox"


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str


def init_app(app) -> None:
    mail.init_app(app)


def enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


def redis_url() -> str | None:
    cfg = current_app.config
    url = cfg["REDIS_URL"] if "REDIS_URL" in cfg else os.environ.get("REDIS_URL")
    return url or None


def queue(session: Session, to: str, subject: str, body: str) -> Outgoing | None:
    """Send ``subject``/``body`` to ``to`` once ``session``'s transaction commits."""
    if not enabled() or not to:
        return None
    message = Outgoing(to=to, subject=subject, body=body)
    session = _real(session)
    # Tagged with the innermost savepoint (or None): its rollback drops the message.
    session.info.setdefault(OUTBOX, []).append((session.get_nested_transaction(), message))
    return message


def pending(session: Session) -> list[Outgoing]:
    return [m for _tx, m in _real(session).info.get(OUTBOX, [])]


def _real(session):
    return session() if isinstance(session, scoped_session) else session


def send_now(message: Outgoing | dict) -> None:
    """Hand one message to the SMTP server (needs an app context)."""
    if isinstance(message, dict):
        message = Outgoing(**message)
    cfg = current_app.config
    # The settings as they are now (not as Flask-Mailman read them at start-up).
    connection = mail.get_connection(
        backend="smtp", host=cfg["MAIL_SERVER"], port=cfg.get("MAIL_PORT", 25),
        username=cfg.get("MAIL_USERNAME"), password=cfg.get("MAIL_PASSWORD"),
        use_tls=bool(cfg.get("MAIL_USE_TLS")), timeout=cfg.get("MAIL_TIMEOUT", 10))
    EmailMessage(subject=message.subject, body=message.body, to=[message.to],
                 from_email=cfg.get("MAIL_DEFAULT_SENDER"), connection=connection).send()


def _deliver(messages: list[Outgoing]) -> None:
    url = redis_url()
    if url:
        try:
            from redis import Redis
            from rq import Queue

            from jof.core.jobs import queue_name

            # The job queue, so the one worker (`jof worker`) sends them.
            q = Queue(queue_name(), connection=Redis.from_url(url))
            for message in messages:
                q.enqueue("jof.worker.send_mail", asdict(message), description=f"mail to {message.to}")
            return
        except Exception as exc:  # noqa: BLE001 - the queue is down: send from here instead
            log.warning("mail queue unreachable (%s); sending in-process", exc)
    for message in messages:
        try:
            send_now(message)
        except Exception:  # noqa: BLE001 - the change is committed; the failure is logged
            log.exception("e-mail to %s could not be sent", message.to)


def _within(tx, ended) -> bool:
    while tx is not None:
        if tx is ended:
            return True
        tx = tx.parent
    return False


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    outbox = session.info.pop(OUTBOX, None)
    if outbox and has_app_context():
        _deliver([m for _tx, m in outbox])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    outbox = session.info.get(OUTBOX)
    if not outbox:
        return
    if not previous_transaction.nested:
        session.info.pop(OUTBOX, None)
        return
    session.info[OUTBOX] = [(tx, m) for tx, m in outbox if not _within(tx, previous_transaction)]
