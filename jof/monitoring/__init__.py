"""Monitoring (DESIGN §8): service-level agreements per agency, the SLA clock of each
request, measures computed in SQL, dashboards per role with SVG charts, and exports.

Monitoring sits above the service lines: it reads their models to measure them, and no
line imports it (``.importlinter``)."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug monitoring into ``app``: its models, the clock capture on every flush, the
    timed SLA alerts of every line but ICT, the monthly report and board pack as kinds of
    core's job queue, its blueprints and the ``jof report`` commands. Installing again (a second app) listens once and mounts anew."""
    from jof.core import plugin
    from jof.monitoring import api, dashboard, jobs, models, sla, sla_alerts, views  # noqa: F401  (models)
    from jof.monitoring.cli import report_cli

    sla.listen()
    sla_alerts.register()
    jobs.register()
    app.add_template_filter(views.cell, "monitoring_cell")
    app.add_template_filter(dashboard.savings_source, "savings_source")
    plugin.mount(app, api=api.blp, views=views.bp, cli=report_cli)
