"""In-app notifications (the list under the bell). Alerts (``jof.core.alerts``) write
them, in the recipient's language, and send the e-mail their owner asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jof.core.db import db
from jof.core.timeutil import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    #: Path inside JOF the notification points to, e.g. /requests/PRC-2026-00042.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The alert kind that raised it (``jof.core.alerts.KINDS``); empty for other news.
    kind: Mapped[str] = mapped_column(String(30), default="", server_default="")


def notify(user, message: str, link: str = "", kind: str = "") -> Notification | None:
    if user is None or not user.active:
        return None
    n = Notification(user_id=user.id, message=message, link=link, kind=kind, created_at=utcnow())
    db.session.add(n)
    return n


def mark_read(user, notification: Notification) -> None:
    if notification.user_id != user.id:
        from jof.core.errors import NotFound

        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
