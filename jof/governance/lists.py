"""The board's lists (all decisions, the register of resolutions): what each page shows,
sorts by and exports (see :mod:`jof.core.listing`), and the words the board's pages use for
the codes a decision stores."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from jof.core.listing import Column, Listing
from jof.governance.models import Decision
from jof.governance.states import DecisionStatus, EffectStatus

#: How the board's pages name a decision's and an effect's status.
DECISION_STATUS_LABELS = {DecisionStatus.DRAFT: _l("Draft"),
                          DecisionStatus.OPEN: lazy_pgettext("decision status", "Open"),
                          DecisionStatus.CLOSED: _l("Closed")}
EFFECT_STATUS_LABELS = {EffectStatus.PENDING: _l("Pending"), EffectStatus.SCHEDULED: _l("Scheduled"),
                        EffectStatus.APPLIED: _l("Applied"), EffectStatus.FAILED: _l("Failed")}


#: How the board's pages name the codes a decision stores (its kind, threshold, quorum,
#: outcome) and the categories of shared costs.
BOARD_LABELS = {
    "kind": {"general": _l("General"), "budget": _l("Budget"), "cost_sharing_key": _l("Cost-sharing key"),
             "price_list": _l("Price list"), "procurement_manual": _l("Procurement manual"),
             "membership": _l("Membership")},
    "threshold": {"simple_majority": _l("Simple majority"), "two_thirds": _l("Two-thirds majority"),
                  "unanimity": _l("Unanimity")},
    "quorum": {"more_than_half": _l("More than half of the members"),
               "two_thirds": _l("Two thirds of the members"), "all": _l("All members")},
    "outcome": {"adopted": _l("Adopted"), "rejected": _l("Rejected"), "no_quorum": _l("No quorum")},
    "vote": {"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain"), "not_voted": _l("Not voted")},
    "category": {"staff": _l("Staff"), "premises": _l("Premises"), "ict_infrastructure": _l("ICT infrastructure"),
                 "other": _l("Other")},
}


def board_word(group: str, code: str | None) -> str:
    return str(BOARD_LABELS[group].get(code, code)) if code else ""


def _votes(d: Decision) -> str:
    """Each agency's vote, as the register prints it (``UNDP: Yes, UNFPA: No``)."""
    cast = (d.tally or {}).get("votes") or {}
    return ", ".join(f"{code}: {board_word('vote', choice)}" for code, choice in cast.items())


DECISIONS = Listing(
    "decisions",
    (
        Column("title", _l("Title"), lambda d: d.title, Decision.title),
        Column("kind", _l("Kind"), lambda d: board_word("kind", d.kind), Decision.kind),
        Column("status", _l("Status"), lambda d: str(DECISION_STATUS_LABELS.get(d.status, d.status)),
               Decision.status),
        Column("created", _l("Proposed"), lambda d: d.created_at, Decision.created_at),
        Column("closes", _l("Closes"), lambda d: d.closes_at, Decision.closes_at, empty_last=True),
        Column("outcome", _l("Outcome"), lambda d: board_word("outcome", d.outcome), Decision.outcome,
               empty_last=True),
        Column("resolution", _l("Resolution"), lambda d: d.resolution_number, Decision.resolution_number,
               empty_last=True),
    ),
    default_sort="created",
    tiebreak=(Decision.id.desc(),),
)

RESOLUTIONS = Listing(
    "resolutions",
    (
        Column("number", _l("Number"), lambda d: d.resolution_number, Decision.resolution_number),
        Column("title", _l("Decision"), lambda d: d.title, Decision.title),
        Column("outcome", _l("Outcome"), lambda d: board_word("outcome", d.outcome), Decision.outcome),
        Column("closed", _l("Closed"), lambda d: d.closed_at, Decision.closed_at),
        Column("votes", _l("Votes"), _votes),
    ),
    default_sort="closed",
    tiebreak=(Decision.id.desc(),),
)
