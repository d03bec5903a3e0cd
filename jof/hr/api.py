"""HR API under /api/v1/hr: recruitment requests, their applications (with screening),
scores and the ranked list.

Status changes go through the spine's ``POST /api/v1/requests/<reference>/transitions``
(submit, certify, approve, advertise, long_list, short_list, assess, recommend, select
with ``{"application_id": …}``, offer, complete, fail, readvertise with ``{"closing_date": …}``,
cancel, reject); the
paths here add what is particular to HR. Candidates' personal data are answered only to
those who may see them (docs/hr.md); anyone else gets 404.
"""

from __future__ import annotations

from flask.views import MethodView

from jof.core import authz
from jof.core.apikit import Blueprint, page_schema
from jof.core.paging import page_of
from jof.hr import applications, assessment, recruitments
from jof.hr import schemas as s

blp = Blueprint("hr_api", __name__, url_prefix="/api/v1/hr",
                description="HR: recruitment requests, applications with screening, assessment and ranking")


@blp.route("/recruitments")
class Recruitments(MethodView):
    @blp.arguments(s.RecruitmentQuery, location="query")
    @blp.response(200, page_schema(s.RecruitmentOut, "HrRecruitmentPage"))
    def get(self, q):
        """Recruitments of the caller's agency (all agencies for facility staff)."""
        user = authz.require_user()
        return page_of(recruitments.recruitments_query(user, q.get("status")), q["page"], q["per_page"])

    @blp.arguments(s.RecruitmentIn)
    @blp.response(201, s.RecruitmentOut)
    @blp.errors(403, 422)
    def post(self, data):
        """File a recruitment request (``HRR-…``, a draft) with its minimum requirements and
        assessment plan; submit it through the transitions endpoint."""
        return recruitments.file_recruitment(authz.require_user(), data)


@blp.route("/recruitments/<reference>")
@blp.response(200, s.RecruitmentOut)
@blp.errors(404)
def get_recruitment(reference):
    """One recruitment (another agency's is 404)."""
    return recruitments.get_recruitment(authz.require_user(), reference)


@blp.route("/recruitments/<reference>/applications")
class Applications(MethodView):
    @blp.response(200, s.ApplicationOut(many=True))
    @blp.errors(404)
    def get(self, reference):
        """The applications with their screening, in the order they were recorded."""
        user = authz.require_user()
        return applications.applications_of(user, recruitments.get_recruitment(user, reference))

    @blp.arguments(s.ApplicationIn)
    @blp.response(201, s.ApplicationOut)
    @blp.errors(403, 404, 409, 422)
    def post(self, data, reference):
        """Record a candidate's application (HR officer) while the vacancy is advertised;
        it is screened against the minimum requirements at once."""
        user = authz.require_user()
        return applications.record_application(user, recruitments.get_recruitment(user, reference), data)


def _application(reference: str, application_id: int):
    user = authz.require_user()
    rec = recruitments.get_recruitment(user, reference)
    return user, applications.get_application(user, rec, application_id)


@blp.route("/recruitments/<reference>/applications/<int:application_id>")
@blp.response(200, s.ApplicationOut)
@blp.errors(404)
def get_application(reference, application_id):
    return _application(reference, application_id)[1]


@blp.route("/recruitments/<reference>/applications/<int:application_id>/screening", methods=["POST"])
@blp.arguments(s.OverrideIn)
@blp.response(200, s.ApplicationOut)
@blp.errors(403, 404, 409, 422)
def override_screening(data, reference, application_id):
    """Put the candidate in or out against the automatic screening, with the reason."""
    user, app = _application(reference, application_id)
    return applications.override_screening(user, app, data["screened_in"], data["comment"])


@blp.route("/recruitments/<reference>/applications/<int:application_id>/scores", methods=["POST"])
@blp.arguments(s.ScoresIn)
@blp.response(200, s.ApplicationOut)
@blp.errors(403, 404, 409, 422)
def enter_scores(data, reference, application_id):
    """A short-listed candidate's scores (0–100) per method of the plan; a later entry
    for the same method corrects the earlier one."""
    user, app = _application(reference, application_id)
    return assessment.enter_scores(user, app, data["scores"])


@blp.route("/recruitments/<reference>/ranking")
@blp.response(200, s.RankingOut)
@blp.errors(404)
def ranking(reference):
    """The ranked list of the fully scored short-listed candidates, every term shown."""
    user = authz.require_user()
    return assessment.ranking(user, recruitments.get_recruitment(user, reference))
