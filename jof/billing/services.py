"""The charge ledger and the monthly period close (DESIGN §7).

Every chargeable event a service line records (``jof.core.charges.record``) is priced
here with the price list in force on its delivery date and becomes a charge of the
delivery month, or of the next open month when that one is closed already (with a note
saying so). Closing a month allocates its cost pools through governance, freezes it and
drafts one invoice per agency; closing it again changes nothing.

Governance's cost sharing (pools, preview, recorded allocation) is reached through its
public module ``jof.governance.cost_sharing`` and nowhere else in billing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from jof.billing import access, pricing
from jof.billing.models import BillingPeriod, Charge, Invoice, InvoiceLine, PriceItem, PriceList
from jof.billing.states import PERIOD, InvoiceStatus, PeriodStatus
from jof.core import audit, authz, charges
from jof.core.calendar import next_month
from jof.core.charges import ChargeableEvent
from jof.core.db import db
from jof.core.errors import Conflict, NotFound
from jof.core.formatting import money
from jof.core.money import CURRENCIES, quantize, rate_for
from jof.core.people import Agency, Facility
from jof.core.timeutil import utcnow

# Governance's cost sharing, through this one alias: pools_of, preview, record_allocation,
# recorded_shares.
from jof.governance import cost_sharing

#: Order of service lines on an invoice; shared costs come last.
LINE_ORDER = ("procurement", "travel", "ict")
SHARED = "shared_costs"

_WHY = "Only the facility manager closes periods and invoices."


# --- periods ----------------------------------------------------------------------------------


def _period_row(month: date, *, lock: str | None = None) -> BillingPeriod:
    """The month's row, created open if missing; ``lock`` is "update" or "share" (PostgreSQL)."""
    session = db.session
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(BillingPeriod).values(month=month, status=PeriodStatus.OPEN)
                    .on_conflict_do_nothing(index_elements=["month"]))
    stmt = select(BillingPeriod).where(BillingPeriod.month == month).execution_options(populate_existing=True)
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    return session.scalar(stmt)


def is_closed(month: date) -> bool:
    return db.session.scalar(select(BillingPeriod.status).where(BillingPeriod.month == month)) == PeriodStatus.CLOSED


def open_period_for(delivered_on: date) -> date:
    """The delivery month, or the first later month not closed yet."""
    month = delivered_on.replace(day=1)
    closed = set(db.session.scalars(select(BillingPeriod.month).where(
        BillingPeriod.month >= month, BillingPeriod.status == PeriodStatus.CLOSED)))
    while month in closed:
        month = next_month(month)
    return month


# --- the ledger -------------------------------------------------------------------------------


def post_event(event: ChargeableEvent, actor=None) -> Charge | None:
    """Price one event into a charge; None when the price list has no fee for its item.

    An unpriced fee stays an unposted event: the period close refuses to run while
    one is waiting, so nothing is ever billed at a made-up price.
    """
    existing = db.session.scalar(select(Charge).where(Charge.event_id == event.id))
    if existing is not None:
        return existing
    if event.kind == "fee" and event.fee_usd is not None:  # a share of a pooled fee, fixed by its line
        unit_price, amount, price_list_id = None, event.fee_usd, None
    elif event.kind == "fee":
        priced = pricing.price(event.service_item, event.quantity, event.value_usd, event.delivered_on)
        if priced is None:
            return None
        unit_price, amount, price_list_id = priced.unit_price, priced.amount, priced.price_list.id
    else:
        amount = quantize(event.value_usd)
        unit_price = (event.value_usd / event.quantity).quantize(Decimal("0.0001")) if event.quantity else None
        price_list_id = None
    month = open_period_for(event.delivered_on)
    # Waits for a close of that month running right now, then looks again.
    if _period_row(month, lock="share").status == PeriodStatus.CLOSED:
        month = open_period_for(event.delivered_on)
        _period_row(month, lock="share")
    note = ""
    if month != event.delivered_on.replace(day=1):
        note = (f"Delivered on {event.delivered_on:%Y-%m-%d}, in the closed period "
                f"{event.delivered_on:%Y-%m}; billed in {month:%Y-%m}.")
    charge = Charge(event_id=event.id, source_ref=event.source_ref, agency_id=event.agency_id,
                    period=month, service_line=event.service_line, item_code=event.service_item,
                    kind=event.kind, description=event.description, quantity=event.quantity,
                    unit_price=unit_price, amount=amount, delivered_on=event.delivered_on,
                    price_list_id=price_list_id, note=note, created_at=utcnow())
    db.session.add(charge)
    audit.record(actor, "charge.post", charge, after={"source_ref": charge.source_ref, "amount": amount,
                                                      "period": month, "note": note})
    return charge


