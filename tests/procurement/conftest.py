"""Helpers of the procurement tests: laptops for three agencies, suppliers, time passing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from jof.core.db import db
from jof.core.timeutil import utcnow

LAPTOP = "43211503"  # UNSPSC: notebook computers (class 432115)
OFFICER = "procurement@jof.example"
MANAGER = "manager@jof.example"

#: (agency, quantity, estimated unit price, currency): UNDP is above its USD 10,000 limit.
LAPTOP_NEEDS = [("undp", "10", "1250.00", "USD"), ("unfpa", "4", "1300.00", "USD"),
                ("unwomen", "3", "6500.00", "BRL")]


def requisition_body(qty="10", price="1250.00", currency="USD", unspsc=LAPTOP, title="Laptops"):
    return {"title": title, "justification": "Replacement of end-of-life laptops.",
            "needed_by": "2030-01-31", "budget_code": "BRA-OPS-01",
            "lines": [{"description": "Laptop 14in, 16 GB RAM", "unspsc": unspsc, "quantity": qty,
                       "unit": "each", "unit_price": price, "currency": currency}]}


class Flow:
    """Drives the API as the demo users do."""

    def __init__(self, api, app):
        self.api = api
        self.app = app
        self.officer = api(OFFICER)
        self.manager = api(MANAGER)

    def transition(self, client, ref, action, comment=""):
        version = client.get(f"/api/v1/requests/{ref}").get_json()["version"]
        r = client.post(f"/api/v1/requests/{ref}/transitions",
                        json={"action": action, "comment": comment, "version": version})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def file(self, code, body) -> str:
        r = self.api(f"requester@{code}.jof.example").post("/api/v1/procurement/requisitions", json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()["reference"]

    def approved(self, code, body) -> str:
        ref = self.file(code, body)
        requester = self.api(f"requester@{code}.jof.example")
        self.transition(requester, ref, "submit")
        req = requester.get(f"/api/v1/procurement/requisitions/{ref}").get_json()
        if req["status"] == "submitted" and self.manager.get(f"/api/v1/requests/{ref}").get_json()["needs_certification"]:
            self.transition(self.api(f"head@{code}.jof.example"), ref, "certify")
        self.transition(self.manager, ref, "approve")
        return ref

    def supplier(self, name, tax_id, status="active"):
        r = self.officer.post("/api/v1/procurement/suppliers",
                              json={"name": name, "country": "BR", "tax_id": tax_id, "categories": ["4321"]})
        assert r.status_code == 201, r.get_json()
        sid = r.get_json()["id"]
        if status != "active":
            r = self.officer.post(f"/api/v1/procurement/suppliers/{sid}/status",
                                  json={"status": status, "reason": "Late deliveries under review"})
            assert r.status_code == 200, r.get_json()
        return sid

    def tender(self, refs, method="cumulative"):
        r = self.officer.post("/api/v1/procurement/tenders",
                              json={"title": "Joint laptop tender", "evaluation_method": method, "requisitions": refs})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def publish(self, tender_id, days=30):
        closing = (utcnow() + timedelta(days=days)).isoformat()
        r = self.officer.post(f"/api/v1/procurement/tenders/{tender_id}/publish", json={"closing_at": closing})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def bid(self, tender_id, supplier_id, unit_price, score, lot=1):
        t = self.officer.get(f"/api/v1/procurement/tenders/{tender_id}").get_json()
        lines = [{"lot_line_id": ln["id"], "unit_price": unit_price} for ln in t["lots"][lot - 1]["lines"]]
        return self.officer.post(f"/api/v1/procurement/tenders/{tender_id}/lots/{lot}/bids",
                                 json={"supplier_id": supplier_id, "technical_score": score, "lines": lines})

    def close(self, tender_id):
        """Let the closing time pass."""
        from jof.procurement.models import Tender

        with self.app.app_context():
            t = db.session.get(Tender, tender_id)
            t.closing_at = utcnow() - timedelta(minutes=1)
            db.session.commit()


@pytest.fixture
def flow(api, app):
    return Flow(api, app)


def row_counts(app) -> dict[str, int]:
    """Rows per table, to prove a refusal wrote nothing."""
    from sqlalchemy import inspect

    with app.app_context():
        present = set(inspect(db.engine).get_table_names())
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t))
                  for t in db.metadata.sorted_tables if t.name in present}
        counts["_counters"] = db.session.scalar(text("SELECT COALESCE(SUM(value), 0) FROM counter"))
        db.session.remove()
        return counts
