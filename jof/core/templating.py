"""Jinja helpers: the formatting filters (from ``jof.core.formatting``), labels, the
navigation a role sees."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from jof.core import formatting
from jof.core.people import Role
from jof.core.words import (  # noqa: F401  (the lines update these through templating)
    ACTION_DONE_LABELS,
    ACTION_LABELS,
    STATUS_LABELS,
    action_done_label,
    action_label,
    status_label,
)

#: Bootstrap colour of each state's badge: where the request stands at a glance.
STATUS_CLASSES = {
    "draft": "secondary",
    "submitted": "info",
    "certified": "info",
    "approved": "primary",
    "in_progress": "warning",
    "completed": "success",
    "rejected": "danger",
    "cancelled": "dark",
}

#: Translatable names of request types, filled by each line's views (a type's own label is plain English).
TYPE_LABELS: dict = {}

ROLE_LABELS = {
    Role.REQUESTER: _l("Requester"),
    Role.AGENCY_HEAD: _l("Agency head"),
    Role.OFFICER: _l("Officer"),
    Role.MANAGER: _l("Manager"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("Administrator"),
    Role.RESIDENT_COORDINATOR: _l("Resident Coordinator"),
}

SERVICE_LINE_LABELS = {
    "procurement": _l("Procurement"),
    "travel": _l("Travel"),
    "ict": _l("ICT"),
    "hr": _l("Human resources"),
}


#: The formatting layer's functions under their old names here, for code that imports them.
money = formatting.money
local_dt = formatting.local_dt


def status_class(status: str | None) -> str:
    return STATUS_CLASSES.get(status or "", "secondary")


def type_label(code: str) -> str:
    from jof.core import workflow
    from jof.core.errors import NotFound

    if code in TYPE_LABELS:
        return str(TYPE_LABELS[code])
    try:
        return workflow.get_type(code).label
    except NotFound:
        return code


def role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role


def line_label(line: str) -> str:
    label = SERVICE_LINE_LABELS.get(line)
    return str(label) if label is not None else line


def audit_changes(before: dict | None, after: dict | None, limit: int = 80) -> list[tuple[str, str, str]]:
    """(field, before, after) for what an audit event changed, values shortened for a table."""

    def short(value) -> str:
        if value is None:
            return "—"
        text = value if isinstance(value, str) else str(value)
        return text if len(text) <= limit else text[: limit - 1] + "…"

    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        rows.append((key, short(old) if key in before else "", short(new) if key in after else ""))
    return rows


def page_url(page: int) -> str:
    """This page's URL with its query (the filters) kept and another page number."""
    from flask import request, url_for

    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, page=page)


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
    items.append(("ict.home", _("ICT")))
    items.append(("travel.home", _("Travel")))
    items.append(("hr.recruitments_page", _("HR")))
    items.append(("governance.board", _("Board")))
    items.append(("governance.costs", _("Shared costs")))
    items.append(("procurement.index", _("Procurement")))
    items.append(("billing.invoice_list", _("Invoices")))
    items.append(("monitoring.dashboard_page", _("Monitoring")))
    if user.has_role(Role.ADMIN):
        items += [("core.admin_agencies", _("Agencies")), ("core.admin_users", _("Users")),
                  ("core.rates", _("Exchange rates"))]
    elif user.has_role(Role.MANAGER, Role.AUDITOR, Role.RESIDENT_COORDINATOR):
        items.append(("core.rates", _("Exchange rates")))
    if user.has_role(Role.ADMIN, Role.MANAGER, Role.AUDITOR):
        items.append(("settings.invoicing", _("Bank details")))
    if user.has_role(Role.AUDITOR, Role.ADMIN, Role.MANAGER, Role.RESIDENT_COORDINATOR):
        items.append(("core.audit_page", _("Audit trail")))
    return items


def init_app(app: Flask) -> None:
    # One formatting layer (jof.core.formatting): no template prints a Decimal or a
    # datetime by itself.
    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["amount"] = formatting.amount
    app.jinja_env.filters["unit_price"] = formatting.unit_price
    app.jinja_env.filters["rate"] = formatting.rate
    app.jinja_env.filters["quantity"] = formatting.quantity
    app.jinja_env.filters["percent"] = formatting.percent
    app.jinja_env.filters["local_dt"] = formatting.local_dt
    app.jinja_env.filters["local_date"] = formatting.local_date
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["status_class"] = status_class
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.filters["action_done_label"] = action_done_label
    app.jinja_env.filters["type_label"] = type_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["line_label"] = line_label
    from jof.core import jobs

    app.jinja_env.filters["job_kind"] = jobs.kind_label
    app.jinja_env.filters["job_status"] = jobs.status_label
    app.jinja_env.globals["audit_changes"] = audit_changes
    app.jinja_env.globals["page_url"] = page_url

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
