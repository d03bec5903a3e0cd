"""Billing (DESIGN §7): price list, charge ledger, period close, invoices, credit notes,
payments, statements of account and their PDFs."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types, effects and listeners, then its
    blueprints and commands (see ``docs/architecture.md``, "How to add a service line")."""
    from jof.billing import api, cli, models, pricing, services, views  # noqa: F401  (models and registrations)
    from jof.core import charges, plugin

    charges.register_fee_quote(pricing.quote)
    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.billing_cli)
