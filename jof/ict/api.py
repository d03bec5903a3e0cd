"""ICT API under /api/v1/ict: the catalogue, subscriptions, tickets and their comments.

Status changes of subscriptions and tickets go through the spine's
``POST /api/v1/requests/<reference>/transitions`` (submit, approve, take, start, wait,
respond, resolve, reopen, close …); the paths here add what is particular to ICT.
"""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy.orm import joinedload, selectinload

from jof.core import authz
from jof.core.apikit import Blueprint, if_match, page_schema, require_version, versioned
from jof.core.db import db
from jof.core.paging import page_of
from jof.core.people import User
from jof.core.workflow import ServiceRequest
from jof.ict import catalogue, sla, subscriptions, tickets
from jof.ict import schemas as s
from jof.ict.models import IctSubscription

#: What a subscription's representation reads, for a whole page in a fixed number of statements.
SUBSCRIPTION_LOADS = (joinedload(IctSubscription.request).options(joinedload(ServiceRequest.agency),
                                                  joinedload(ServiceRequest.requester).lazyload(User.role_rows)),
                      joinedload(IctSubscription.service), selectinload(IctSubscription.periods))

blp = Blueprint("ict_api", __name__, url_prefix="/api/v1/ict",
                description="ICT: service catalogue, per-seat subscriptions, service-desk tickets")


def _with_clock(rows):
    """Attach the SLA clock of each ticket (one working calendar for the whole answer)."""
    clock = sla.Clock()
    for t in rows:
        t.clock = tickets.clock_of(t, clock)
    return rows


@blp.route("/services")
class Services(MethodView):
    @blp.arguments(s.IctServiceQuery, location="query")
    @blp.response(200, s.IctServiceOut(many=True))
    def get(self, q):
        """The service catalogue (every signed-in user)."""
        authz.require_user()
        return db.session.scalars(catalogue.services_query(q["include_inactive"])).all()

    @blp.arguments(s.IctServiceIn)
    @blp.response(201, s.IctServiceOut)
    @blp.errors(422)
    def post(self, data):
        """Add a service to the catalogue (manager or administrator)."""
        return catalogue.create_service(authz.require_user(), data)


@blp.route("/services/<code>")
class ServiceItem(MethodView):
    @blp.response(200, s.IctServiceOut)
    @blp.errors(404)
    def get(self, code):
        authz.require_user()
        return catalogue.get_service(code)

    @blp.arguments(s.IctServiceUpdate)
    @blp.response(200, s.IctServiceOut)
    @blp.errors(404, 422)
    def patch(self, data, code):
        """Rename, reprice or withdraw a service (manager or administrator)."""
        service = catalogue.get_service(code)
        with if_match(service, s.IctServiceOut):
            return catalogue.update_service(authz.require_user(), service, data)


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @blp.arguments(s.IctSubscriptionQuery, location="query")
    @blp.response(200, page_schema(s.IctSubscriptionOut, "IctSubscriptionPage"))
    def get(self, q):
        """Subscriptions of the caller's agency (all agencies for facility staff)."""
        user = authz.require_user()
        return page_of(subscriptions.subscriptions_query(user, q.get("agency"), q.get("status"))
                       .options(*SUBSCRIPTION_LOADS),
                       q["page"], q["per_page"])

    @blp.arguments(s.IctSubscriptionIn)
    @blp.response(201, s.IctSubscriptionOut)
    @blp.errors(404, 422)
    def post(self, data):
        """Order N seats of a service from a date; submitted for the manager's approval
        (``ICS-…``), which starts its first seat period."""
        return subscriptions.order(authz.require_user(), data)


@blp.route("/subscriptions/<int:subscription_id>")
@blp.response(200, s.IctSubscriptionOut)
@blp.errors(404)
def get_subscription(subscription_id):
    """One subscription with its seat periods (another agency's is 404)."""
    return subscriptions.get_subscription(authz.require_user(), subscription_id)


