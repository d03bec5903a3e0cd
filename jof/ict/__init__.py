"""ICT (DESIGN §5): the catalogue, subscriptions with prorated monthly billing, and
tickets on working-hours SLA clocks."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request types (transition rows from ``states``,
    effects from ``subscriptions`` and ``tickets``, payload schemas from ``schemas``), its
    monthly biller and its labels, then its blueprints and commands (see
    ``docs/architecture.md``, "How to add a service line"). Installing again, for a
    second app, replaces the same registrations."""
    from flask_babel import lazy_gettext

    from jof.core import accounts, alerts, charges, home, plugin, workflow
    from jof.ict import api, cli, models, schemas, sla_alerts, states, subscriptions, tickets, views  # noqa: F401  (models)

    workflow.register(workflow.RequestType(
        code=states.SUBSCRIPTION, prefix="ICS", label="ICT subscription", service_line=states.SERVICE_LINE,
        transitions=states.subscription_transitions(), effects=subscriptions.EFFECTS,
        detail_endpoint="ict.subscription_page",
    ))
    workflow.register(workflow.RequestType(
        code=states.TICKET, prefix="ICT", label="ICT ticket", service_line=states.SERVICE_LINE,
        transitions=states.ticket_transitions(), effects=tickets.EFFECTS, payloads=schemas.TICKET_PAYLOADS,
        detail_endpoint="ict.ticket_page",
        # Nothing happens to a closed ticket any more: the queue's "open" filter must say so.
        final_states=frozenset({states.TicketStatus.CLOSED}),
    ))
    charges.register_monthly_biller("ict", subscriptions.monthly_billing_note)
    accounts.register_filer(subscriptions.file_account)
    alerts.register_timed(alerts.SLA_AT_RISK, sla_alerts.at_risk, name="ict.sla_at_risk")
    alerts.register_timed(alerts.SLA_BREACHED, sla_alerts.breached, name="ict.sla_breached")
    views.register_labels()

    home.register_new_request("ict_ticket", "ict.ticket_new", lazy_gettext("ICT ticket"))
    home.register_new_request("ict_subscription", "ict.subscription_new", lazy_gettext("ICT subscription"))
    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.ict_cli)
