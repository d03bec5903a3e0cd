"""The recommendation report: made when an HR officer recommends, it freezes the ranked
table as it stood, as procurement's award freezes the evaluation it was made on
(``award_record`` in jof/procurement/evaluation.py).

:func:`make_report` (the ``recommend`` transition's effect) stores a snapshot — the post,
the plan, the pass mark, the tie-break order and every row with its terms and the
candidate's name — in :class:`~jof.hr.models.RecommendationReport`; the PDF is rendered from
the snapshot alone, so a later change to a candidate (a corrected name, a score) changes
neither the table nor the PDF. The purge replaces a removed candidate's name in it
(jof/hr/purge.py). Nothing of the snapshot goes into the audit event, which names the
report and the recruitment only.
"""

from __future__ import annotations

from flask import current_app, has_request_context, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from jof.core.errors import NotFound
from jof.core.pdf import render_pdf
from jof.core.people import Facility, User
from jof.core.timeutil import utcnow
from jof.hr import states
from jof.hr.models import Application, Candidate, RecommendationReport, Recruitment
from jof.hr.recruitments import ensure_sees_candidates
from jof.hr.scoring import ranking_of


def snapshot_of(rec: Recruitment, made_by: User) -> dict:
    """The ranked table as plain JSON values (decimals as strings, exact)."""
    ranking = ranking_of(rec)
    names = dict(db.session.execute(
        select(Application.id, Candidate.full_name).join(Candidate, Candidate.id == Application.candidate_id)
        .where(Application.recruitment_id == rec.id)).all())
    sr = rec.request
    return {
        "reference": sr.reference, "agency": sr.agency.code, "post_title": rec.post_title, "level": rec.level,
        "duty_station": rec.duty_station, "made_by": made_by.name,
        "methods": [{"name": m.name, "weight": m.weight} for m in ranking.methods],
        "pass_mark": str(ranking.pass_mark), "tie_break": list(ranking.tie_break),
        "rows": [{"rank": r.rank, "seq": r.seq, "application_id": r.application_id, "candidate_id": r.candidate_id,
                  "name": names.get(r.application_id, ""), "total": str(r.total), "passed": r.passed,
                  "terms": [{"method": t.method, "score": str(t.score), "weight": t.weight, "points": str(t.points)}
                            for t in r.terms]}
                 for r in ranking.rows],
    }


def make_report(sr, user, _payload) -> None:
    """``recommend``: freeze the ranked table in a report."""
    rec = states.recruitment_of(sr)
    report = RecommendationReport(recruitment_id=rec.id, made_at=utcnow(), made_by_id=user.id,
                                  snapshot=snapshot_of(rec, user))
    db.session.add(report)
    db.session.flush()
    audit.record(user, "hr.recommendation.report", rec, after={
        "recruitment": sr.reference, "report_id": report.id, "rows": len(report.snapshot["rows"])})


def latest_report(actor: User, rec: Recruitment) -> RecommendationReport:
    ensure_sees_candidates(actor, rec)
    report = db.session.scalar(select(RecommendationReport).where(RecommendationReport.recruitment_id == rec.id)
                               .order_by(RecommendationReport.id.desc()).limit(1))
    if report is None:
        raise NotFound(_("No recommendation report yet: it is made when the recruitment is recommended."))
    return report


def report_html(report: RecommendationReport) -> str:
    context = {"report": report, "s": report.snapshot, "facility": db.session.get(Facility, 1)}
    if has_request_context():
        return render_template("hr/recommendation_pdf.html", **context)
    with current_app.test_request_context():
        return render_template("hr/recommendation_pdf.html", **context)


def report_pdf(report: RecommendationReport) -> bytes:
    return render_pdf(report_html(report))