def on_record(actor, event: ChargeableEvent) -> None:
    """Every event a line records is posted at once (``jof.billing.install`` listens)."""
    post_event(event, actor)


def frozen(month: date) -> str | None:
    """Governance asks before it writes a month's pools or allocation: a closed billing
    period is frozen. The row is read FOR SHARE, so it waits for a close running now.
    (``jof.billing.install`` registers it as a freeze guard of the board's effects.)"""
    status = db.session.scalar(select(BillingPeriod.status).where(BillingPeriod.month == month)
                               .with_for_update(read=True))
    return f"The billing period {month:%Y-%m} is closed." if status == PeriodStatus.CLOSED else None


def unposted_events(before: date):
    """Events delivered before ``before`` that have no charge yet."""
    return select(ChargeableEvent).outerjoin(Charge, Charge.event_id == ChargeableEvent.id).where(
        Charge.id.is_(None), ChargeableEvent.delivered_on < before).order_by(ChargeableEvent.id)


def post_pending(before: date, actor=None) -> list[ChargeableEvent]:
    """Post what can be posted; returns the events still unpriced."""
    unpriced = []
    for event in db.session.scalars(unposted_events(before)).all():
        if post_event(event, actor) is None:
            unpriced.append(event)
    return unpriced


def charges_query(actor, *, agency_code: str | None = None, period: date | None = None,
                  invoice_id: int | None = None):
    """Priced charges ``actor`` may see: an agency its own only (its ``agency_code`` filter
    is ignored), the facility any agency's."""
    stmt = select(Charge).order_by(Charge.period.desc(), Charge.id)
    if not authz.sees_all_agencies(actor):
        stmt = stmt.where(Charge.agency_id == actor.agency_id)
    elif agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.upper()))
        if agency is None:
            raise NotFound("No such agency.")
        stmt = stmt.where(Charge.agency_id == agency.id)
    if period is not None:
        stmt = stmt.where(Charge.period == period)
    if invoice_id is not None:
        stmt = stmt.where(Charge.invoice_id == invoice_id)
    return stmt


# --- period close ------------------------------------------------------------------------------


@dataclass
class AgencyDraft:
    agency: Agency
    lines: list[dict] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line["amount"] for line in self.lines), Decimal("0.00"))

    def part(self, kind: str) -> Decimal:
        return sum((line["amount"] for line in self.lines if line["kind"] == kind), Decimal("0.00"))


@dataclass
class CloseResult:
    period: date
    changed: bool
    message: str
    invoices: list[Invoice] = field(default_factory=list)


def _descriptions() -> dict[str, str]:
    rows = db.session.execute(select(PriceItem.code, PriceItem.description).join(PriceList)
                              .order_by(PriceList.version)).all()
    return {code: desc for code, desc in rows}  # the newest version's wording wins


def _line_key(line: dict):
    sl = line["service_line"]
    order = LINE_ORDER.index(sl) if sl in LINE_ORDER else (len(LINE_ORDER) + (1 if sl == SHARED else 0))
    return (order, sl, {"fee": 0, "pass_through": 1, "cost_share": 2}[line["kind"]], line["item_code"])


