"""Procurement (DESIGN §3): requisitions pooled into tenders, bids and their evaluation,
awards, purchase orders, receipts, long-term agreements and savings."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: the requisition's request type with its submit effect,
    the board's ``procurement_manual`` decisions, then the blueprints (see
    ``docs/architecture.md``, "How to add a service line"). Installing again, for a
    second app, replaces the same registrations."""
    from flask_babel import lazy_gettext

    from jof.core import home, plugin, workflow
    from jof.governance import effects
    from jof.procurement import api, manual, requisitions, states, views

    workflow.register(states.request_type(on_submit=requisitions.on_submit))
    effects.register("procurement_manual", manual.validate_manual, manual.apply_manual_decision)
    effects.register_form_defaults("procurement_manual", manual.decision_form_defaults)
    views.register_labels()
    home.register_new_request("requisition", "procurement.requisition_new", lazy_gettext("Procurement requisition"))
    plugin.mount(app, api=api.blp, views=views.bp)
