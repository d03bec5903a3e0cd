"""Alerts that reach people: in-app and by e-mail, as each person chose (DESIGN §8).

Two ways an alert is raised:

- **events**, where they happen: a line calls :func:`raise_alert` in the transaction that
  makes the change (a request waiting for someone's action, a vote opened or closed, an
  invoice issued), so a rolled-back change raises nothing;
- **time**, by ``jof monitoring run``: :func:`run_timed` asks every registered timed
  source (:func:`register_timed`, filled by the lines' ``install(app)``) which alerts
  are due now (a vote closing within 24 h, an SLA at 80 % or breached, the daily
  digest) and raises each once: a row in ``sent_alert`` with a unique key per kind,
  object, recipient and occasion is written first, so a second run, or two runs at the
  same time, send nothing new (the loser of the race meets the unique key).

Each recipient reads the alert in their own language (their stored locale) and in the
facility's time zone. Per kind, a person chooses e-mail (with the in-app note), in-app
only, or nothing; with the daily digest on, their e-mails are gathered into one message
a day instead of one per alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, format_date, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from jof.core import audit, authz, mail
from jof.core.calendar import local_date
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.formatting import amount, facility_time
from jof.core.notifications import Notification, notify
from jof.core.people import Role, User, UserRole
from jof.core.timeutil import UTCDateTime, utcnow

REQUEST_WAITING = "request_waiting"
VOTE_OPENED = "vote_opened"
VOTE_CLOSING = "vote_closing"
VOTE_CLOSED = "vote_closed"
INVOICE_ISSUED = "invoice_issued"
SLA_AT_RISK = "sla_at_risk"
SLA_BREACHED = "sla_breached"
DAILY_DIGEST = "daily_digest"

#: Every alert kind a person can choose for, with the name the profile page shows.
KINDS = {
    REQUEST_WAITING: _l("A request waits for my action"),
    VOTE_OPENED: _l("A vote opened"),
    VOTE_CLOSING: _l("A vote closes within 24 hours"),
    VOTE_CLOSED: _l("A vote closed, with its outcome"),
    INVOICE_ISSUED: _l("An invoice was issued"),
    SLA_AT_RISK: _l("A service level is at risk (80 percent of its target used)"),
    SLA_BREACHED: _l("A service level was breached"),
}

EMAIL, IN_APP, OFF = "email", "in_app", "off"
CHANNELS = {EMAIL: _l("E-mail and in-app"), IN_APP: _l("In-app only"), OFF: _l("Off")}
DEFAULT_CHANNEL = EMAIL


class AlertPreference(db.Model):
    """How one person wants one kind of alert; no row means the default (e-mail)."""

    __tablename__ = "alert_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: A key of :data:`KINDS`.
    kind: Mapped[str] = mapped_column(String(30))
    #: ``email`` (and in-app), ``in_app`` or ``off``.
    channel: Mapped[str] = mapped_column(String(10))


class DigestPreference(db.Model):
    """Whether a person's alert e-mails come as one daily digest (off by default)."""

    __tablename__ = "alert_digest"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    daily: Mapped[bool] = mapped_column(Boolean, default=False)


