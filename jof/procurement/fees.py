"""Pooled procurement fees: a joint tender lot carries one process fee (DESIGN §3, §7).

Pooling must never cost a partner more than buying alone. A lot whose award is ordered
by several agencies draws ONE fee, the price-list fee of the tender's method on the
award (e.g. one RFQ process, USD 350), shared among its agencies in proportion to their
purchase orders by largest remainder (:func:`jof.core.money.allocate`, ties by agency
code). No agency pays more than the fee its own requisitions alone would have drawn
(their own method's fee on their own goods: UNESCO's USD 3,149.97 alone is a
micro-purchase, 2% = USD 63.00). What a cap removes goes to the agencies still under
their caps, in proportion again; what nobody can take (every agency at its cap) the
facility absorbs.

Billing owns the prices: the fees come from ``core.charges.quote_fee`` (the price list
in force on the delivery date), and each agency's share is recorded as a fee event
with its amount fixed (``fee_usd``), which billing posts as is. Procurement never
imports billing, and billing needs no knowledge of lots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select

from jof.core import charges
from jof.core.db import db
from jof.core.money import allocate
from jof.procurement.common import SERVICE_ITEMS
from jof.procurement.models import Lot, PurchaseOrder, RequisitionLine


@dataclass(frozen=True)
class Member:
    """One agency of a pooled lot: its order's value and the fee it would pay alone."""

    code: str
    weight: Decimal
    #: None when no standalone fee is known (then nothing caps its share).
    cap: Decimal | None


@dataclass(frozen=True)
class Share:
    code: str
    amount: Decimal
    capped: bool


def share_fee(fee: Decimal, members: Sequence[Member]) -> list[Share]:
    """Split ``fee`` over ``members`` by weight, to the cent, none above its cap.

    Rounds of largest remainder: split what is left among the agencies not yet capped;
    those whose share passes their cap pay the cap and leave the round; repeat until no
    share passes a cap. The shares sum to ``fee`` unless every agency ends at its cap
    (then to the sum of the caps: the facility absorbs the rest).
    """
    result: dict[str, Share] = {}
    left = fee
    open_ = sorted(members, key=lambda m: m.code)
    while open_:
        weights = [m.weight for m in open_]
        if sum(weights) <= 0:
            weights = [Fraction(1)] * len(open_)
        shares = allocate(left, weights, [m.code for m in open_])
        over = [(m, s) for m, s in zip(open_, shares, strict=True) if m.cap is not None and s > m.cap]
        if not over:
            result.update({m.code: Share(m.code, s, False) for m, s in zip(open_, shares, strict=True)})
            break
        for m, _s in over:
            result[m.code] = Share(m.code, m.cap, True)
            left -= m.cap
        capped = {m.code for m, _s in over}
        open_ = [m for m in open_ if m.code not in capped]
    return [result[m.code] for m in members]


@dataclass(frozen=True)
class PooledFee:
    """An order's share of its lot's one fee, with what it was worked out from."""

    amount: Decimal
    lot_fee: Decimal
    capped: bool
    agencies: int


def pooled_fee(po: PurchaseOrder, on: date) -> PooledFee | None:
    """The share of its lot's fee that ``po`` pays; None when the order is not part of a
    lot ordered by several agencies, or the price list prices no such fee (then the
    order's fee is priced by billing as for any order)."""
    if po.lot_id is None:
        return None
    lot = db.session.get(Lot, po.lot_id)
    orders = list(db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.lot_id == lot.id)
                                     .order_by(PurchaseOrder.id)))
    if len({o.agency_id for o in orders}) < 2:
        return None
    lot_fee = charges.quote_fee(po.service_item, 1, lot.award_total, on)
    if lot_fee is None:
        return None
    members = [Member(o.agency.code, o.total_usd, standalone_fee(o, on)) for o in orders]
    shares = {s.code: s for s in share_fee(lot_fee, members)}
    mine = shares[po.agency.code]
    return PooledFee(mine.amount, lot_fee, mine.capped, len(members))


def standalone_fee(po: PurchaseOrder, on: date) -> Decimal | None:
    """What the order's requisitions would have drawn bought alone: each requisition's
    own method's fee on its own lines of this order (None if any is not priced)."""
    by_req: dict[int, Decimal] = {}
    methods: dict[int, str | None] = {}
    ids = [pl.requisition_line_id for pl in po.lines if pl.requisition_line_id]
    lines = {rl.id: rl for rl in db.session.scalars(select(RequisitionLine).where(RequisitionLine.id.in_(ids)))}
    for pl in po.lines:
        rl = lines.get(pl.requisition_line_id)
        if rl is None:
            return None
        by_req[rl.requisition_id] = by_req.get(rl.requisition_id, Decimal("0.00")) + pl.amount_usd
        methods[rl.requisition_id] = rl.requisition.method
    total = Decimal("0.00")
    for req_id, value in sorted(by_req.items()):
        method = methods[req_id]
        fee = charges.quote_fee(SERVICE_ITEMS[method], 1, value, on) if method in SERVICE_ITEMS else None
        if fee is None:
            return None
        total += fee
    return total
