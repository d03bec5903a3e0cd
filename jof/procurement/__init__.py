"""Procurement (DESIGN §3): requisitions pooled into tenders, bids and their evaluation,
awards, purchase orders, receipts, long-term agreements and savings."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types, effects and listeners, then its
    blueprints and commands (see ``docs/architecture.md``, "How to add a service line")."""
    from jof.core import plugin
    from jof.procurement import api, models, services, states, views  # noqa: F401  (models and registrations)

    plugin.mount(app, api=api.blp, views=views.bp)
