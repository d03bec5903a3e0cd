"""Travel (DESIGN §4): travel requests, quotes and tickets, DSA and terminal expenses,
claims and settlement."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request type with the effect and the payload schema
    of each step, the words of its steps, then its blueprints (see ``docs/architecture.md``,
    "How to add a service line"). Installing again (a second app) replaces the same entries."""
    from flask_babel import lazy_gettext

    from jof.core import home, plugin, workflow
    from jof.travel import api, claims, schemas, states, ticketing, trips, views

    effects = {
        "submit": trips.on_submit,
        "approve": trips.on_approve,
        "quote": ticketing.add_quote,
        "ticket": ticketing.write_ticket,
        "mark_travelled": claims.mark_travelled,
        "claim": claims.write_claim,
        "settle": claims.settle,
        "cancel": ticketing.on_cancel,
        **{action: trips.audit_only(action) for action in ("certify", "reject", "start", "complete")},
    }
    workflow.register(states.request_type(effects=effects, payloads=schemas.PAYLOADS))
    views.register_labels()
    home.register_new_request("travel", "travel.new_request", lazy_gettext("Travel request"))
    plugin.mount(app, api=api.blp, views=views.bp)
