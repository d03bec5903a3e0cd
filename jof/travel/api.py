"""Travel API under /api/v1/travel (DESIGN §10): requests with their DSA, ticket and claim,
the DSA estimate of an itinerary, and the DSA rate table.

Plain status changes (submit, approve, start, mark_travelled, settle, complete …) go
through the spine's ``POST /api/v1/requests/<reference>/transitions``; the steps that
carry data (a quote, the ticket, the claim, a cancellation with its fee) have their own
paths here.
"""

from __future__ import annotations

from flask.views import MethodView

from jof.core import authz, workflow
from jof.core.apikit import Blueprint, page_schema
from jof.core.errors import NotFound, ValidationFailed
from jof.core.paging import page_of
from jof.travel import claims, itinerary, rates, ticketing, trips
from jof.travel import schemas as s

blp = Blueprint("travel_api", __name__, url_prefix="/api/v1/travel",
                description="Travel: requests with itineraries, DSA estimates and claims, tickets, DSA rates")


class _ForCaller:
    def __init__(self, tr, user):
        self._tr = tr
        self.allowed_actions = workflow.allowed_actions(user, tr.request)

    def __getattr__(self, name):
        return getattr(self._tr, name)


def _detail(user, tr):
    return _ForCaller(tr, user)


def _dsa_of(tr) -> dict:
    return {
        "estimate_lines": itinerary.lines_of(tr.estimate_lines), "estimate_total": tr.estimate_total,
        "advance_usd": tr.advance_usd,
        "claim_lines": itinerary.lines_of(tr.claim_lines) if tr.claim_lines is not None else None,
        "claim_total": tr.claim_total, "claim_difference": tr.claim_difference, "claim_balance": tr.claim_balance,
    }


@blp.route("/requests")
class Requests(MethodView):
    @blp.arguments(s.TravelQuery, location="query")
    @blp.response(200, page_schema(s.TravelOut, "TravelPage"))
    def get(self, q):
        """Travel requests the caller may see (their agency's; all for facility staff)."""
        user = authz.require_user()
        return page_of(trips.travel_query(user, q.get("status")), q["page"], q["per_page"])

    @blp.arguments(s.TravelIn)
    @blp.response(201, s.TravelDetailOut)
    @blp.errors(404, 409, 422)
    def post(self, data):
        """File a travel request (``TRV-…``): itinerary legs that chain in time and place,
        nights with accommodation or meals provided, needs. The DSA estimate is computed
        from the rate table; nothing is written when any check fails (an overlapping
        approved trip, a place without a rate, a leg arriving before it departs)."""
        user = authz.require_user()
        return _detail(user, trips.create_travel(user, data))


@blp.route("/requests/<reference>")
@blp.response(200, s.TravelDetailOut)
@blp.errors(404)
def get_travel(reference):
    """One travel request with its itinerary, ticket, timeline and the caller's actions."""
    user = authz.require_user()
    return _detail(user, trips.get_travel(user, reference))


@blp.route("/requests/<reference>/dsa")
@blp.response(200, s.DsaOut)
@blp.errors(404)
def get_dsa(reference):
    """The DSA calculation line by line: the estimate, the advance, and once claimed the
    actual DSA, its difference from the estimate and the balance payable."""
    user = authz.require_user()
    return _dsa_of(trips.get_travel(user, reference))


@blp.route("/requests/<reference>/quotes", methods=["POST"])
@blp.arguments(s.QuoteIn)
@blp.response(201, s.QuoteOut)
@blp.errors(404, 409, 422)
def post_quote(data, reference):
    """Record a fare quote (travel officer); starts the work on an approved request."""
    user = authz.require_user()
    tr = trips.get_travel(user, reference)
    return ticketing.record_quote(user, tr, data)


