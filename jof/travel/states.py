"""The travel request type (``TRV-…``): its transition table in the one workflow engine,
and the declared table of the facility's steps inside ``in_progress``.

The common lifecycle of DESIGN §2, with the facility's steps of DESIGN §4 added inside
``in_progress`` as extra transitions that keep the status and move the request's
``stage`` through :data:`STAGES`: quote → ticket → mark_travelled → claim → settle, then
complete. Quoting or ticketing an approved request starts the work. Submitting and
approving check that the traveller has no overlapping approved trip; a trip is marked
travelled, and claimed, only after its return date.

This module imports no service module: the guards read through ``queries``, and the
effects (what each step writes) live in the service modules; ``jof.travel.install``
names them when it registers :func:`request_type`.
"""

from __future__ import annotations

from dataclasses import replace

from jof.core import workflow
from jof.core.statetable import Move, StateTable
from jof.core.timeutil import utcnow
from jof.core.workflow import OFFICER, REQUESTER, Effect, RequestType, Status, Transition
from jof.travel.models import Stage
from jof.travel.queries import not_yet_returned, overlap_message, overlapping_trip, travel_of

TYPE = "travel"
SERVICE_LINE = "travel"

#: The facility's steps inside ``in_progress`` (a sub-table of the request's status: the
#: request stays ``in_progress`` while its stage moves). Every stage change goes through
#: ``STAGES.move``; who may act and the business preconditions are the guards below.
STAGES = StateTable("travel stage", Stage, [
    Move("quote", (Stage.NONE, Stage.QUOTED), Stage.QUOTED),
    Move("ticket", (Stage.NONE, Stage.QUOTED), Stage.TICKETED),
    # without a ticket to issue, a trip goes from started (or quoted) to travelled
    Move("mark_travelled", (Stage.NONE, Stage.QUOTED, Stage.TICKETED), Stage.TRAVELLED),
    Move("claim", (Stage.TRAVELLED,), Stage.CLAIMED),
    Move("settle", (Stage.CLAIMED,), Stage.SETTLED),
], attribute="stage")

_MISSING = "The travel details of this request are missing."


def _stage_guard(action: str, message: str, *, needs: str | None = None):
    def guard(sr, _user) -> str | None:
        tr = travel_of(sr)
        if tr is None:
            return _MISSING
        if needs and not getattr(tr, needs):
            return {"needs_ticket": "The trip needs no ticket.",
                    "needs_dsa": "The trip claims no DSA."}[needs]
        if not STAGES.allows(tr, action):
            return message
        return None

    return guard


def _can_mark_travelled(sr, _user) -> str | None:
    tr = travel_of(sr)
    if tr is None:
        return _MISSING
    if not (tr.stage == Stage.TICKETED or (not tr.needs_ticket and STAGES.allows(tr, "mark_travelled"))):
        return "Only a ticketed trip (or one that needs no ticket) can be marked travelled."
    return not_yet_returned(tr)


def _can_claim(sr, user) -> str | None:
    reason = _stage_guard("claim", "The claim is filed after the trip is marked travelled.",
                          needs="needs_dsa")(sr, user)
    # a trip marked travelled before its return (possible before this rule) still waits
    return reason or not_yet_returned(travel_of(sr), "claimed")


def _can_complete(sr, _user) -> str | None:
    tr = travel_of(sr)
    if tr is None:
        return None
    if tr.stage == Stage.SETTLED or (tr.stage == Stage.TRAVELLED and not tr.needs_dsa):
        return None
    return ("A trip completes once the claim is settled (or, without DSA, once travelled); "
            f"it is now at step '{tr.stage or 'started'}'.")


def _no_overlap(sr, _user) -> str | None:
    tr = travel_of(sr)
    if tr is None:
        return None
    other = overlapping_trip(tr)
    return overlap_message(other) if other is not None else None


def _not_in_past(sr, _user) -> str | None:
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


#: Extra guards on the common lifecycle's actions.
_EXTRA_GUARDS = {"submit": (_not_in_past, _no_overlap), "approve": (_no_overlap,), "complete": (_can_complete,)}


def transitions() -> list[Transition]:
    S = Status
    rows = [replace(t, guard=_both(t.guard, *_EXTRA_GUARDS[t.action])) if t.action in _EXTRA_GUARDS else t
            for t in workflow.common_lifecycle()]
    rows += [
        Transition("quote", (S.APPROVED, S.IN_PROGRESS), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard("quote", "Quotes are recorded before the ticket is issued.",
                                needs="needs_ticket"), label="Record quote"),
        Transition("ticket", (S.APPROVED, S.IN_PROGRESS), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard("ticket", "The ticket has already been issued.", needs="needs_ticket"),
                   label="Issue ticket"),
        Transition("mark_travelled", (S.IN_PROGRESS,), S.IN_PROGRESS, (OFFICER,), _can_mark_travelled,
                   label="Mark travelled"),
        Transition("claim", (S.IN_PROGRESS,), S.IN_PROGRESS, (REQUESTER,), _can_claim, label="File claim"),
        Transition("settle", (S.IN_PROGRESS,), S.IN_PROGRESS, (OFFICER,),
                   _stage_guard("settle", "There is no filed claim to settle."), label="Settle claim"),
    ]
    return rows


def request_type(effects: dict[str, Effect], payloads: dict[str, type]) -> RequestType:
    """The travel request type with the effects and payload schemas ``install`` names."""
    return RequestType(code=TYPE, prefix="TRV", label="Travel request", service_line=SERVICE_LINE,
                       transitions=transitions(), effects=effects, payloads=payloads,
                       detail_endpoint="travel.request_page")
