"""JOF: the software a Joint Operations Facility of UN agencies runs on."""

from __future__ import annotations

import logging

from flask import Flask, g, request


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    from jof import config

    config.load(app, overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    from jof.extensions import babel, bootstrap, csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    csrf.init_app(app)
    bootstrap.init_app(app)

    def select_locale():
        user = g.get("user")
        if user is not None:
            return user.locale
        return request.accept_languages.best_match(list(app.config["JOF_LANGUAGES"])) or "en"

    def select_timezone():
        from jof.core.people import Facility

        facility = db.session.get(Facility, 1)
        return facility.time_zone if facility else "UTC"

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from jof import web

    web.init_app(app)

    _register_models()
    from jof.core.apikit import api

    api.init_app(app)
    from jof.core.api import blp as core_api

    api.register_blueprint(core_api)
    csrf.exempt(core_api)  # bearer tokens, no cookies: nothing to forge
    from jof.governance.api import blp as governance_api

    api.register_blueprint(governance_api)
    csrf.exempt(governance_api)
    from jof.procurement.api import blp as procurement_api

    api.register_blueprint(procurement_api)
    csrf.exempt(procurement_api)
    from jof.ict.api import blp as ict_api

    api.register_blueprint(ict_api)
    csrf.exempt(ict_api)
    from jof.travel.api import blp as travel_api

    api.register_blueprint(travel_api)
    csrf.exempt(travel_api)
    from jof.billing.api import blp as billing_api

    api.register_blueprint(billing_api)
    csrf.exempt(billing_api)

    from jof.core.views import bp as core_views

    app.register_blueprint(core_views)
    from jof.governance.views import bp as governance_views

    app.register_blueprint(governance_views)
    from jof.procurement.views import bp as procurement_views

    app.register_blueprint(procurement_views)
    from jof.ict.views import bp as ict_views

    app.register_blueprint(ict_views)
    from jof.travel.views import bp as travel_views

    app.register_blueprint(travel_views)
    from jof.billing.views import bp as billing_views

    app.register_blueprint(billing_views)

    from jof import cli

    cli.init_app(app)
    from jof.core.templating import init_app as init_templating

    init_templating(app)
    return app


def _register_models() -> None:
    """Import every model module so the metadata (and Alembic) sees all tables."""
    import jof.billing.models  # noqa: F401
    import jof.billing.pricing  # noqa: F401  (registers the price_list effect)
    import jof.billing.services  # noqa: F401  (posts recorded events to the ledger)
    import jof.core.audit  # noqa: F401
    import jof.core.calendar  # noqa: F401
    import jof.core.charges  # noqa: F401
    import jof.core.counters  # noqa: F401
    import jof.core.money  # noqa: F401
    import jof.core.notifications  # noqa: F401
    import jof.core.people  # noqa: F401
    import jof.core.workflow  # noqa: F401
    import jof.governance.models  # noqa: F401
    import jof.governance.services  # noqa: F401  (registers the board's effects)
    import jof.ict.models  # noqa: F401
    import jof.ict.states  # noqa: F401  (registers the ICT request types)
    import jof.procurement.models  # noqa: F401
    import jof.procurement.services  # noqa: F401  (requisition type, manual effect)
    import jof.travel.models  # noqa: F401
    import jof.travel.states  # noqa: F401  (registers the travel request type)


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
