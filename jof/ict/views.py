"""ICT pages: the catalogue, tickets for requesters, the officers' queue, subscriptions.

Thin handlers: read the form, validate with the API's schemas, call a service, redirect
on success or render the page again with the messages and the input kept (422).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from jof.core import authz, field_messages, forms, listing, templating, workflow
from jof.core.db import db
from jof.core.errors import DomainError, ValidationFailed
from jof.core.paging import html_page
from jof.ict import catalogue as ict_catalogue
from jof.ict import lists, sla, states
from jof.ict import schemas as s
from jof.ict import subscriptions as ict_subscriptions
from jof.ict import tickets as ict_tickets
from jof.ict.models import SERVICE_KINDS, TICKET_CATEGORIES, TICKET_KINDS

bp = Blueprint("ict", __name__, url_prefix="/ict", template_folder="templates")

PER_PAGE = 25



def register_labels() -> None:
    """The words a reader sees for this line's own states, steps and request types (the
    core knows only the spine's; without these a Portuguese page would show English
    codes). Called by ``jof.ict.install``."""
    field_messages.FIELD_LABELS.update({
        "service": _l("Service concerned"), "unit_price_usd": _l("Price (USD)"), "assignee": _l("Assign to")})
    T = states.TicketStatus
    templating.STATUS_LABELS.update({
        T.NEW: _l("New"), T.ASSIGNED: _l("Assigned"), T.WAITING: _l("Waiting on requester"),
        T.RESOLVED: _l("Resolved"), T.CLOSED: _l("Closed"),
    })
    templating.ACTION_LABELS.update({
        "take": _l("Take"), "assign": _l("Assign"), "wait": _l("Ask the requester"), "respond": _l("Reply"),
        "resolve": _l("Resolve"), "reopen": _l("Reopen"), "close": _l("Close"),
        "change_seats": _l("Seats changed"), "end": _l("Service ended"), "reprioritise": _l("Priority changed"),
    })
    templating.ACTION_DONE_LABELS.update({
        "take": _l("Taken"), "assign": _l("Assigned"), "wait": _l("Asked the requester"), "respond": _l("Replied"),
        "resolve": _l("Resolved"), "reopen": _l("Reopened"), "close": _l("Closed"),
    })
    templating.TYPE_LABELS.update({states.SUBSCRIPTION: _l("ICT subscription"), states.TICKET: _l("ICT ticket")})


def _form(*names: str) -> dict:
    return {n: request.form.get(n, "").strip() for n in names if request.form.get(n, "").strip() != ""}


def _with_clocks(rows) -> list:
    clock = sla.Clock()
    for t in rows:
        t.clock = ict_tickets.clock_of(t, clock)
    return rows


@bp.app_template_filter("working")
def _working(delta) -> str:
    return sla.format_working(delta)


@bp.app_template_filter("level")
def _level(value: int) -> str:
    return {1: _("high"), 2: _("medium"), 3: _("low")}.get(value, str(value))


#: A ticket's category as the reader sees it (TICKET_CATEGORIES stores the codes).
CATEGORY_LABELS = {"email": _l("E-mail"), "network": _l("Network"), "printing": _l("Printing"),
                   "hardware": _l("Hardware"), "software": _l("Software"), "access": _l("Access"),
                   "other": _l("Other")}


@bp.app_template_filter("ict_category")
def _category(code: str | None) -> str:
    label = CATEGORY_LABELS.get(code or "")
    return str(label) if label is not None else (code or "—")


@bp.route("/")
def home():
    user = authz.require_user()
    return redirect(url_for("ict.queue" if ict_tickets.is_desk(user) else "ict.tickets"))


# --- catalogue ------------------------------------------------------------------------------


@bp.route("/services", methods=["GET", "POST"])
def catalogue():
    user = authz.require_user()
    form, errors, status = {"kind": "recurring"}, {}, 200
    if request.method == "POST":
        form = _form("code", "name", "kind", "unit_price_usd", "description")
        try:
            ict_catalogue.create_service(user, forms.load(s.IctServiceIn(), form))
            flash(_("Service %(code)s added to the catalogue.", code=form.get("code")), "success")
            return redirect(url_for("ict.catalogue"))
        except DomainError as exc:
            errors, status = forms.refused(exc)
    return render_template("ict/services.html", rows=ict_catalogue.catalogue_for(user),
                           can_edit=ict_catalogue.may_edit(user), form=form, errors=errors,
                           kinds=SERVICE_KINDS), status


@bp.route("/services/<code>", methods=["POST"])
def catalogue_edit(code):
    """Reprice or withdraw (or restore) a service: manager or administrator."""
    user = authz.require_user()
    service = ict_catalogue.get_service(code)
    form = {"unit_price_usd": request.form.get("unit_price_usd", "").strip(),
            "active": request.form.get("active") == "on"}
    try:
        ict_catalogue.update_service(user, service, forms.load(s.IctServiceUpdate(), form))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return render_template("ict/services.html", rows=ict_catalogue.catalogue_for(user),
                               can_edit=ict_catalogue.may_edit(user),
                               form={"kind": "recurring"}, errors={}, edit_errors={code: errors},
                               edit_form={code: form}, kinds=SERVICE_KINDS), status
    flash(_("Service %(code)s updated.", code=code), "success")
    return redirect(url_for("ict.catalogue"))


# --- tickets ---------------------------------------------------------------------------------


@bp.route("/tickets")
def tickets():
    user = authz.require_user()
    status = request.args.get("status") or None
    stmt = ict_tickets.tickets_query(user, status=status, sort="created").options(*lists.ROW_LOADS)
    return listing.respond(lists.TICKETS, stmt, "ict/tickets.html", _("ICT tickets"), PER_PAGE,
                           prepare=_with_clocks, status=status,
                           statuses=workflow.get_type(states.TICKET).states)


def _ticket_form(form: dict, errors: dict, status: int = 200):
    catalogue = db.session.scalars(ict_catalogue.services_query()).all()
    return render_template("ict/ticket_new.html", form=form, errors=errors, kinds=TICKET_KINDS,
                           categories=TICKET_CATEGORIES, levels=list(sla.LEVELS), catalogue=catalogue,
                           matrix=sla.PRIORITY_MATRIX, targets=sla.SLA_TARGETS), status


@bp.route("/tickets/new", methods=["GET", "POST"])
def ticket_new():
    user = authz.require_user()
    if request.method == "GET":
        return _ticket_form({"kind": "incident", "category": "other", "urgency": "medium",
                             "impact": "medium"}, {})
    form = _form("title", "description", "kind", "category", "service", "urgency", "impact")
    try:
        ticket = ict_tickets.file_ticket(user, forms.load(s.IctTicketIn(), form))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _ticket_form(form, errors, status)
    flash(_("Ticket %(reference)s opened with priority %(priority)s.", reference=ticket.request.reference,
            priority=ticket.priority), "success")
    return redirect(url_for("ict.ticket_page", reference=ticket.request.reference))


def _render_ticket(user, ticket, status: int = 200, *, error=None, errors=None, form=None):
    _with_clocks([ticket])
    return render_template(
        "ict/ticket.html", t=ticket, sr=ticket.request,
        transitions=[t for t in workflow.available_transitions(user, ticket.request) if t.action != "assign"],
        can_assign="assign" in workflow.allowed_actions(user, ticket.request),
        officers=ict_tickets.officers_for(user), can_prioritise=ict_tickets.may_reprioritise(user, ticket),
        levels=list(sla.LEVELS), can_comment=ict_tickets.may_comment(user, ticket),
        comments=ict_tickets.comments_of(ticket), error=error, errors=errors or {}, form=form or {},
    ), status


@bp.route("/tickets/<reference>")
def ticket_page(reference):
    user = authz.require_user()
    return _render_ticket(user, ict_tickets.get_ticket(user, reference))


def _ticket_post(reference, act, success: str):
    """Run ``act(user, ticket)``; back to the ticket page, or the page with the refusal."""
    def done(ticket):
        flash(success % {"reference": reference,
                         "status": templating.status_label(ticket.request.status).lower()}, "success")
        return redirect(url_for("ict.ticket_page", reference=reference))

    return forms.act_on(lambda user: ict_tickets.get_ticket(user, reference), act, _render_ticket, done)


def _version(form) -> int:
    try:
        return int(form.get("version", ""))
    except ValueError:
        raise ValidationFailed({"version": [_("The form lost the ticket's version; reload the page.")]}) from None


@bp.route("/tickets/<reference>/transitions", methods=["POST"])
def ticket_transition(reference):
    def act(user, ticket, form):
        workflow.perform(user, ticket.request, form.get("action", ""), form.get("comment", ""), _version(form))

    return _ticket_post(reference, act, _("%(reference)s is now %(status)s."))


def _confirm_move(user, sr, action: str, render, post_endpoint: str, back_endpoint: str, consequence: str,
                  back: str):
    """The confirmation of a move that ends a ticket or a subscription for good; the page's
    form posts the move (with the comment typed before, kept)."""
    move = next((t for t in workflow.available_transitions(user, sr) if t.action == action), None)
    if move is None:
        return render(error=_("That action is not open to you on this request now."))
    label = templating.action_label(move.action, move.label)
    return render_template(
        "core/confirm.html", heading=f"{label} {sr.reference}", consequence=consequence,
        action=url_for(post_endpoint, reference=sr.reference),
        hidden={"action": move.action, "version": sr.version},
        comment=request.args.get("comment", ""), comment_required=move.comment_required,
        confirm=_("Yes, %(action)s", action=label.lower()),
        back_url=url_for(back_endpoint, reference=sr.reference), back=back)


@bp.route("/tickets/<reference>/confirm/cancel")
def ticket_confirm_cancel(reference):
    user = authz.require_user()
    ticket = ict_tickets.get_ticket(user, reference)
    sr = ticket.request
    return _confirm_move(
        user, sr, "cancel", lambda **kw: _render_ticket(user, ticket, **kw), "ict.ticket_transition",
        "ict.ticket_page",
        _("Cancel ticket %(ref)s “%(title)s”: the ticket ends as cancelled, no one works on it any more "
          "and it cannot be reopened. This cannot be undone.", ref=sr.reference, title=sr.title),
        _("Keep the ticket"))


@bp.route("/tickets/<reference>/assign", methods=["POST"])
def ticket_assign(reference):
    def act(user, ticket, form):
        ict_tickets.assign(user, ticket, form.get("assignee", ""), form.get("comment", ""), _version(form))

    return _ticket_post(reference, act, _("%(reference)s is now %(status)s."))


@bp.route("/tickets/<reference>/priority", methods=["POST"])
def ticket_priority(reference):
    def act(user, ticket, form):
        data = forms.load(s.IctTicketUpdate(), {k: form.get(k, "") for k in ("urgency", "impact", "version")})
        ict_tickets.reprioritise(user, ticket, data["urgency"], data["impact"], data["version"])

    return _ticket_post(reference, act, _("The priority of %(reference)s was updated."))


@bp.route("/tickets/<reference>/comments", methods=["POST"])
def ticket_comment(reference):
    def act(user, ticket, form):
        ict_tickets.add_comment(user, ticket, form.get("body", ""))

    return _ticket_post(reference, act, _("Comment added to %(reference)s."))


@bp.route("/queue")
def queue():
    """The ICT officers' queue: open tickets, least working time left first."""
    user = authz.require_user()
    mine = request.args.get("mine") == "1"
    page = html_page(ict_tickets.queue_query(user, mine=mine), PER_PAGE)
    _with_clocks(page["items"])
    return render_template("ict/queue.html", p=page, mine=mine)


