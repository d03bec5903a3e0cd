"""HR API, second slice (under /api/v1/hr): importing applications from an advertisement
platform's CSV, the assessment panel and its conflicts, the recommendation report, and
the gender and nationality statistics (aggregates only)."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from marshmallow import fields, validate

from jof.core import authz
from jof.core.apikit import Blueprint
from jof.core.errors import ValidationFailed
from jof.hr import applications, imports, panels, recommendation, recruitments, statistics

blp = Blueprint("hr_officer_api", __name__, url_prefix="/api/v1/hr",
                description="HR: CSV import of applications, panels and conflicts, recommendation report, statistics")


class HrImportIn(ma.Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=4_000_000), metadata={
        "description": "CSV text with the header " + ",".join(imports.COLUMNS) + " (optional columns: "
                       + ",".join(imports.OPTIONAL_COLUMNS) + "); languages separated by semicolons."})


class HrImportOut(ma.Schema):
    imported = fields.Integer()
    rejected = fields.List(fields.Dict(), metadata={"description": "Always empty on success."})


@blp.route("/recruitments/<reference>/applications/import", methods=["POST"])
@blp.arguments(HrImportIn)
@blp.response(200, HrImportOut)
@blp.errors(403, 404, 409, 422)
def import_applications(data, reference):
    """Import applications from an advertisement platform's CSV export (HR officer), all or
    nothing: when any line is wrong nothing is recorded and the 422 names each rejected
    line in ``errors`` (``"line 3": ["email: Not a valid email address."]``) and in
    ``rejected``."""
    user = authz.require_user()
    report = imports.import_applications_csv(user, recruitments.get_recruitment(user, reference), data["csv"])
    if report.rejected:
        raise ValidationFailed(imports.rejection_errors(report),
                               f"{len(report.rejected)} line(s) rejected; nothing was imported.",
                               rejected=report.rejected)
    return report


# --- panels and referees --------------------------------------------------------------------


class HrPanelMemberOut(ma.Schema):
    user_id = fields.Integer()
    name = fields.String(attribute="user.name")
    email = fields.String(attribute="user.email")
    seated = fields.Method("_seated", metadata={"description": "False once a conflict of interest ended the seat."})
    added_at = fields.DateTime()
    removed_at = fields.DateTime(allow_none=True)
    conflict_note = fields.String()

    def _seated(self, seat):
        return seat.removed_at is None


class HrPanelMemberIn(ma.Schema):
    email = fields.Email(required=True, metadata={"description": "The user to seat: facility staff or staff of the "
                                                                 "requesting agency, not a candidate's referee."})


class HrConflictIn(ma.Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "What the conflict is; kept with the seat, never in the audit trail."})


class HrRefereeIn(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))


class HrRefereeOut(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()


@blp.route("/recruitments/<reference>/panel")
class Panel(MethodView):
    @blp.response(200, HrPanelMemberOut(many=True))
    @blp.errors(404)
    def get(self, reference):
        """The assessment panel, seated members and those a conflict removed."""
        user = authz.require_user()
        return panels.panel_of(user, recruitments.get_recruitment(user, reference))

    @blp.arguments(HrPanelMemberIn)
    @blp.response(201, HrPanelMemberOut)
    @blp.errors(403, 404, 409, 422)
    def post(self, data, reference):
        """Seat a user on the panel (HR officer); a candidate's referee is refused (422)."""
        user = authz.require_user()
        return panels.add_member(user, recruitments.get_recruitment(user, reference), data["email"])


@blp.route("/recruitments/<reference>/panel/<int:user_id>/conflict", methods=["POST"])
@blp.arguments(HrConflictIn)
@blp.response(200, HrPanelMemberOut)
@blp.errors(403, 404, 409, 422)
def declare_conflict(data, reference, user_id):
    """A member declares a conflict of interest (or an HR officer records it): the seat ends
    and the scores the member entered are withdrawn; audited."""
    user = authz.require_user()
    return panels.declare_conflict(user, recruitments.get_recruitment(user, reference), user_id, data["note"])


@blp.route("/recruitments/<reference>/applications/<int:application_id>/referees", methods=["POST"])
@blp.arguments(HrRefereeIn)
@blp.response(201, HrRefereeOut)
@blp.errors(403, 404, 409, 422)
def add_referee(data, reference, application_id):
    """Record a referee the candidate named (HR officer); a panel member who is one leaves
    the panel at once."""
    user = authz.require_user()
    rec = recruitments.get_recruitment(user, reference)
    return panels.add_referee(user, applications.get_application(user, rec, application_id), data["name"],
                              data["email"])


# --- recommendation report ------------------------------------------------------------------


class HrReportOut(ma.Schema):
    id = fields.Integer()
    made_at = fields.DateTime()
    snapshot = fields.Dict(metadata={
        "description": "The ranked table frozen when recommending: post, plan, pass mark, tie-break "
                       "order and each row's rank, number, candidate name, terms and total."})
    pdf = fields.Method("_pdf", metadata={"description": "Where the PDF of the report is."})

    def _pdf(self, report):
        return url_for("hr_officer.recommendation_pdf", reference=report.snapshot["reference"])


@blp.route("/recruitments/<reference>/recommendation")
@blp.response(200, HrReportOut)
@blp.errors(404)
def recommendation_report(reference):
    """The recommendation report (made by the ``recommend`` transition), its table frozen:
    a later change to a candidate does not change it."""
    user = authz.require_user()
    return recommendation.latest_report(user, recruitments.get_recruitment(user, reference))


# --- statistics -------------------------------------------------------------------------------


class HrStatisticsQuery(ma.Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), metadata={
        "description": "Applications of this year only."})
    agency = fields.String(validate=validate.Length(max=20), metadata={
        "description": "An agency's code (facility staff); agency staff always see their own agency."})


class HrCellOut(ma.Schema):
    value = fields.String(metadata={"description": "The code (gender, ISO country code); empty: not declared."})
    count = fields.Integer(allow_none=True, metadata={"description": "null when fewer than 5 or hidden so that no "
                                                                       "count below 5 can be worked out."})
    display = fields.Method("_display", metadata={"description": "The count, or \"fewer than 5\"."})

    def _display(self, cell):
        return str(cell.count) if cell.count is not None else "fewer than 5"


class HrTableOut(ma.Schema):
    dimension = fields.String()
    total = fields.Integer(allow_none=True, metadata={"description": "null when below 5, or when the total of "
                                                                   "a year or agency within it is hidden."})
    cells = fields.List(fields.Nested(HrCellOut))


class HrStatisticsOut(ma.Schema):
    year = fields.Integer(allow_none=True)
    agency = fields.String(allow_none=True)
    min_cell = fields.Integer(metadata={"description": "No count below this is shown."})
    tables = fields.List(fields.Nested(HrTableOut))


@blp.route("/statistics")
@blp.arguments(HrStatisticsQuery, location="query")
@blp.response(200, HrStatisticsOut)
@blp.errors(422)
def candidate_statistics(q):
    """Candidates by self-declared gender and nationality, as aggregates only: no count
    below 5 is shown, nor one that could be worked out from those shown."""
    user = authz.require_user()
    return statistics.statistics(user, q.get("year"), q.get("agency"))
