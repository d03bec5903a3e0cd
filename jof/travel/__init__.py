"""Travel (DESIGN §4): travel requests, quotes and tickets, DSA and terminal expenses,
claims and settlement."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types, effects and listeners, then its
    blueprints and commands (see ``docs/architecture.md``, "How to add a service line")."""
    from jof.core import plugin
    from jof.travel import api, models, states, views  # noqa: F401  (models and registrations)

    plugin.mount(app, api=api.blp, views=views.bp)