# --- subscriptions -----------------------------------------------------------------------------


@bp.route("/subscriptions")
def subscriptions():
    """Subscriptions per agency: seats in force today and their monthly value."""
    user = authz.require_user()
    agency = request.args.get("agency") or None
    order = listing.requested_sort(lists.SUBSCRIPTIONS)
    stmt = listing.ordered(ict_subscriptions.subscriptions_query(user, agency).options(*lists.SUBSCRIPTION_LOADS),
                           order)
    fmt = listing.requested_format()
    if fmt is not None:
        return listing.export(lists.SUBSCRIPTIONS, stmt, fmt, _("ICT subscriptions"))
    rows = db.session.scalars(stmt).all()
    groups: dict[str, list] = {}
    for sub in rows:
        groups.setdefault(sub.request.agency.code, []).append(sub)
    return render_template("ict/subscriptions.html", groups=groups, agency=agency, sorted=order,
                           agencies=ict_subscriptions.agency_filter_for(user), live=states.SUBSCRIPTION_LIVE)


def _order_form(form, errors, status=200):
    catalogue = db.session.scalars(ict_catalogue.services_query()).all()
    return render_template("ict/subscription_new.html", form=form, errors=errors, catalogue=catalogue), status


@bp.route("/subscriptions/new", methods=["GET", "POST"])
def subscription_new():
    user = authz.require_user()
    if request.method == "GET":
        return _order_form({"service": request.args.get("service", ""), "seats": "1"}, {})
    form = _form("service", "seats", "starts_on", "ends_on", "description")
    try:
        sub = ict_subscriptions.order(user, forms.load(s.IctSubscriptionIn(), form))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _order_form(form, errors, status)
    flash(_("Order %(reference)s submitted for approval.", reference=sub.request.reference), "success")
    return redirect(url_for("ict.subscription_page", reference=sub.request.reference))


