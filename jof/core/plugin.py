"""How a service line plugs into the app: the one call its ``install(app)`` ends with.

``create_app`` lists the installed lines in one place and calls each line's
``install(app)``; the line registers its request types, transition effects, charge
listeners, monthly billers and board effects in its own code, then hands its
blueprints and command group to :func:`mount`. Nothing is found by walking the file
system or by importing a module for its side effects.
"""

from __future__ import annotations

from flask import Flask

#: Endpoints anyone may open without logging in (besides the login page and the health
#: check): a line declares its public pages with :func:`public`.
PUBLIC_ENDPOINTS: set[str] = set()


def public(*endpoints: str) -> None:
    """Let ``endpoints`` through the login wall (e.g. HR's open vacancies)."""
    PUBLIC_ENDPOINTS.update(endpoints)


def mount(app: Flask, *, api=None, views=None, cli=None) -> None:
    """Register a line's API blueprint (under /api/v1, bearer tokens, so no CSRF), its
    HTML blueprint and its ``flask`` command group."""
    from jof.core.apikit import api as rest
    from jof.core.extensions import csrf

    if api is not None:
        rest.register_blueprint(api)
        csrf.exempt(api)  # bearer tokens, no cookies: nothing to forge
    if views is not None:
        app.register_blueprint(views)
    if cli is not None:
        app.cli.add_command(cli)