def _drafts(month: date, shares) -> dict[int, AgencyDraft]:
    """Invoice lines per agency: charges grouped by line, kind and item, then cost shares."""
    names = _descriptions()
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    drafts: dict[int, AgencyDraft] = {}
    rows = db.session.execute(
        select(Charge.agency_id, Charge.service_line, Charge.kind, Charge.item_code,
               func.sum(Charge.quantity), func.sum(Charge.amount), func.min(Charge.unit_price),
               func.max(Charge.unit_price), func.count(Charge.id))
        .where(Charge.period == month)
        .group_by(Charge.agency_id, Charge.service_line, Charge.kind, Charge.item_code)).all()
    for agency_id, line, kind, item, qty, amount, low, high, n in rows:
        draft = drafts.setdefault(agency_id, AgencyDraft(agencies[agency_id]))
        label = names.get(item, item.replace("_", " "))
        if kind == "pass_through":
            label = f"{label} (pass-through cost, {n} item{'s' if n != 1 else ''})"
        draft.lines.append({"kind": kind, "service_line": line, "item_code": item, "description": label,
                            "quantity": qty, "unit_price": low if low == high else None,
                            "amount": amount, "explanation": None})
    for share in shares:
        draft = drafts.setdefault(share.agency_id, AgencyDraft(agencies[share.agency_id]))
        pool = share.cost_pool
        draft.lines.append({
            "kind": "cost_share", "service_line": SHARED, "item_code": pool.category,
            "description": f"Share of the {pool.category.replace('_', ' ')} cost pool ({money(pool.amount, locale='en')})",
            "quantity": Decimal(1), "unit_price": share.amount, "amount": share.amount,
            "explanation": {**share.explanation, "pool": pool.category, "pool_amount": str(pool.amount),
                            "key_id": share.key_id}})
    for draft in drafts.values():
        draft.lines.sort(key=_line_key)
    return drafts


@dataclass
class Preview:
    period: date
    closed: bool
    drafts: list[AgencyDraft]
    unpriced: list[ChargeableEvent]
    #: Governance's cost pools of the month.
    pools: list
    problems: list[str]

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.drafts), Decimal("0.00"))


def preview(actor, month: date) -> Preview:
    """What closing the month would invoice, computed without writing anything (for the
    facility's people).

    Events not yet posted show as unpriced or are priced on the fly; pools are split by
    governance's preview with the key in force.
    """
    access.ensure_facility(actor)
    closed = is_closed(month)
    problems: list[str] = []
    end = next_month(month)
    extra: list[Charge] = []
    unpriced = []
    if not closed:
        for event in db.session.scalars(unposted_events(end)).all():
            if event.kind == "fee" and event.fee_usd is not None:
                amount, unit = event.fee_usd, None
            elif event.kind == "fee":
                priced = pricing.price(event.service_item, event.quantity, event.value_usd, event.delivered_on)
                if priced is None:
                    unpriced.append(event)
                    continue
                amount, unit = priced.amount, priced.unit_price
            else:
                amount, unit = quantize(event.value_usd), None
            if open_period_for(event.delivered_on) == month:
                extra.append(Charge(agency_id=event.agency_id, service_line=event.service_line,
                                    kind=event.kind, item_code=event.service_item, quantity=event.quantity,
                                    unit_price=unit, amount=amount))
    if closed:
        shares = cost_sharing.recorded_shares(month)
    else:
        shares = []
        pools = cost_sharing.pools_of(month)
        if pools:
            try:
                key, previews = cost_sharing.preview(month)
            except Conflict as exc:
                problems.append(exc.detail)
                previews = []
            codes = {a.code: a.id for a in db.session.scalars(select(Agency))}
            for pv in previews:
                for s in pv.shares:
                    shares.append(_PreviewShare(codes[s.code], pv.pool, s.amount, s.explanation, key.id))
    drafts = _drafts(month, shares)
    names = _descriptions()
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    for c in extra:
        d = drafts.setdefault(c.agency_id, AgencyDraft(agencies[c.agency_id]))
        d.lines.append({"kind": c.kind, "service_line": c.service_line, "item_code": c.item_code,
                        "description": names.get(c.item_code, c.item_code) + " (not yet posted)",
                        "quantity": c.quantity, "unit_price": c.unit_price, "amount": c.amount,
                        "explanation": None})
    if unpriced:
        problems.append(f"{len(unpriced)} delivered service(s) have no price in the list in force: "
                        + ", ".join(sorted({e.service_item for e in unpriced})))
    return Preview(month, closed, sorted(drafts.values(), key=lambda d: d.agency.code), unpriced,
                   cost_sharing.pools_of(month), problems)