def _render_subscription(user, sub, status=200, *, error=None, errors=None, form=None):
    return render_template("ict/subscription.html", sub=sub, sr=sub.request,
                           transitions=workflow.available_transitions(user, sub.request),
                           can_change=ict_subscriptions.may_change(user, sub),
                           error=error, errors=errors or {}, form=form or {}), status


@bp.route("/subscriptions/<reference>")
def subscription_page(reference):
    user = authz.require_user()
    return _render_subscription(user, ict_subscriptions.subscription_by_reference(user, reference))


def _subscription_post(reference, act, success: str):
    def done(sub):
        flash(success % {"reference": reference,
                         "status": templating.status_label(sub.request.status).lower()}, "success")
        return redirect(url_for("ict.subscription_page", reference=reference))

    return forms.act_on(lambda user: ict_subscriptions.subscription_by_reference(user, reference), act,
                        _render_subscription, done)


@bp.route("/subscriptions/<reference>/transitions", methods=["POST"])
def subscription_transition(reference):
    def act(user, sub, form):
        workflow.perform(user, sub.request, form.get("action", ""), form.get("comment", ""), _version(form))

    return _subscription_post(reference, act, _("%(reference)s is now %(status)s."))


@bp.route("/subscriptions/<reference>/confirm/<action>")
def subscription_confirm(reference, action):
    user = authz.require_user()
    sub = ict_subscriptions.subscription_by_reference(user, reference)
    sr = sub.request
    names = {"ref": sr.reference, "service": sub.service.name, "seats": sub.seats, "agency": sr.agency.name}
    if action == "cancel":
        consequence = _("Cancel the subscription %(ref)s (%(service)s, %(seats)d seats for %(agency)s): it "
                        "ends as cancelled and no one can act on it again. This cannot be undone.", **names)
    elif action == "reject":
        consequence = _("Reject the order %(ref)s (%(service)s, %(seats)d seats for %(agency)s): it ends as "
                        "rejected and the requester is told your reason. This cannot be undone.", **names)
    else:
        return _render_subscription(user, sub, error=_("That action is not open to you on this request now."))
    return _confirm_move(user, sr, action, lambda **kw: _render_subscription(user, sub, **kw),
                         "ict.subscription_transition", "ict.subscription_page", consequence,
                         _("Keep the subscription"))


