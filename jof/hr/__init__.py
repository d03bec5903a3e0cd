"""Shared HR services (issue 14): recruitment requests for the agencies, candidates
screened against the minimum requirements, and an assessment with an exact, explained
ranking. See docs/hr.md for what is built and what is not yet."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request type (rows from ``states``, effects from
    ``applications`` and ``assessment``, payload schemas from ``schemas``), its labels,
    then its blueprints (see ``docs/architecture.md``, "How to add a service line")."""
    from flask_babel import lazy_gettext

    from jof.core import home, plugin, workflow
    from jof.hr import api, applications, assessment, models, schemas, states, views  # noqa: F401  (models)

    workflow.register(workflow.RequestType(
        code=states.RECRUITMENT, prefix="HRR", label="Recruitment", service_line=states.SERVICE_LINE,
        transitions=states.transitions(),
        effects={"short_list": applications.draw_short_list, "select": assessment.select_candidate},
        payloads=schemas.PAYLOADS, detail_endpoint="hr.recruitment_page",
    ))
    views.register_labels()
    home.register_new_request("hr_recruitment", "hr.recruitment_new", lazy_gettext("Recruitment"))
    plugin.mount(app, api=api.blp, views=views.bp)
    install_second_slice(app)


def install_second_slice(app: Flask) -> None:
    """The second slice's pages and commands: the public vacancies (no account), and
    what HR officers add to a recruitment (import, panel, report, statistics, purge)."""
    from jof.core import plugin, workflow
    from jof.hr import officer_api, officer_views, public, purge, recommendation, states

    # Recommending freezes the ranked table in the recommendation report.
    workflow.get_type(states.RECRUITMENT).effects["recommend"] = recommendation.make_report

    plugin.mount(app, api=officer_api.blp, views=officer_views.bp, cli=purge.hr_cli)
    app.register_blueprint(public.bp)
    plugin.public("hr_public.vacancies_page", "hr_public.apply_page")
