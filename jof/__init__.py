"""JOF: the software a Joint Operations Facility of UN agencies runs on."""

from __future__ import annotations

import logging

from flask import Flask, g, has_request_context, request

from jof import billing, governance, hr, ict, monitoring, procurement, travel
from jof.core import plugin

#: The service lines this app runs, in the order they are installed: governance first
#: (the board's effect registry that the others fill), billing after them (it prices what the
#: others record), monitoring after them all (it measures what they do). Adding a line
#: means adding it here; see docs/architecture.md.
LINES = (governance, procurement, travel, ict, hr, billing, monitoring)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    from jof import config

    config.load(app, overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    from jof.core.extensions import babel, bootstrap, csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    csrf.init_app(app)
    bootstrap.init_app(app)

    def select_locale():
        user = g.get("user")
        if user is not None:
            return user.locale
        if not has_request_context():  # a command or a job: the words are English unless forced
            return "en"
        return request.accept_languages.best_match(list(app.config["JOF_LANGUAGES"])) or "en"

    def select_timezone():
        from jof.core.people import Facility

        facility = db.session.get(Facility, 1)
        return facility.time_zone if facility else "UTC"

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from jof import web

    web.init_app(app)
    from jof.core import alerts

    alerts.init_app(app)

    _register_core_models()
    from jof.core.apikit import api

    api.init_app(app)
    from jof.core.api import blp as core_api
    from jof.core.views import bp as core_views

    plugin.mount(app, api=core_api, views=core_views)
    from jof.core.profile import bp as profile_views

    plugin.mount(app, views=profile_views)
    from jof.core.settings_views import bp as settings_views

    plugin.mount(app, views=settings_views)
    for line in LINES:
        line.install(app)

    from jof import cli

    cli.init_app(app)
    from jof.core.templating import init_app as init_templating

    init_templating(app)
    from jof.core.field_messages import init_app as init_field_messages

    init_field_messages(app)
    return app


def _register_core_models() -> None:
    """Import core's model modules so the metadata (and Alembic) sees their tables; each
    line's ``install`` imports its own."""
    from jof.core import (  # noqa: F401
        alerts,
        audit,
        calendar,
        charges,
        counters,
        jobs,
        money,
        notifications,
        once,
        people,
        workflow,
    )


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