@bp.route("/subscriptions/<reference>/confirm/end")
def subscription_confirm_end(reference):
    """Setting the last day of service is checked, then named, before it is made."""
    user = authz.require_user()
    sub = ict_subscriptions.subscription_by_reference(user, reference)
    form = {"ends_on": request.args.get("ends_on", "").strip()}
    try:
        if not ict_subscriptions.may_change(user, sub):
            return _render_subscription(user, sub, error=_("That action is not open to you on this request now."))
        ends_on = forms.load(s.IctEndIn(), form)["ends_on"]
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _render_subscription(user, sub, status, errors=errors, form=form)
    sr = sub.request
    return render_template(
        "core/confirm.html", heading=_("End the subscription %(ref)s", ref=sr.reference),
        consequence=_("The last day of service of %(ref)s (%(service)s, %(seats)d seats for %(agency)s) "
                      "becomes %(day)s: no seat is provided or charged after it.", ref=sr.reference,
                      service=sub.service.name, seats=sub.seats, agency=sr.agency.name,
                      day=format_date(ends_on, "long")),
        action=url_for("ict.subscription_end", reference=sr.reference), hidden={"ends_on": ends_on.isoformat()},
        comment=None, confirm=_("Yes, set the end date"),
        back_url=url_for("ict.subscription_page", reference=sr.reference), back=_("Keep the subscription"))


@bp.route("/subscriptions/<reference>/seats", methods=["POST"])
def subscription_seats(reference):
    def act(user, sub, form):
        data = forms.load(s.IctSeatChangeIn(), {k: form.get(k, "").strip() for k in ("seats", "effective_from")})
        ict_subscriptions.change_seats(user, sub, data["seats"], data["effective_from"])

    return _subscription_post(reference, act, _("Seats of %(reference)s changed."))


@bp.route("/subscriptions/<reference>/end", methods=["POST"])
def subscription_end(reference):
    def act(user, sub, form):
        data = forms.load(s.IctEndIn(), {"ends_on": form.get("ends_on", "").strip()})
        ict_subscriptions.end_subscription(user, sub, data["ends_on"])

    return _subscription_post(reference, act, _("End date of %(reference)s set."))
