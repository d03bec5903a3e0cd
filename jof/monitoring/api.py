"""Monitoring API under /api/v1/monitoring: service-level agreements, the service kinds
they set targets for, and the dashboard's tables (the same numbers as the page, scoped
the same way: an agency user reads only its own agency against the facility totals)."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from jof.core import authz
from jof.core.apikit import Blueprint
from jof.core.errors import NotFound
from jof.monitoring import agreements, dashboard
from jof.monitoring import schemas as s
from jof.monitoring.targets import KINDS

blp = Blueprint("monitoring_api", __name__, url_prefix="/api/v1/monitoring",
                description="Monitoring: service-level agreements and the dashboard's measures")


@blp.route("/kinds")
@blp.response(200, s.KindOut(many=True))
def kinds():
    """The service kinds an agreement sets targets for, with unit and facility default."""
    authz.require_user()
    return list(KINDS.values())


@blp.route("/slas")
class Slas(MethodView):
    @blp.response(200, s.SlaOut(many=True))
    def get(self):
        """Agreements: every one for facility staff; an agency user's own and the facility default."""
        return agreements.listing(authz.require_user())

    @blp.arguments(s.SlaIn)
    @blp.response(201, s.SlaOut)
    @blp.errors(403, 422)
    def post(self, data):
        """Record an agreement (the facility manager); audited."""
        return agreements.record(authz.require_user(), data)


@blp.route("/slas/<int:sla_id>")
@blp.response(200, s.SlaOut)
@blp.errors(404)
def sla_item(sla_id):
    """One agreement (another agency's is 404)."""
    return agreements.get(authz.require_user(), sla_id)


@blp.route("/slas/<int:sla_id>/end", methods=["POST"])
@blp.arguments(s.SlaEndIn)
@blp.response(200, s.SlaOut)
@blp.errors(403, 404, 422)
def sla_end(data, sla_id):
    """End an agreement on a day (the facility manager)."""
    user = authz.require_user()
    return agreements.end(user, agreements.get(user, sla_id), data["valid_to"])


@blp.route("/slas/<int:sla_id>/document")
class SlaDocument(MethodView):
    @blp.response(200, content_type="application/pdf")
    @blp.errors(404)
    def get(self, sla_id):
        """The signed agreement (PDF)."""
        sla = agreements.get(authz.require_user(), sla_id)
        return send_document(sla)

    @blp.arguments(s.SlaDocumentIn, location="files")
    @blp.response(200, s.SlaOut)
    @blp.errors(403, 404, 413, 422)
    def post(self, files, sla_id):
        """Attach the signed agreement (multipart ``file``, a PDF of at most 5 MB; the manager)."""
        user = authz.require_user()
        upload = files["file"]
        data = upload.stream.read(agreements.MAX_DOCUMENT_BYTES + 1)
        return agreements.attach_document(user, agreements.get(user, sla_id), upload.filename or "", data)


def send_document(sla):
    if not sla.document_sha256:
        raise NotFound("No signed document is attached to this agreement.")
    response = send_file(io.BytesIO(sla.document), mimetype="application/pdf", as_attachment=True,
                         download_name=sla.document_name or "agreement.pdf", etag=sla.document_sha256, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.route("/dashboard")
@blp.arguments(s.DashboardQuery, location="query")
@blp.response(200, s.DashboardOut)
@blp.errors(404, 422)
def dashboard_tables(q):
    """Every table of the dashboard for a period (``start``, ``end``), ``line`` and
    ``agency`` (code); an agency user asking for another agency gets 404."""
    board = dashboard.build(authz.require_user(), q)
    f = board.filters
    return {"start": f.start, "end": f.end, "line": f.line, "agency": board.agency.code if board.agency else None,
            "tables": list(board.tables.values())}
