"""The requisition's lifecycle: the spine's, with sourcing and ordering inside the work.

draft → submitted → (certified by the agency head above its limit) → approved by the
manager → sourcing (placed in a tender, or bought directly) → ordered (every line is
on a purchase order) → completed (every order fully received). The facility's own
steps are taken by the services (tender creation, award, receipt); their guards keep
the generic transitions endpoint from skipping them.
"""

from __future__ import annotations

from jof.core import workflow
from jof.core.workflow import MANAGER, OFFICER, RequestType, ServiceRequest, Status, Transition

CODE = "procurement"
PREFIX = "PRC"
SOURCING = "sourcing"
ORDERED = "ordered"


def _requisition(sr: ServiceRequest):
    from jof.procurement import services

    return services.requisition_of(sr)


def _has_lines(sr: ServiceRequest, _user) -> str | None:
    req = _requisition(sr)
    if req is None or not req.lines:
        return "Add at least one line to the requisition before submitting it."
    return None


def _may_source(sr: ServiceRequest, _user) -> str | None:
    req = _requisition(sr)
    if req is not None and req.splitting_warning and req.splitting_acknowledged_at is None:
        return ("A possible splitting of the requirement was flagged; a procurement officer must "
                "acknowledge the warning before sourcing starts.")
    return None


def _all_lines_ordered(sr: ServiceRequest, _user) -> str | None:
    from jof.procurement import services

    if not services.all_lines_ordered(_requisition(sr)):
        return "Not every line of the requisition is on a purchase order yet."
    return None


def _all_orders_received(sr: ServiceRequest, _user) -> str | None:
    from jof.procurement import services

    if not services.all_orders_received(_requisition(sr)):
        return "The goods of every purchase order must be fully received first."
    return None


def _on_transition(sr: ServiceRequest, t: Transition, user) -> None:
    from jof.procurement import services

    if t.action == "submit":
        services.on_submit(sr, user)


def transitions() -> list[Transition]:
    S = Status
    keep = [t for t in workflow.common_lifecycle()
            if t.action not in ("start", "complete") and not (t.action == "cancel" and S.IN_PROGRESS in t.sources)]
    submit = next(t for t in keep if t.action == "submit")
    keep[keep.index(submit)] = Transition("submit", submit.sources, submit.target, submit.actors,
                                          _has_lines, label=submit.label, stamp=submit.stamp)
    return keep + [
        Transition("source", (S.APPROVED,), SOURCING, (OFFICER, MANAGER), _may_source,
                   label="Start sourcing", stamp="started_at"),
        Transition("order", (SOURCING,), ORDERED, (OFFICER, MANAGER), _all_lines_ordered,
                   label="Ordered"),
        Transition("complete", (ORDERED,), S.COMPLETED, (OFFICER, MANAGER), _all_orders_received,
                   label="Complete", stamp="completed_at"),
        Transition("cancel", (SOURCING,), S.CANCELLED, (MANAGER,), comment_required=True,
                   label="Cancel", stamp="closed_at"),
    ]


REQUISITION = workflow.register(RequestType(
    code=CODE, prefix=PREFIX, label="Requisition", service_line="procurement",
    transitions=transitions(), on_transition=_on_transition,
    detail_endpoint="procurement.requisition",
))
