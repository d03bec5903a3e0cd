"""The assessment: scores per method per short-listed candidate (entered by the panel's
members, HR officers or the manager: :mod:`jof.hr.panels`), and the ranked list
(:mod:`jof.hr.scoring` computes it exactly and explains it), then the agency's selection.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import audit, templating
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.people import User
from jof.core.timeutil import utcnow
from jof.hr import states
from jof.hr.models import Application, Recruitment, Score
from jof.hr.panels import ensure_may_score
from jof.hr.recruitments import ensure_sees_candidates
from jof.hr.scoring import Ranking, ranking_of


def enter_scores(actor: User, app: Application, scores: list[dict]) -> Application:
    """Record (or correct) a short-listed candidate's scores, by method name, 0–100."""
    rec = app.recruitment
    ensure_sees_candidates(actor, rec)
    ensure_may_score(actor, rec)
    if rec.request.status not in states.SCORING_STATES:
        raise Conflict(_("Scores are entered while the short list is assessed; the recruitment is %(status)s.",
                         status=templating.status_label(rec.request.status).lower()))
    if not app.short_listed:
        raise Conflict(_("Only short-listed candidates are scored."))
    methods = {m.name.casefold(): m for m in rec.methods}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(scores):
        if item["method"].strip().casefold() not in methods:
            errors[f"scores.{i}.method"] = [_("Not a method of this assessment plan: %(methods)s.",
                                              methods=", ".join(m.name for m in rec.methods))]
    if errors:
        raise ValidationFailed(errors)
    existing = {s.method_id: s for s in app.scores}
    changed = []
    for item in scores:
        method = methods[item["method"].strip().casefold()]
        value = Decimal(item["score"])
        row = existing.get(method.id)
        if row is None:
            row = Score(application=app, method=method, score=value, entered_by_id=actor.id, entered_at=utcnow())
            db.session.add(row)
            existing[method.id] = row
        else:
            row.score, row.entered_by_id, row.entered_at = value, actor.id, utcnow()
        changed.append({"method": method.name, "score": value})
    db.session.flush()
    audit.record(actor, "hr.application.scores", app, after={
        "application_id": app.id, "candidate_id": app.candidate_id, "scores": changed})
    return app


def ranking(actor: User, rec: Recruitment) -> Ranking:
    ensure_sees_candidates(actor, rec)
    return ranking_of(rec)


# --- effects ------------------------------------------------------------------------------


def select_candidate(sr, user, payload) -> None:
    """``select``: the agency chooses one candidate who reached the pass mark."""
    rec = states.recruitment_of(sr)
    passed = {row.application_id for row in ranking_of(rec).rows if row.passed}
    app = db.session.scalar(select(Application).where(Application.id == payload["application_id"],
                                                      Application.recruitment_id == rec.id))
    if app is None or app.id not in passed:
        raise ValidationFailed({"payload.application_id": [
            _("Select a short-listed candidate who reached the pass mark.")]})
    app.selected = True
    audit.record(user, "hr.application.select", app, after={
        "application_id": app.id, "candidate_id": app.candidate_id})
