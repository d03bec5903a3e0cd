"""ICT (DESIGN §5): the catalogue, subscriptions with prorated monthly billing, and
tickets on working-hours SLA clocks."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types, effects and listeners, then its
    blueprints and commands (see ``docs/architecture.md``, "How to add a service line")."""
    from jof.core import charges, plugin
    from jof.ict import api, cli, models, services, states, views  # noqa: F401  (models and registrations)

    charges.register_monthly_biller("ict", services.monthly_billing_note)

    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.ict_cli)
