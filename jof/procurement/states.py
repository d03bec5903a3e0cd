"""The requisition's lifecycle, and the state tables of tenders, lots and purchase orders.

draft → submitted → (certified by the agency head above its limit) → approved by the
manager → sourcing (placed in a tender, or bought directly) → ordered (every line is
on a purchase order) → completed (every order fully received). The facility's own
steps are taken by the services (tender creation, award, receipt); their guards keep
the generic transitions endpoint from skipping them.

The guards ask model-level questions (:mod:`jof.procurement.queries`); the side effect
of submitting (the estimate and the method) lives in :mod:`jof.procurement.requisitions`
and is named in the request type by ``install(app)``, so this module imports no
service: :func:`transitions` is the table, :func:`request_type` binds it to its effects.
"""

from __future__ import annotations

from jof.core import workflow
from jof.core.statetable import Move, StateTable
from jof.core.workflow import (
    MANAGER,
    OFFICER,
    Effect,
    RequestType,
    ServiceRequest,
    Status,
    Transition,
)
from jof.procurement import queries
from jof.procurement.models import LotStatus, OrderStatus, SupplierStatus, TenderStatus

CODE = "procurement"
PREFIX = "PRC"
SOURCING = "sourcing"
ORDERED = "ordered"


def _has_lines(sr: ServiceRequest, _user) -> str | None:
    req = queries.requisition_of(sr)
    if req is None or not req.lines:
        return "Add at least one line to the requisition before submitting it."
    return None


def may_source(sr: ServiceRequest, _user=None) -> str | None:
    """Why sourcing cannot start yet: a splitting warning no officer acknowledged."""
    req = queries.requisition_of(sr)
    if req is not None and req.splitting_warning and req.splitting_acknowledged_at is None:
        return ("A possible splitting of the requirement was flagged; a procurement officer must "
                "acknowledge the warning before sourcing starts.")
    return None


def _all_lines_ordered(sr: ServiceRequest, _user) -> str | None:
    if not queries.all_lines_ordered(queries.requisition_of(sr)):
        return "Not every line of the requisition is on a purchase order yet."
    return None


def _all_orders_received(sr: ServiceRequest, _user) -> str | None:
    if not queries.all_orders_received(queries.requisition_of(sr)):
        return "The goods of every purchase order must be fully received first."
    return None


def transitions() -> list[Transition]:
    S = Status
    keep = [t for t in workflow.common_lifecycle()
            if t.action not in ("start", "complete") and not (t.action == "cancel" and S.IN_PROGRESS in t.sources)]
    submit = next(t for t in keep if t.action == "submit")
    keep[keep.index(submit)] = Transition("submit", submit.sources, submit.target, submit.actors,
                                          _has_lines, label=submit.label, stamp=submit.stamp)
    return keep + [
        Transition("source", (S.APPROVED,), SOURCING, (OFFICER, MANAGER), may_source,
                   label="Start sourcing", stamp="started_at"),
        Transition("order", (SOURCING,), ORDERED, (OFFICER, MANAGER), _all_lines_ordered,
                   label="Ordered"),
        Transition("complete", (ORDERED,), S.COMPLETED, (OFFICER, MANAGER), _all_orders_received,
                   label="Complete", stamp="completed_at"),
        Transition("cancel", (SOURCING,), S.CANCELLED, (MANAGER,), comment_required=True,
                   label="Cancel", stamp="closed_at"),
    ]


def request_type(on_submit: Effect) -> RequestType:
    """The requisition's request type; ``on_submit`` estimates and decides the method."""
    return RequestType(
        code=CODE, prefix=PREFIX, label="Requisition", service_line="procurement",
        transitions=transitions(), effects={"submit": on_submit},
        detail_endpoint="procurement.requisition",
    )


# --- the objects of the facility's work -------------------------------------------------------


#: A supplier is suspended while a question is open, debarred when sanctioned, and
#: reinstated from either; putting a supplier in the status it has is a mistake (409),
#: not a silent new date.
SUPPLIER = StateTable("supplier", SupplierStatus, [
    Move("reinstate", (SupplierStatus.SUSPENDED, SupplierStatus.DEBARRED), SupplierStatus.ACTIVE),
    Move("suspend", (SupplierStatus.ACTIVE,), SupplierStatus.SUSPENDED),
    Move("debar", (SupplierStatus.ACTIVE, SupplierStatus.SUSPENDED), SupplierStatus.DEBARRED),
])
#: The action that puts a supplier in each status.
SUPPLIER_ACTION = {SupplierStatus.ACTIVE: "reinstate", SupplierStatus.SUSPENDED: "suspend",
                   SupplierStatus.DEBARRED: "debar"}

TENDER = StateTable("tender", TenderStatus, [
    Move("publish", (TenderStatus.DRAFT,), TenderStatus.PUBLISHED),
    Move("award", (TenderStatus.PUBLISHED,), TenderStatus.AWARDED),
])


LOT = StateTable("lot", LotStatus, [
    Move("award", (LotStatus.OPEN,), LotStatus.AWARDED),
])


PURCHASE_ORDER = StateTable("purchase order", OrderStatus, [
    Move("receive_part", (OrderStatus.ISSUED, OrderStatus.PARTIALLY_RECEIVED), OrderStatus.PARTIALLY_RECEIVED),
    Move("receive_all", (OrderStatus.ISSUED, OrderStatus.PARTIALLY_RECEIVED), OrderStatus.RECEIVED),
])
