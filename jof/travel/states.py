"""The travel request type (``TRV-…``) and its transition table in the one workflow engine.

The common lifecycle of DESIGN §2, with the facility's steps of DESIGN §4 added inside
``in_progress`` as extra transitions that keep the status and move the request's
``stage``: quote → ticket → mark_travelled → claim → settle, then complete. Quoting or
ticketing an approved request starts the work. Submitting and approving check that the
traveller has no overlapping approved trip; cancelling after ticketing records the
cancellation fee.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from jof.core import workflow
from jof.core.db import db
from jof.core.workflow import OFFICER, REQUESTER, Status, Transition
from jof.travel.models import TravelRequest

TYPE = "travel"
SERVICE_LINE = "travel"


def travel_of(sr) -> TravelRequest | None:
    return db.session.scalar(select(TravelRequest).where(TravelRequest.request_id == sr.id))


def _stage_guard(allowed: tuple[str, ...], message: str, *, needs: str | None = None):
    def guard(sr, _user) -> str | None:
        tr = travel_of(sr)
        if tr is None:
            return "The travel details of this request are missing."
        if needs and not getattr(tr, needs):
            return {"needs_ticket": "The trip needs no ticket.",
                    "needs_dsa": "The trip claims no DSA."}[needs]
        if tr.stage not in allowed:
            return message
        return None

    return guard


def _can_mark_travelled(sr, _user) -> str | None:
    tr = travel_of(sr)
    if tr is None:
        return "The travel details of this request are missing."
    if tr.stage == "ticketed" or (not tr.needs_ticket and tr.stage in ("", "quoted")):
        return None
    return "Only a ticketed trip (or one that needs no ticket) can be marked travelled."


def _can_complete(sr, _user) -> str | None:
    tr = travel_of(sr)
    if tr is None:
        return None
    if tr.stage == "settled" or (tr.stage == "travelled" and not tr.needs_dsa):
        return None
    return ("A trip completes once the claim is settled (or, without DSA, once travelled); "
            f"it is now at step '{tr.stage or 'started'}'.")


def _no_overlap(sr, _user) -> str | None:
    from jof.travel import services

    tr = travel_of(sr)
    if tr is None:
        return None
    other = services.overlapping_trip(tr)
    if other is not None:
        return services.overlap_message(other)
    return None


def _not_in_past(sr, _user) -> str | None:
    from jof.core.timeutil import utcnow

    tr = travel_of(sr)
    if tr is not None and tr.starts_at <= utcnow():
        return "The trip's first departure is in the past; change the itinerary before submitting."
    return None


def _both(*guards):
    guards = [g for g in guards if g is not None]

    def guard(sr, user) -> str | None:
        for g in guards:
            reason = g(sr, user)
            if reason:
                return reason
        return None

    return guard


def _transitions() -> list[Transition]:
    S = Status
    rows = []
    for t in workflow.common_lifecycle():
        if t.action == "submit":
            t = replace(t, guard=_both(t.guard, _not_in_past, _no_overlap))
        elif t.action == "approve":
            t = replace(t, guard=_both(t.guard, _no_overlap))
        elif t.action == "complete":
            t = replace(t, guard=_both(t.guard, _can_complete))
        rows.append(t)
    rows += [
        Transition("quote", (S.APPROVED, S.IN_PROGRESS), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard(("", "quoted"), "Quotes are recorded before the ticket is issued.",
                                needs="needs_ticket"), label="Record quote"),
        Transition("ticket", (S.APPROVED, S.IN_PROGRESS), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard(("", "quoted"), "The ticket has already been issued.", needs="needs_ticket"),
                   label="Issue ticket"),
        Transition("mark_travelled", (S.IN_PROGRESS,), S.IN_PROGRESS, (OFFICER,), _can_mark_travelled,
                   label="Mark travelled"),
        Transition("claim", (S.IN_PROGRESS,), S.IN_PROGRESS, (REQUESTER,),
                   _stage_guard(("travelled",), "The claim is filed after the trip is marked travelled.",
                                needs="needs_dsa"), label="File claim"),
        Transition("settle", (S.IN_PROGRESS,), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard(("claimed",), "There is no filed claim to settle."), label="Settle claim"),
    ]
    return rows


def _hook(sr, t: Transition, user) -> None:
    from jof.travel import services

    tr = travel_of(sr)
    if tr is not None:
        services.on_transition(tr, t, user)


workflow.register(workflow.RequestType(
    code=TYPE, prefix="TRV", label="Travel request", service_line=SERVICE_LINE,
    transitions=_transitions(), on_transition=_hook, detail_endpoint="travel.request_page",
))
