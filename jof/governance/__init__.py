"""Governance (DESIGN §6): the board of agency heads, one agency one vote; decisions,
their effects, cost pools, cost-sharing keys and the allocation of shared costs."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types, effects and listeners, then its
    blueprints and commands (see ``docs/architecture.md``, "How to add a service line")."""
    from jof.core import plugin
    from jof.governance import api, cli, models, services, views  # noqa: F401  (models and registrations)

    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.governance_cli)