@dataclass
class _PreviewShare:
    agency_id: int
    cost_pool: object  # governance's CostPool
    amount: Decimal
    explanation: dict
    key_id: int


def close_period(actor, month: date) -> CloseResult:
    """Close the month: monthly billers (ICT), post pending events, allocate pools, freeze,
    draft invoices."""
    access.ensure_manager(actor, _WHY)
    period = _period_row(month, lock="update")
    if period.status == PeriodStatus.CLOSED:
        return CloseResult(month, False, f"Period {month:%Y-%m} is already closed; nothing changed.",
                           list(db.session.scalars(select(Invoice).where(Invoice.period == month)
                                                   .order_by(Invoice.id))))
    notes = charges.run_monthly_billers(actor, month)
    end = next_month(month)
    unpriced = post_pending(end, actor)
    if unpriced:
        raise Conflict(f"{len(unpriced)} delivered service(s) have no price in the list in force ("
                       + ", ".join(sorted({e.service_item for e in unpriced}))
                       + "); the board must adopt a price for them before the period closes.")
    shares = cost_sharing.record_allocation(actor, month) if cost_sharing.pools_of(month) else []
    db.session.flush()
    facility = db.session.get(Facility, 1)
    currency = facility.local_currency if facility else "USD"
    rate = rate_for(currency, month)
    invoices = []
    for draft in sorted(_drafts(month, shares).values(), key=lambda d: d.agency.code):
        total = draft.total
        inv = Invoice(agency_id=draft.agency.id, period=month, status=InvoiceStatus.DRAFT, total_usd=total,
                      local_currency=currency, exchange_rate=rate, total_local=quantize(total * rate, CURRENCIES.get(currency, 2)),
                      created_at=utcnow())
        for n, line in enumerate(draft.lines, start=1):
            inv.lines.append(InvoiceLine(position=n, **line))
        db.session.add(inv)
        invoices.append(inv)
    db.session.flush()
    if invoices:
        # One pass over the month's charges links each to its agency's invoice: a statement
        # per agency would read the month once per agency.
        of_agency = {i.agency_id: i.id for i in invoices}
        db.session.execute(update(Charge).where(Charge.period == month, Charge.agency_id.in_(of_agency))
                           .values(invoice_id=case(of_agency, value=Charge.agency_id)),
                           execution_options={"synchronize_session": "evaluate"})
    total = sum((i.total_usd for i in invoices), Decimal("0.00"))
    PERIOD.move(period, "close")
    period.closed_at = utcnow()
    period.closed_by_id = actor.id
    period.summary = {"invoices": len(invoices), "total_usd": str(total), "notes": notes}
    audit.record(actor, "billing.close_period", period, after=period.summary | {"month": month})
    message = (f"Period {month:%Y-%m} closed: {len(invoices)} draft invoice(s), total {money(total, locale='en')}."
               + (" " + " ".join(notes) if notes else ""))
    return CloseResult(month, True, message, invoices)


def periods_query(actor):
    access.ensure_facility(actor)
    return select(BillingPeriod).order_by(BillingPeriod.month.desc())