@blp.route("/subscriptions/<int:subscription_id>/seat-changes", methods=["POST"])
@blp.arguments(s.IctSeatChangeIn)
@blp.response(201, s.IctSubscriptionOut)
@blp.errors(404, 409, 422)
def change_seats(data, subscription_id):
    """A new number of seats from a day: a new period starts, the previous one is kept."""
    user = authz.require_user()
    sub = subscriptions.get_subscription(user, subscription_id)
    subscriptions.change_seats(user, sub, data["seats"], data["effective_from"])
    return sub


@blp.route("/subscriptions/<int:subscription_id>/end", methods=["POST"])
@blp.arguments(s.IctEndIn)
@blp.response(200, s.IctSubscriptionOut)
@blp.errors(404, 409, 422)
def end_subscription(data, subscription_id):
    """Set the last day of service."""
    user = authz.require_user()
    sub = subscriptions.get_subscription(user, subscription_id)
    return subscriptions.end_subscription(user, sub, data["ends_on"])


@blp.route("/tickets")
class Tickets(MethodView):
    @blp.arguments(s.IctTicketQuery, location="query")
    @blp.response(200, page_schema(s.IctTicketOut, "IctTicketPage"))
    def get(self, q):
        """Tickets the caller may see; by default the least working time left first."""
        user = authz.require_user()
        stmt = tickets.tickets_query(user, status=q.get("status"), priority=q.get("priority"),
                                      assigned_to_me=q["assigned_to_me"], open_only=q["open"],
                                      breached=q.get("breached"), sort=q["sort"])
        page = page_of(stmt, q["page"], q["per_page"])
        _with_clock(page["items"])
        return page

    @blp.arguments(s.IctTicketIn)
    @blp.response(201, s.IctTicketDetailOut)
    @blp.errors(422)
    def post(self, data):
        """Open a ticket (``ICT-…``) for the caller's agency; priority from urgency × impact."""
        ticket = tickets.file_ticket(authz.require_user(), data)
        return _with_clock([ticket])[0]


@blp.route("/tickets/<reference>")
class TicketItem(MethodView):
    @blp.response(200, s.IctTicketDetailOut)
    @blp.errors(404)
    def get(self, reference):
        return _with_clock([tickets.get_ticket(authz.require_user(), reference)])[0]

    @blp.arguments(s.IctTicketUpdate)
    @blp.response(200, s.IctTicketDetailOut)
    @blp.errors(404, 409, 422)
    @versioned
    def patch(self, data, reference):
        """Change urgency and impact (ICT officer or manager); the due times follow. Send
        the ticket's ``version`` as read: a stale one answers 409, none answers 428."""
        user = authz.require_user()
        ticket = tickets.get_ticket(user, reference)
        tickets.reprioritise(user, ticket, data["urgency"], data["impact"], data["version"])
        require_version(data["version"])
        return _with_clock([ticket])[0]


@blp.route("/tickets/<reference>/assign", methods=["POST"])
@blp.arguments(s.IctAssignIn)
@blp.response(200, s.IctTicketDetailOut)
@blp.errors(404, 409, 422)
def assign(data, reference):
    """Assign the ticket to an ICT officer (officer or manager)."""
    user = authz.require_user()
    ticket = tickets.get_ticket(user, reference)
    tickets.assign(user, ticket, data["assignee"], data["comment"], data["version"])
    return _with_clock([ticket])[0]


@blp.route("/tickets/<reference>/comments")
class Comments(MethodView):
    @blp.response(200, s.IctCommentOut(many=True))
    @blp.errors(404)
    def get(self, reference):
        return tickets.comments_of(tickets.get_ticket(authz.require_user(), reference))

    @blp.arguments(s.IctCommentIn)
    @blp.response(201, s.IctCommentOut)
    @blp.errors(404, 409, 422)
    def post(self, data, reference):
        """Comment; a requester's reply to a ticket waiting on them restarts its clock."""
        user = authz.require_user()
        return tickets.add_comment(user, tickets.get_ticket(user, reference), data["body"])
