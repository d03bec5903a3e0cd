"""Governance API: decisions and votes, resolutions, keys, cost pools, allocations."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from sqlalchemy.orm import joinedload, selectinload

from jof.core import authz
from jof.core.apikit import Blueprint, if_match, page_schema
from jof.core.errors import NotFound
from jof.core.paging import page_of
from jof.governance import attachments, cost_sharing, decisions, votes
from jof.governance import schemas as s
from jof.governance.models import Decision, DecisionAttachment, DecisionVoter, Vote

#: What a decision's representation reads, for a whole page in a fixed number of statements.
DECISION_LOADS = (joinedload(Decision.proposed_by), selectinload(Decision.voters).joinedload(DecisionVoter.agency),
                  selectinload(Decision.votes).joinedload(Vote.agency), selectinload(Decision.effects),
                  selectinload(Decision.attachments).joinedload(DecisionAttachment.uploaded_by))

blp = Blueprint("governance_api", __name__, url_prefix="/api/v1/governance",
                description="The board: one agency, one vote")


@blp.route("/decisions")
class Decisions(MethodView):
    @blp.arguments(s.DecisionQuery, location="query")
    @blp.response(200, page_schema(s.DecisionOut, "DecisionPage"))
    def get(self, q):
        """Decisions, newest first (every signed-in user: governance is transparent)."""
        authz.require_user()
        return page_of(decisions.decisions_query(q.get("status")).options(*DECISION_LOADS), q["page"], q["per_page"])

    @blp.arguments(s.DecisionIn)
    @blp.response(201, s.DecisionOut)
    def post(self, data):
        """Propose a decision (manager, Resident Coordinator or head of a member agency); it starts as a draft."""
        return decisions.propose(authz.require_user(), data)


@blp.route("/decisions/<int:decision_id>")
class DecisionItem(MethodView):
    @blp.response(200, s.DecisionOut)
    def get(self, decision_id):
        authz.require_user()
        return decisions.get_decision(decision_id)

    @blp.arguments(s.DecisionUpdate)
    @blp.response(200, s.DecisionOut)
    def patch(self, data, decision_id):
        """Edit a draft; open and closed decisions never change (409). A stale If-Match is 409."""
        decision = decisions.get_decision(decision_id)
        with if_match(decision, s.DecisionOut):
            return decisions.update_draft(authz.require_user(), decision, data)


@blp.route("/decisions/<int:decision_id>/attachments")
class Attachments(MethodView):
    @blp.response(200, s.AttachmentOut(many=True))
    def get(self, decision_id):
        """The documents attached to a decision (every signed-in user)."""
        authz.require_user()
        return decisions.get_decision(decision_id).attachments

    @blp.arguments(s.AttachmentIn, location="files")
    @blp.response(201, s.AttachmentOut)
    @blp.errors(404, 409, 413, 422)
    def post(self, files, decision_id):
        """Attach a document to a draft (multipart ``file``; its proposer, the manager or the Resident Coordinator)."""
        user = authz.require_user()
        upload = files["file"]
        data = upload.stream.read(attachments.MAX_ATTACHMENT_BYTES + 1)
        return attachments.add_attachment(user, decisions.get_decision(decision_id), upload.filename or "", data)


@blp.route("/decisions/<int:decision_id>/attachments/<int:attachment_id>")
@blp.response(200, content_type="application/octet-stream")
def attachment_download(decision_id, attachment_id):
    """Download one attached document (every signed-in user)."""
    authz.require_user()
    return send_attachment(attachments.get_attachment(decisions.get_decision(decision_id), attachment_id))


def send_attachment(attachment):
    # The stored type may carry its charset ("text/plain; charset=utf-8"); Flask adds the
    # charset of text types itself, so give it the bare type (one charset, not two).
    mimetype = attachment.content_type.split(";")[0].strip()
    response = send_file(io.BytesIO(attachment.data), mimetype=mimetype, as_attachment=True,
                         download_name=attachment.filename, etag=attachment.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.route("/decisions/<int:decision_id>/open", methods=["POST"])
@blp.arguments(s.OpenIn)
@blp.response(200, s.DecisionOut)
def open_decision(data, decision_id):
    """Open for voting; the member agencies active now become its voting members."""
    return decisions.open_decision(authz.require_user(), decisions.get_decision(decision_id),
                                  data["closes_at"])


@blp.route("/decisions/<int:decision_id>/close", methods=["POST"])
@blp.response(200, s.DecisionOut)
def close_decision(decision_id):
    """Close a decision whose time has come (or that every member voted on): manager or Resident Coordinator."""
    return decisions.close_by_hand(authz.require_user(), decision_id)


@blp.route("/decisions/<int:decision_id>/vote")
class VoteItem(MethodView):
    @blp.response(200, s.VoteOut)
    def get(self, decision_id):
        """The caller's agency's current vote (404 if it has not voted)."""
        user = authz.require_user()
        vote = votes.current_vote(decisions.get_decision(decision_id), user.agency_id)
        if vote is None:
            raise NotFound("Your agency has not voted on this decision.")
        return vote

    @blp.arguments(s.VoteIn)
    @blp.response(200, s.VoteOut)
    def put(self, data, decision_id):
        """Cast or change the caller's agency's vote (agency head or alternate of a member)."""
        return votes.cast_vote(authz.require_user(), decision_id, data["choice"], data["statement"])


@blp.route("/resolutions")
@blp.arguments(s.DecisionQuery(only=("page", "per_page")), location="query")
@blp.response(200, page_schema(s.DecisionOut, "ResolutionPage"))
def resolutions(q):
    """The register of closed decisions, with each agency's vote in the tally."""
    authz.require_user()
    return page_of(decisions.resolutions_query().options(*DECISION_LOADS), q["page"], q["per_page"])


