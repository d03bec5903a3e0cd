"""Jinja helpers: facility-local times, money, the navigation a role sees."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, g
from flask_babel import format_datetime, get_locale
from flask_wtf.csrf import generate_csrf

from jof.core.people import Role


def money(value: Decimal | None, currency: str = "USD") -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}"
    if str(get_locale()) == "pt_BR":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{currency} {text}"


def local_dt(value) -> str:
    return format_datetime(value, "short") if value else "—"


def nav_items(user) -> list[tuple[str, str]]:
    """(endpoint, label) pairs for the top navigation, by role."""
    from flask_babel import gettext as _

    if user is None:
        return []
    items = [("core.dashboard", _("Dashboard"))]
    if user.is_facility_staff:
        items.append(("core.queue", _("Queue")))
    else:
        items.append(("core.queue", _("Our requests")))
    if user.has_role(Role.ADMIN):
        items += [("core.admin_agencies", _("Agencies")), ("core.admin_users", _("Users")),
                  ("core.rates", _("Exchange rates"))]
    elif user.has_role(Role.MANAGER, Role.AUDITOR):
        items.append(("core.rates", _("Exchange rates")))
    if user.has_role(Role.AUDITOR, Role.ADMIN, Role.MANAGER):
        items.append(("core.audit_page", _("Audit trail")))
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_dt"] = local_dt

    @app.context_processor
    def _globals():
        user = g.get("user")
        unread = 0
        if user is not None:
            from sqlalchemy import func, select

            from jof.core.db import db
            from jof.core.notifications import Notification

            unread = db.session.scalar(select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
        return {"current_user": user, "nav_items": nav_items(user), "unread_count": unread,
                "csrf_token": generate_csrf, "languages": app.config["JOF_LANGUAGES"],
                "current_locale": str(get_locale())}
