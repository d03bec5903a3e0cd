"""Billing (DESIGN §7): price list, charge ledger, period close, invoices, credit notes,
payments, statements of account and their PDFs."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app`` (see ``docs/architecture.md``, "How to add a service line").

    Importing billing registers nothing; this does, and doing it again (a second app in
    the same process) changes nothing: each registry keeps one entry per listener or kind.

    - every chargeable event a line records is posted to the ledger at once;
    - governance asks before it writes a month's pools: a closed billing period is frozen;
    - the board's ``price_list`` decisions are validated and applied by the price list;
    - the pages read billing's statuses through the ``billing_status`` filter, and invoice
      lines and price-list items through ``invoice_line``, ``price_item``, ``price_unit``;
    - the period close and the rendering of a period's PDFs are kinds of core's job queue.
    """
    from jof.billing import api, cli, jobs, pricing, services, states, todo, views, words
    from jof.core import charges, home, plugin
    from jof.governance import effects

    charges.after_record(services.on_record)
    effects.register_freeze_guard(services.frozen)
    effects.register("price_list", pricing.validate_decision, pricing.apply_decision)
    effects.register_form_defaults("price_list", pricing.decision_form_defaults)
    app.add_template_filter(states.label, "billing_status")
    app.add_template_filter(words.line_description, "invoice_line")
    app.add_template_filter(words.share_terms, "share_terms")
    app.add_template_filter(words.share_of_pool, "share_of_pool")
    app.add_template_filter(words.pool_name, "pool_name")
    app.add_template_filter(words.item_name, "price_item")
    app.add_template_filter(words.unit_name, "price_unit")
    app.add_template_filter(words.statement_entry, "statement_entry")
    app.add_template_filter(words.job_outcome, "job_outcome")

    charges.register_fee_quote(pricing.quote)
    jobs.register()
    home.register_panel("billing.to_pay", todo.invoices_to_pay)
    home.register_panel("billing.to_issue", todo.drafts_to_issue)
    plugin.mount(app, api=api.blp, views=views.bp, cli=cli.billing_cli)