class SentAlert(db.Model):
    """A timed alert raised once: the unique key makes every later run skip it."""

    __tablename__ = "sent_alert"
    __table_args__ = (UniqueConstraint("kind", "object_key", "recipient_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    #: What the alert is about, e.g. ``decision:12`` or ``request:ICT-2026-00042``.
    object_key: Mapped[str] = mapped_column(String(100))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: Which occurrence: the due time breached, the closing time, the digest's day.
    occasion: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class T(str):
    """A parameter of an alert message that is itself translated (an outcome, a status)."""


class Amount(Decimal):
    """A parameter of an alert message that is an amount: written in each recipient's
    locale (``12,880.00`` / ``12.880,00``) by :func:`jof.core.formatting.amount`."""


@dataclass(frozen=True)
class Alert:
    """One alert to raise: ``message`` is an English message id with ``%(name)s``
    parameters, translated for each recipient; datetimes among ``params`` are shown in
    the facility's time zone. ``object_key`` and ``occasion`` make a timed alert once-only."""

    kind: str
    recipients: Sequence[User]
    message: str
    params: dict = field(default_factory=dict)
    link: str = ""
    object_key: str = ""
    occasion: str = ""


# --- who ------------------------------------------------------------------------------------


def users_with_roles(*roles: str) -> list[User]:
    """Active users holding any of ``roles`` (e.g. the manager and the RC)."""
    return list(db.session.scalars(
        select(User).where(User.active, User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
        .order_by(User.id)))


def heads_of(agency_ids: Iterable[int]) -> list[User]:
    """The heads of these agencies and the alternates they named."""
    ids = list(agency_ids)
    users = db.session.scalars(select(User).where(User.agency_id.in_(ids), User.active).order_by(User.id))
    return [u for u in users if authz.is_head_of(u, u.agency)]


def governance_watchers() -> list[User]:
    """Who is told of every board event besides the voting heads: the facility manager
    and the Resident Coordinator, who chairs the board."""
    return users_with_roles(Role.MANAGER, Role.RESIDENT_COORDINATOR)


# --- preferences ----------------------------------------------------------------------------


def channel_for(user: User, kind: str) -> str:
    row = db.session.scalar(select(AlertPreference.channel).where(
        AlertPreference.user_id == user.id, AlertPreference.kind == kind))
    return row or DEFAULT_CHANNEL


def digest_on(user: User) -> bool:
    return bool(db.session.scalar(select(DigestPreference.daily).where(DigestPreference.user_id == user.id)))


def preferences(user: User) -> dict:
    rows = dict(db.session.execute(select(AlertPreference.kind, AlertPreference.channel)
                                   .where(AlertPreference.user_id == user.id)).all())
    return {"channels": {kind: rows.get(kind, DEFAULT_CHANNEL) for kind in KINDS},
            "daily_digest": digest_on(user)}


def set_preferences(actor: User, user: User, channels: dict, daily_digest: bool) -> dict:
    """Store a person's choices (their own only), audited; unknown kinds or channels are
    a 422 naming the field."""
    if actor.id != user.id:
        from jof.core.errors import Forbidden

        raise Forbidden("You can only change your own alert preferences.")
    errors = {}
    for kind, channel in channels.items():
        if kind not in KINDS:
            errors[kind] = [gettext("Unknown kind of alert.")]
        elif channel not in CHANNELS:
            errors[kind] = [gettext("Choose e-mail, in-app only or off.")]
    if errors:
        raise ValidationFailed(errors)
    before = preferences(user)
    for kind, channel in channels.items():
        row = db.session.scalar(select(AlertPreference).where(
            AlertPreference.user_id == user.id, AlertPreference.kind == kind))
        if row is None:
            db.session.add(AlertPreference(user_id=user.id, kind=kind, channel=channel))
        else:
            row.channel = channel
    digest = db.session.get(DigestPreference, user.id)
    if digest is None:
        db.session.add(DigestPreference(user_id=user.id, daily=bool(daily_digest)))
    else:
        digest.daily = bool(daily_digest)
    db.session.flush()
    after = preferences(user)
    audit.record(actor, "alerts.preferences", user, before=before, after=after)
    return after


# --- raising --------------------------------------------------------------------------------


def _render(message: str, params: dict, locale: str = "en") -> str:
    shown = {}
    for name, value in params.items():
        if isinstance(value, Amount):
            shown[name] = amount(value, locale=locale)
        elif isinstance(value, datetime):  # a message outlives the request: the zone is named
            shown[name] = facility_time(value)
        elif isinstance(value, date):
            shown[name] = format_date(value, "medium")
        elif isinstance(value, T):
            shown[name] = gettext(str(value))
        else:
            shown[name] = value
    return gettext(message, **shown)


def _link_url(link: str) -> str:
    base = (current_app.config.get("JOF_BASE_URL") or "").rstrip("/")
    return f"{base}{link}" if link else ""


def _claim(kind: str, object_key: str, recipient: User, occasion: str) -> bool:
    """Record that this alert goes out; False when some run already sent it."""
    try:
        with db.session.begin_nested():
            db.session.add(SentAlert(kind=kind, object_key=object_key[:100], recipient_id=recipient.id,
                                     occasion=occasion[:64], sent_at=utcnow()))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def raise_alert(kind: str, recipients: Iterable[User | None], message: str, params: dict | None = None,
                link: str = "", *, object_key: str = "", occasion: str = "", actor: User | None = None) -> int:
    """Tell each recipient (once, whatever the duplicates): an in-app notification and,
    as they chose, an e-mail after the commit. With ``occasion``, the alert is once-only
    per recipient (see :class:`SentAlert`). ``actor``, who caused the event, is not told
    of it. Returns how many people were told."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    params = params or {}
    told = 0
    seen: set[int] = {actor.id} if actor is not None else set()
    for user in recipients:
        if user is None or not user.active or user.id in seen:
            continue
        seen.add(user.id)
        if occasion and not _claim(kind, object_key, user, occasion):
            continue
        channel = channel_for(user, kind)
        if channel == OFF:
            continue
        with force_locale(user.locale or "en"):
            text = _render(message, params, user.locale or "en")
            subject = f"JOF: {KINDS[kind]}"
            body = text + ("\n\n" + gettext("Open in JOF: %(link)s", link=_link_url(link)) if link else "")
        notify(user, text, link, kind=kind)
        told += 1
        if channel == EMAIL and not digest_on(user):
            mail.queue(db.session, user.email, subject, body)
    return told


# --- timed alerts ---------------------------------------------------------------------------

TimedSource = Callable[[datetime], Iterable[Alert]]
_TIMED: dict[tuple[str, str], TimedSource] = {}


def register_timed(kind: str, fn: TimedSource, name: str | None = None) -> None:
    """Add a source of timed alerts of ``kind``: ``fn(now)`` yields the alerts due now,
    each with an ``object_key`` and an ``occasion`` (raised once per recipient). Lines
    call it from ``install(app)``; installing again replaces the source of that name."""
    if kind not in KINDS and kind != DAILY_DIGEST:
        raise ValueError(f"unknown alert kind {kind!r}")
    _TIMED[(kind, name or f"{fn.__module__}.{fn.__qualname__}")] = fn


def timed_sources() -> list[tuple[str, str]]:
    return sorted(_TIMED)


def run_timed(now: datetime | None = None) -> dict[str, int]:
    """Raise every timed alert due at ``now``, each once; how many people were told, per
    kind. Never commits (``jof monitoring run`` does)."""
    now = now or utcnow()
    told: dict[str, int] = {}
    for (kind, _name), fn in sorted(_TIMED.items()):
        for alert in fn(now):
            if alert.kind == DAILY_DIGEST:
                n = _send_digest(alert)
            else:
                n = raise_alert(alert.kind, alert.recipients, alert.message, alert.params, alert.link,
                                object_key=alert.object_key, occasion=alert.occasion or now.isoformat())
            told[kind] = told.get(kind, 0) + n
    return told


# --- the daily digest -----------------------------------------------------------------------


def digest_source(now: datetime) -> Iterable[Alert]:
    """One digest a facility day for each person who asked for it and was alerted by
    e-mail-worthy kinds in the last 24 hours."""
    day = local_date(now)
    users = db.session.scalars(select(User).join(DigestPreference, DigestPreference.user_id == User.id)
                               .where(DigestPreference.daily, User.active).order_by(User.id))
    for user in users:
        yield Alert(DAILY_DIGEST, [user], "", {"since": now - timedelta(days=1)},
                    object_key=f"user:{user.id}", occasion=day.isoformat())


def _send_digest(alert: Alert) -> int:
    (user,) = alert.recipients
    wanted = {k for k in KINDS if channel_for(user, k) == EMAIL}
    notes = [n for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id,
                                   Notification.created_at >= alert.params["since"])
        .order_by(Notification.id)) if n.kind in wanted]
    if not notes or not _claim(DAILY_DIGEST, alert.object_key, user, alert.occasion):
        return 0
    with force_locale(user.locale or "en"):
        subject = gettext("JOF: your daily digest of %(day)s", day=alert.occasion)
        lines = [gettext("%(count)s alerts in the last 24 hours:", count=len(notes)), ""]
        lines += [f"- {n.message}" + (f" ({_link_url(n.link)})" if n.link else "") for n in notes]
    mail.queue(db.session, user.email, subject, "\n".join(lines))
    return 1


def init_app(app) -> None:
    """E-mail and core's own timed source (the digest)."""
    mail.init_app(app)
    register_timed(DAILY_DIGEST, digest_source, name="core.digest")

