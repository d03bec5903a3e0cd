"""Governance (DESIGN §6): the board of agency heads, one agency one vote; decisions,
their effects, cost pools, cost-sharing keys and the allocation of shared costs."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: the effects its own modules apply, then its blueprints
    and commands (see ``docs/architecture.md``, "How to add a service line").

    Registering again for a second app replaces the same entries: harmless.
    """
    from jof.core import alerts, home, plugin
    from jof.governance import (  # noqa: F401  (states: the tables)
        api,
        cli,
        cost_sharing,
        effects,
        membership,
        reminders,
        states,
        todo,
        views,
    )

    effects.register("cost_sharing_key", cost_sharing.validate_key_payload, cost_sharing.apply_key)
    # Membership is a current state, not a dated row: it changes on its effective date.
    effects.register("membership", membership.validate_membership, membership.apply_membership,
                     on_effective_date=True)
    home.register_panel("governance.votes", todo.votes_to_cast)
    alerts.register_timed(alerts.VOTE_CLOSING, reminders.votes_closing, name="governance.votes_closing")
    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.governance_cli)
