"""Governance API: decisions and votes, resolutions, keys, cost pools, allocations."""

from __future__ import annotations

from flask.views import MethodView

from jof.api import Blueprint, page_of, page_schema
from jof.core import authz
from jof.core.db import db
from jof.governance import schemas as s
from jof.governance import services
from jof.governance.models import CostSharingKey

blp = Blueprint("governance_api", __name__, url_prefix="/api/v1/governance",
                description="The board: one agency, one vote")


@blp.route("/decisions")
class Decisions(MethodView):
    @blp.arguments(s.DecisionQuery, location="query")
    @blp.response(200, page_schema(s.DecisionOut, "DecisionPage"))
    def get(self, q):
        """Decisions, newest first (every signed-in user: governance is transparent)."""
        authz.require_user()
        return page_of(services.decisions_query(q.get("status")), q["page"], q["per_page"])

    @blp.arguments(s.DecisionIn)
    @blp.response(201, s.DecisionOut)
    def post(self, data):
        """Propose a decision (manager or head of a member agency); it starts as a draft."""
        return services.propose(authz.require_user(), data)


@blp.route("/decisions/<int:decision_id>")
class DecisionItem(MethodView):
    @blp.response(200, s.DecisionOut)
    def get(self, decision_id):
        authz.require_user()
        return services.get_decision(decision_id)

    @blp.arguments(s.DecisionUpdate)
    @blp.response(200, s.DecisionOut)
    def patch(self, data, decision_id):
        """Edit a draft; open and closed decisions never change (409)."""
        return services.update_draft(authz.require_user(), services.get_decision(decision_id), data)


@blp.route("/decisions/<int:decision_id>/open", methods=["POST"])
@blp.arguments(s.OpenIn)
@blp.response(200, s.DecisionOut)
def open_decision(data, decision_id):
    """Open for voting; the member agencies active now become its voting members."""
    return services.open_decision(authz.require_user(), services.get_decision(decision_id),
                                  data["closes_at"])


@blp.route("/decisions/<int:decision_id>/close", methods=["POST"])
@blp.response(200, s.DecisionOut)
def close_decision(decision_id):
    """Close a decision whose time has come (or that every member voted on): manager only."""
    user = authz.require_user()
    authz.ensure_can_change(user)
    authz.require_roles(user, "manager", why="Only the facility manager closes decisions by hand.")
    return services.close(decision_id, user)


@blp.route("/decisions/<int:decision_id>/vote")
class VoteItem(MethodView):
    @blp.response(200, s.VoteOut)
    def get(self, decision_id):
        """The caller's agency's current vote (404 if it has not voted)."""
        user = authz.require_user()
        vote = services.current_vote(services.get_decision(decision_id), user.agency_id)
        if vote is None:
            from jof.core.errors import NotFound

            raise NotFound("Your agency has not voted on this decision.")
        return vote

    @blp.arguments(s.VoteIn)
    @blp.response(200, s.VoteOut)
    def put(self, data, decision_id):
        """Cast or change the caller's agency's vote (agency head or alternate of a member)."""
        return services.cast_vote(authz.require_user(), decision_id, data["choice"], data["statement"])


@blp.route("/resolutions")
@blp.arguments(s.DecisionQuery(only=("page", "per_page")), location="query")
@blp.response(200, page_schema(s.DecisionOut, "ResolutionPage"))
def resolutions(q):
    """The register of closed decisions, with each agency's vote in the tally."""
    authz.require_user()
    return page_of(services.resolutions_query(), q["page"], q["per_page"])


@blp.route("/cost-sharing-keys")
@blp.response(200, s.KeyOut(many=True))
def keys():
    """Every key the board adopted, and which one is in force today."""
    authz.require_user()
    from datetime import date

    from sqlalchemy import select

    current = services.key_in_force(date.today())
    rows = db.session.scalars(select(CostSharingKey).order_by(CostSharingKey.effective_from.desc())).all()
    for k in rows:
        k.in_force = current is not None and k.id == current.id
    return rows


@blp.route("/cost-pools")
class Pools(MethodView):
    @blp.arguments(s.PeriodQuery, location="query")
    @blp.response(200, s.PoolOut(many=True))
    def get(self, q):
        authz.require_user()
        return services.pools_of(services.parse_period(q["period"]))

    @blp.arguments(s.PoolIn)
    @blp.response(201, s.PoolOut)
    def post(self, data):
        """Enter a month's shared cost in one category (manager)."""
        return services.add_cost_pool(authz.require_user(), services.parse_period(data["period"]),
                                      data["category"], data["amount"], data["description"])


def _allocation_body(period_text, key, pools, recorded):
    return {"period": period_text, "key": key, "recorded": recorded,
            "pools": [{"pool": pool, "shares": shares, "total": sum((x["amount"] for x in shares), start=0)}
                      for pool, shares in pools]}


@blp.route("/allocations/preview")
@blp.arguments(s.PeriodQuery, location="query")
@blp.response(200, s.AllocationOut)
def allocation_preview(q):
    """How the month's pools would be split by the key in force, every term explained."""
    authz.require_user()
    key, previews = services.preview(services.parse_period(q["period"]))
    pools = [(pv.pool, [{"agency": sh.code, "amount": sh.amount, "explanation": sh.explanation}
                        for sh in pv.shares]) for pv in previews]
    return _allocation_body(q["period"], key, pools, False)


@blp.route("/allocations")
class Allocations(MethodView):
    @blp.arguments(s.PeriodQuery, location="query")
    @blp.response(200, s.AllocationOut)
    def get(self, q):
        """The allocation recorded for the month."""
        authz.require_user()
        period = services.parse_period(q["period"])
        rows = services.recorded_shares(period)
        if not rows:
            from jof.core.errors import NotFound

            raise NotFound(f"No allocation is recorded for {q['period']}.")
        key = db.session.get(CostSharingKey, rows[0].key_id)
        by_pool: dict = {}
        for r in rows:
            by_pool.setdefault(r.cost_pool, []).append(
                {"agency": r.agency.code, "amount": r.amount, "explanation": r.explanation})
        return _allocation_body(q["period"], key, list(by_pool.items()), True)

    @blp.arguments(s.AllocationIn)
    @blp.response(201, s.AllocationOut)
    def post(self, data):
        """Record the month's allocation after reading the preview (manager)."""
        user = authz.require_user()
        period = services.parse_period(data["period"])
        services.record_allocation(user, period)
        key, previews = services.preview(period)
        pools = [(pv.pool, [{"agency": sh.code, "amount": sh.amount, "explanation": sh.explanation}
                            for sh in pv.shares]) for pv in previews]
        return _allocation_body(data["period"], key, pools, True)
