"""Shared HR services (issue 14): recruitment requests for the agencies, candidates
screened against the minimum requirements, and an assessment with an exact, explained
ranking. See docs/hr.md for what is built and what is not yet."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Plug the line into ``app``: its request type (rows from ``states``, effects from
    ``applications``, ``recommend`` (below), ``rosters`` (the selection) and ``fees`` (the
    fee on ``complete``), payload schemas from ``schemas``), its labels, its blueprints,
    the public vacancy pages and the ``jof hr`` commands (see ``docs/architecture.md``,
    "How to add a service line")."""
    from flask_babel import lazy_gettext

    from jof.core import home, plugin, workflow

    # models: the tables; rosters_api and rosters_views add their routes to api.blp and views.bp.
    from jof.hr import (  # noqa: F401
        api,
        applications,
        fees,
        models,
        officer_api,
        officer_views,
        public,
        purge,
        rosters,
        rosters_api,
        rosters_views,
        schemas,
        states,
        terms,
        views,
    )

    workflow.register(workflow.RequestType(
        code=states.RECRUITMENT, prefix="HRR", label="Recruitment", service_line=states.SERVICE_LINE,
        transitions=states.transitions(),
        effects={"short_list": applications.draw_short_list, "recommend": recommend,
                 "select": rosters.select_candidate, "complete": fees.record_fee,
                 "readvertise": applications.readvertise},
        payloads=schemas.PAYLOADS, detail_endpoint="hr.recruitment_page",
    ))
    views.register_labels()
    rosters_views.register_labels()
    home.register_new_request("hr_recruitment", "hr.recruitment_new", lazy_gettext("Recruitment"))
    plugin.mount(app, api=api.blp, views=views.bp)
    plugin.mount(app, api=officer_api.blp, views=officer_views.bp, cli=purge.hr_cli)
    app.register_blueprint(public.bp)
    plugin.public("hr_public.vacancies_page", "hr_public.apply_page", "hr_public.public_terms_download")


def recommend(sr, user, payload=None) -> None:
    """``recommend`` (effect): the candidates at or above the pass mark enter the roster,
    and the ranked table the recommendation rests on is frozen in its report."""
    from jof.hr import recommendation, rosters

    rosters.enter_roster(sr, user, payload)
    recommendation.make_report(sr, user, payload)
