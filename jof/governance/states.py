"""The states of the board's objects and the moves between them (DESIGN §6).

A decision is drafted, opened for voting and closed once; its outcome is fixed at the
close and never changes. An adopted decision's effect waits for its module
(``pending``), for its day (``scheduled``), or is ``applied`` or ``failed`` once, with
the reason. Every status change goes through these tables (``TABLE.move``), which
refuse an undeclared move with a 409 naming the actions possible now; who may act and
the business preconditions stay in the services.

This module imports no services: the services import it.
"""

from __future__ import annotations

from enum import StrEnum

from jof.core.statetable import Move, StateTable


class DecisionStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Outcome(StrEnum):
    """Fixed when the decision closes, with its resolution number."""

    ADOPTED = "adopted"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"


class EffectStatus(StrEnum):
    #: no module applies this kind yet; the payload waits for it
    PENDING = "pending"
    #: applied by the scheduled run on its effective date
    SCHEDULED = "scheduled"
    APPLIED = "applied"
    #: could not apply when its day came (the summary says why); never retried
    FAILED = "failed"


DECISIONS = StateTable("decision", DecisionStatus, [
    Move("open", (DecisionStatus.DRAFT,), DecisionStatus.OPEN),
    Move("close", (DecisionStatus.OPEN,), DecisionStatus.CLOSED),
])

EFFECTS = StateTable("decision effect", EffectStatus, [
    Move("schedule", (EffectStatus.PENDING,), EffectStatus.SCHEDULED),
    Move("apply", (EffectStatus.PENDING, EffectStatus.SCHEDULED), EffectStatus.APPLIED),
    Move("fail", (EffectStatus.PENDING, EffectStatus.SCHEDULED), EffectStatus.FAILED),
])


def ensure_allowed(table: StateTable, obj, action: str) -> None:
    """Refuse ``action`` now, with the table's own 409, before any other check is made
    (so a closed decision answers "it is closed", not "your closing time is wrong")."""
    if not table.allows(obj, action):
        table.move(obj, action)  # an undeclared move: raises the table's 409, changes nothing