@blp.route("/cost-sharing-keys")
@blp.response(200, s.KeyOut(many=True))
def keys():
    """Every key the board adopted, and which one is in force today (UTC)."""
    authz.require_user()
    return cost_sharing.keys_with_status()


@blp.route("/cost-pools")
class Pools(MethodView):
    @blp.arguments(s.PeriodQuery, location="query")
    @blp.response(200, s.PoolOut(many=True))
    def get(self, q):
        authz.require_user()
        return cost_sharing.pools_of(cost_sharing.parse_period(q["period"]))

    @blp.arguments(s.PoolIn)
    @blp.response(201, s.PoolOut)
    def post(self, data):
        """Enter a month's shared cost in one category (manager)."""
        return cost_sharing.add_cost_pool(authz.require_user(), cost_sharing.parse_period(data["period"]),
                                      data["category"], data["amount"], data["description"])


@blp.route("/cost-pools/<int:pool_id>")
class PoolItem(MethodView):
    @blp.response(200, s.PoolOut)
    @blp.errors(404)
    def get(self, pool_id):
        """One cost pool, with the ETag to send back as If-Match when correcting it."""
        authz.require_user()
        return cost_sharing.get_cost_pool(pool_id)

    @blp.arguments(s.PoolUpdate)
    @blp.response(200, s.PoolOut)
    @blp.errors(409)
    def patch(self, data, pool_id):
        """Correct a pool's amount or description (manager), until the month is recorded."""
        pool = cost_sharing.get_cost_pool(pool_id)
        with if_match(pool, s.PoolOut):
            return cost_sharing.update_cost_pool(authz.require_user(), pool, data)

    @blp.response(204)
    @blp.errors(409)
    def delete(self, pool_id):
        """Remove a pool entered by mistake (manager), until the month is recorded."""
        cost_sharing.delete_cost_pool(authz.require_user(), cost_sharing.get_cost_pool(pool_id))


def _allocation_body(period_text, key, previews, recorded, digest=None):
    return {"period": period_text, "key": key, "recorded": recorded, "digest": digest,
            "pools": [{"pool": pv.pool, "total": sum((sh.amount for sh in pv.shares), start=0),
                       "shares": [{"agency": sh.code, "amount": sh.amount, "explanation": sh.explanation}
                                  for sh in pv.shares]} for pv in previews]}


def _recorded_body(period_text):
    found = cost_sharing.recorded_allocation(cost_sharing.parse_period(period_text))
    if found is None:
        raise NotFound(f"No allocation is recorded for {period_text}.")
    return _allocation_body(period_text, *found, True)


@blp.route("/allocations/preview")
@blp.arguments(s.PeriodQuery, location="query")
@blp.response(200, s.AllocationOut)
def allocation_preview(q):
    """How the month's pools would be split by the key in force, every term explained.
    Its ``digest`` is what recording needs."""
    authz.require_user()
    period = cost_sharing.parse_period(q["period"])
    key, previews = cost_sharing.preview(period)
    return _allocation_body(q["period"], key, previews, False, cost_sharing.preview_digest(period))


@blp.route("/allocations")
class Allocations(MethodView):
    @blp.arguments(s.PeriodQuery, location="query")
    @blp.response(200, s.AllocationOut)
    def get(self, q):
        """The allocation recorded for the month: the stored shares."""
        authz.require_user()
        return _recorded_body(q["period"])

    @blp.arguments(s.AllocationIn)
    @blp.response(201, s.AllocationOut)
    @blp.errors(409)
    def post(self, data):
        """Record the month's allocation after reading the preview (manager): send the
        preview's ``digest``; the answer is the recorded shares."""
        user = authz.require_user()
        cost_sharing.record_allocation(user, cost_sharing.parse_period(data["period"]), data["digest"])
        return _recorded_body(data["period"])
