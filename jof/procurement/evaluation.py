"""Bid evaluation (DESIGN §3) and the contracts committee's sign-off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from jof.core import audit, authz
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden
from jof.core.formatting import facility_time
from jof.core.money import quantize
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.procurement.common import METHOD_LABELS, require_staff_reader
from jof.procurement.models import (
    Bid,
    Lot,
)
from jof.procurement.tenders import is_closed


@dataclass
class EvaluationRow:
    bid: Bid
    considered: bool
    reason: str = ""
    technical_points: Fraction | None = None
    financial_points: Fraction | None = None
    total_points: Fraction | None = None
    rank: int | None = None
    winner: bool = False

    def as_dict(self) -> dict:
        def d4(x):
            return None if x is None else str(quantize(Decimal(x.numerator) / Decimal(x.denominator), 4))

        b = self.bid
        return {"rank": self.rank, "bid_id": b.id, "supplier": b.supplier.name, "supplier_status": b.supplier.status,
                "submitted_at": b.submitted_at, "price_usd": b.total_usd, "technical_score": b.technical_score,
                "technically_compliant": b.technically_compliant, "considered": self.considered,
                "reason": self.reason, "technical_points": d4(self.technical_points),
                "financial_points": d4(self.financial_points), "total_points": d4(self.total_points),
                "winner": self.winner}


@dataclass
class Evaluation:
    lot: Lot
    rows: list[EvaluationRow]
    lowest: Decimal | None
    winner: Bid | None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        t = self.lot.tender
        return {"method": t.evaluation_method, "technical_minimum": t.technical_minimum,
                "technical_weight": t.technical_weight, "financial_weight": t.financial_weight,
                "lowest_considered_price": self.lowest, "winner_bid_id": self.winner.id if self.winner else None,
                "warnings": self.warnings, "rows": [r.as_dict() for r in self.rows]}


def _frac(d: Decimal) -> Fraction:
    return Fraction(d)


def rank(bids, *, method: str, technical_minimum: Decimal, technical_weight: Decimal,
         financial_weight: Decimal) -> tuple[list[EvaluationRow], Decimal | None, Bid | None]:
    """Rank bids exactly (rational arithmetic, so ties are real ties); a pure calculator.

    Cumulative: a bid is considered when its technical score reaches the minimum; total
    = score / 100 × technical weight + lowest considered price / price × financial
    weight. Lowest price: the cheapest technically compliant bid. Ties go to the higher
    technical score, then the earlier bid, then the bid recorded first (its id), so the
    ranking never depends on the order the bids are listed in. A supplier no longer
    active is not considered, nor is a price of USD 0.00 (refused since; one stored
    before cannot divide the financial score by zero).
    """
    rows = []
    for b in sorted(bids, key=lambda b: (b.submitted_at, b.id)):
        row = EvaluationRow(bid=b, considered=True)
        if b.supplier.status != "active":
            row.considered, row.reason = False, f"Supplier is {b.supplier.status}."
        elif b.total_usd <= 0:
            row.considered, row.reason = False, "The price comes to USD 0.00: not a valid offer."
        elif method == "cumulative":
            if b.technical_score is None or b.technical_score < technical_minimum:
                row.considered = False
                row.reason = f"Technical score below the minimum of {technical_minimum}."
        elif not b.technically_compliant:
            row.considered, row.reason = False, "Not technically compliant."
        rows.append(row)
    considered = [r for r in rows if r.considered]
    lowest = min((r.bid.total_usd for r in considered), default=None)
    for r in considered:
        score = _frac(r.bid.technical_score) if r.bid.technical_score is not None else Fraction(0)
        if method == "cumulative":
            r.technical_points = score / 100 * _frac(technical_weight)
            r.financial_points = _frac(lowest) / _frac(r.bid.total_usd) * _frac(financial_weight)
            r.total_points = r.technical_points + r.financial_points
    if method == "cumulative":
        def key(r):
            return (-r.total_points, -(r.bid.technical_score or 0), r.bid.submitted_at, r.bid.id)
    else:
        def key(r):
            return (r.bid.total_usd, -(r.bid.technical_score or 0), r.bid.submitted_at, r.bid.id)
    ranked = sorted(considered, key=key)
    for i, r in enumerate(ranked, start=1):
        r.rank = i
    if ranked:
        ranked[0].winner = True
    return rows, lowest, ranked[0].bid if ranked else None


def evaluate(lot: Lot) -> Evaluation:
    """The lot's evaluation as it stands now (see :func:`rank`), with the manual's warnings."""
    t = lot.tender
    rows, lowest, winner = rank(lot.bids, method=t.evaluation_method, technical_minimum=t.technical_minimum,
                                technical_weight=t.technical_weight, financial_weight=t.financial_weight)
    warnings = []
    needed = {"micro_purchase": t.manual.micro_min_quotes, "rfq": t.manual.rfq_min_quotes,
              "itb": t.manual.itb_min_offers}[t.method]
    if len(lot.bids) < needed:
        warnings.append(f"The manual asks for at least {needed} offers for a {METHOD_LABELS[t.method]}; "
                        f"this lot received {len(lot.bids)}. Say why in the award justification.")
    return Evaluation(lot=lot, rows=rows, lowest=lowest, winner=winner, warnings=warnings)


def ensure_unsealed(user: User, lot: Lot) -> None:
    """Bids are handled by the facility, and opened only once the tender closes."""
    require_staff_reader(user)
    if not is_closed(lot.tender):
        raise Conflict(f"Bids of tender {lot.tender.number} stay sealed until it closes "
                       f"({facility_time(lot.tender.closing_at)})." if lot.tender.closing_at else
                       f"Tender {lot.tender.number} is not published yet.")


# --- the record an award freezes ---------------------------------------------------------------

_DECIMALS = ("technical_minimum", "technical_weight", "financial_weight", "lowest_considered_price",
             "price_usd", "technical_score")
_MOMENTS = ("submitted_at", "signed_at", "awarded_at")


def _to_json(value):
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _from_json(value, key: str = ""):
    if isinstance(value, dict):
        return {k: _from_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if value is not None and key in _DECIMALS:
        return Decimal(value)
    if value is not None and key in _MOMENTS:
        return datetime.fromisoformat(value)
    return value


def award_record(evaluation: Evaluation, actor: User, at: datetime) -> dict:
    """What the award was made on, as JSON: every row (prices, scores, points, ranks,
    reasons, suppliers' status then), the weights, the warnings and the committee."""
    lot = evaluation.lot
    signer = db.session.get(User, lot.committee_signed_by_id) if lot.committee_signed_by_id else None
    return _to_json({**evaluation.as_dict(), "frozen": True, "awarded_at": at, "awarded_by": actor.name,
                     "committee": {"required": lot.committee_required, "signed_at": lot.committee_signed_at,
                                   "signed_by": signer.name if signer else None}})


def table(lot: Lot) -> dict:
    """The evaluation table to show: the record frozen at the award once the lot is
    awarded (a supplier suspended since changes nothing in it), else today's."""
    if lot.award_record is not None:
        return _from_json(lot.award_record)
    return {**evaluate(lot).as_dict(), "frozen": False}


def table_for(user: User, lot: Lot) -> dict:
    ensure_unsealed(user, lot)
    return table(lot)


def committee_sign_off(actor: User, lot: Lot) -> Lot:
    """The contracts committee's review, recorded by the facility manager who chairs it."""
    authz.ensure_can_change(actor)
    if not actor.has_role(Role.MANAGER):
        raise Forbidden("The facility manager records the contracts committee's sign-off.")
    if not lot.committee_required:
        raise Conflict("This lot is below the committee threshold; it needs no committee review.")
    if lot.committee_signed_at is not None:
        raise Conflict("The committee signed this lot off already.")
    if not is_closed(lot.tender):
        raise Conflict("The committee reviews the evaluation after the tender closes.")
    lot.committee_signed_at = utcnow()
    lot.committee_signed_by_id = actor.id
    audit.record(actor, "procurement.lot.committee", lot, after={"tender": lot.tender.number, "lot": lot.number})
    return lot
