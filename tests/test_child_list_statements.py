"""Lists behind a URL argument (a lot's bids, a ticket's comments), over the API and on
their pages, cost the same number of SQL statements for 10 rows as for 100. tests/test_statement_counts.py reads its lists from
the URL map and cannot fill these; here each parent gets 10 and then 100 rows, each by a
supplier or an author of its own, so a statement per row shows as a growing count."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from jof.core.db import db
from jof.core.people import Agency, Membership, Role, User, UserRole
from jof.core.timeutil import utcnow
from jof.ict.models import IctTicket, TicketComment
from jof.procurement.models import Bid, BidLine, Lot, PurchaseOrder, Supplier, Tender
from tests.procurement.conftest import Flow, requisition_body
from tests.querycount import statements

ICT = "ict@jof.example"
OFFICER = "procurement@jof.example"


def _same(app, fill, *reads) -> None:
    """``reads``: (client, path, check of the answer given n); each the same count at 10 and 100."""
    counts: dict[str, list] = {}
    for n in (10, 100):
        fill(n)
        for client, path, check in reads:
            with statements(app) as counted:
                r = client.get(path)
            assert r.status_code == 200 and check(r, n), (path, r.status_code)
            counts.setdefault(path, []).append((counted.count, counted.statements))
    for path, ((small, _), (large, texts)) in counts.items():
        assert small == large, (path, small, large, "\n".join(" ".join(t.split())[:150] for t in texts))


def _items(r, n) -> int:
    return len(r.get_json())


def test_a_lots_bids_cost_the_same_statements_for_10_and_100_suppliers(app, api, web):
    flow = Flow(api, app)
    tender = flow.tender([flow.approved("undp", requisition_body())])
    flow.publish(tender["id"])
    flow.close(tender["id"])
    lot = tender["lots"][0]
    made = [0]

    def fill(n):
        with app.app_context():
            officer = db.session.query(User).filter_by(email=OFFICER).one()
            lot_id = db.session.get(Tender, tender["id"]).lots[0].id
            for i in range(made[0], n):
                supplier = Supplier(name=f"Bidder {i}", country="BR", tax_id=f"BID{i:06d}", categories=["43"])
                bid = Bid(lot_id=lot_id, supplier=supplier, total_usd=Decimal("900.00") + i, recorded_by_id=officer.id,
                          technical_score=Decimal(80))
                bid.lines.append(BidLine(lot_line_id=lot["lines"][0]["id"], unit_price=Decimal("450.00"),
                                         amount_usd=Decimal("900.00") + i))
                db.session.add(bid)
            db.session.commit()
        made[0] = n

    _same(app, fill, (flow.officer, f"/api/v1/procurement/tenders/{tender['id']}/lots/1/bids", lambda r, n: _items(r, n) == n),
          (web(OFFICER), f"/procurement/tenders/{tender['id']}",  # the bids side by side and their evaluation
           lambda r, n: f"Bidder {n - 1}<" in r.get_data(as_text=True)))


def test_a_tickets_comments_cost_the_same_statements_for_10_and_100_authors(app, api, web):
    officer = api(ICT)
    r = api("requester@undp.jof.example").post("/api/v1/ict/tickets", json={
        "title": "Printer jam", "description": "Paper stuck.", "kind": "incident", "category": "hardware",
        "urgency": "low", "impact": "low"})
    assert r.status_code == 201, r.get_json()
    ref = r.get_json()["reference"]
    made = [0]
    with app.app_context():
        before = len(db.session.query(IctTicket).filter(IctTicket.request.has(reference=ref)).one().comments)

    def fill(n):
        with app.app_context():
            ticket = db.session.query(IctTicket).filter(IctTicket.request.has(reference=ref)).one()
            for i in range(made[0], n):
                author = User(email=f"author{i}@jof.example", name=f"Author {i}", password_hash="!")
                author.role_rows.append(UserRole(role=Role.OFFICER, service_line="ict"))
                db.session.add(TicketComment(ticket=ticket, author=author, body=f"Note {i}", at=utcnow()))
            db.session.commit()
        made[0] = n

    _same(app, fill, (officer, f"/api/v1/ict/tickets/{ref}/comments", lambda r, n: _items(r, n) == n + before),
          (web(ICT), f"/ict/tickets/{ref}", lambda r, n: f"Author {n - 1} ·" in r.get_data(as_text=True)))


def test_a_tenders_page_costs_the_same_statements_for_10_and_100_awarded_lots_each_with_an_order(app, api, web):
    flow = Flow(api, app)
    tender = flow.tender([flow.approved("undp", requisition_body())])
    flow.publish(tender["id"])
    flow.close(tender["id"])
    made = [0]

    def fill(n):
        with app.app_context():
            officer = db.session.query(User).filter_by(email=OFFICER).one()
            agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
            for i in range(made[0], n):
                supplier = Supplier(name=f"Lot supplier {i}", country="BR", tax_id=f"LOT{i:06d}", categories=["43"])
                agency = Agency(code=f"LOT{i:04d}", name=f"Lot agency {i}", country="BR",
                                membership=Membership.MEMBER, joined_on=agencies[0].joined_on)
                lot = Lot(tender_id=tender["id"], number=100 + i, description=f"Extra lot {i}", unspsc_class="432115",
                          estimate_usd=Decimal("1000.00"))
                bid = Bid(lot=lot, supplier=supplier, total_usd=Decimal("900.00"), recorded_by_id=officer.id,
                          technical_score=Decimal(80))
                db.session.add_all([supplier, agency, lot, bid])
                db.session.flush()
                lot.awarded_bid_id, lot.award_total, lot.status = bid.id, Decimal("900.00"), "awarded"
                db.session.add(PurchaseOrder(number=f"PO-LOT-{i:05d}", agency_id=agency.id, supplier_id=supplier.id,
                                             lot_id=lot.id, service_item="procurement_fee",
                                             total_usd=Decimal("900.00"), issued_by_id=officer.id))
            db.session.commit()
        made[0] = n

    _same(app, fill, (web(OFFICER), f"/procurement/tenders/{tender['id']}",
                      lambda r, n: f"PO-LOT-{n - 1:05d}" in r.get_data(as_text=True)))