@blp.route("/requests/<reference>/ticket")
class Ticket(MethodView):
    @blp.response(200, s.TicketOut)
    @blp.errors(404)
    def get(self, reference):
        """The ticket (404 until issued)."""
        user = authz.require_user()
        tr = trips.get_travel(user, reference)
        if tr.ticketed_at is None:
            raise NotFound("No ticket has been issued for this request yet.")
        return tr

    @blp.arguments(s.TicketIn)
    @blp.response(201, s.TicketOut)
    @blp.errors(404, 409, 422)
    def post(self, data, reference):
        """Issue the ticket (travel officer): carrier, fare and currency, booking reference.
        Records the ticket-issuance fee and the fare as a pass-through cost."""
        user = authz.require_user()
        tr = trips.get_travel(user, reference)
        return ticketing.issue_ticket(user, tr, data)


@blp.route("/requests/<reference>/claim")
class Claim(MethodView):
    @blp.response(200, s.DsaOut)
    @blp.errors(404)
    def get(self, reference):
        """The claim's DSA against the estimate (404 until filed)."""
        user = authz.require_user()
        tr = trips.get_travel(user, reference)
        if tr.claim_total is None:
            raise NotFound("No claim has been filed for this request yet.")
        return _dsa_of(tr)

    @blp.arguments(s.ClaimIn)
    @blp.response(201, s.DsaOut)
    @blp.errors(404, 409, 422)
    def post(self, data, reference):
        """File the claim (the traveller's agency) with the itinerary as travelled; the DSA
        is computed again and the difference from the estimate shown."""
        user = authz.require_user()
        tr = trips.get_travel(user, reference)
        return _dsa_of(claims.file_claim(user, tr, data))


@blp.route("/requests/<reference>/cancellation", methods=["POST"])
@blp.arguments(s.CancellationIn)
@blp.response(200, s.TravelDetailOut)
@blp.errors(404, 409, 422)
def post_cancellation(data, reference):
    """Cancel the request; once the ticket is issued the cancellation fee is required and
    recorded as a pass-through cost."""
    user = authz.require_user()
    tr = trips.get_travel(user, reference)
    return _detail(user, ticketing.cancel(user, tr, data))


@blp.route("/dsa-estimate", methods=["POST"])
@blp.arguments(s.EstimateIn)
@blp.response(200, s.EstimateOut)
@blp.errors(422)
def dsa_estimate(data):
    """The DSA an itinerary would pay, line by line, with the advance; writes nothing."""
    authz.require_user()
    return itinerary.estimate(data)


@blp.route("/dsa-rates")
class DsaRates(MethodView):
    @blp.arguments(s.DsaRateQuery, location="query")
    @blp.response(200, page_schema(s.DsaRateOut, "DsaRatePage"))
    def get(self, q):
        """DSA rates per location and effective month (every signed-in user)."""
        authz.require_user()
        return page_of(rates.rates_query(q.get("country"), q.get("city"), q.get("month")), q["page"], q["per_page"])

    @blp.arguments(s.DsaRateIn)
    @blp.response(201, s.DsaRateOut)
    @blp.errors(422)
    def post(self, data):
        """Set (or correct) a location's rate from a month (travel officer, manager, admin)."""
        user = authz.require_user()
        return rates.set_rate(user, data["city"], data["country"], data["month"], data["usd_per_night"],
                              data["room_pct"])


@blp.route("/dsa-rates/import", methods=["POST"])
@blp.arguments(s.DsaRateImportIn)
@blp.response(200, s.DsaRateImportOut)
@blp.errors(422)
def import_rates(data):
    """Import DSA rates from CSV, all or nothing.

    When any line is wrong nothing is written and the 422 names each rejected line in
    ``errors`` (``"line 3": ["month: Expected YYYY-MM."]``) and in ``rejected``."""
    user = authz.require_user()
    report = rates.import_rates_csv(user, data["csv"])
    if report.rejected:
        raise ValidationFailed(
            {f"line {r['line']}": [f"{k}: {m}" for k, msgs in r["errors"].items() for m in msgs]
             for r in report.rejected},
            f"{len(report.rejected)} line(s) rejected; nothing was imported.", rejected=report.rejected)
    return report
