"""Service-level agreements: the manager records them (API and form), audited and
validated; the agreement in force sets the targets the clocks are judged against."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.people import Agency
from jof.monitoring.models import RequestClock, ServiceLevelAgreement
from jof.monitoring.targets import targets_for
from tests.conftest import csrf_from
from tests.monitoring.conftest import at, done

MANAGER = "manager@jof.example"
UNDP_REQUESTER = "requester@undp.jof.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _undp(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Agency.id).where(Agency.code == "UNDP"))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_manager_records_an_agency_agreement_over_the_api_and_it_is_audited(app, api):
    undp = _undp(app)
    r = api(MANAGER).post("/api/v1/monitoring/slas", json={
        "agency_id": undp, "valid_from": "2026-01-01", "reference": "SLA/UNDP/2026",
        "targets": {"procurement.rfq": 10, "travel.ticket": 8}})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["agency"] == "UNDP" and body["targets"] == {"procurement.rfq": 10, "travel.ticket": 8}
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "monitoring.sla_recorded"))
        assert event is not None and event.after["targets"] == {"procurement.rfq": 10, "travel.ticket": 8}
        targets, sla = targets_for(undp, date(2026, 6, 1))
        assert sla.reference == "SLA/UNDP/2026"
        # Its own targets where it sets them; the facility default (DESIGN §8) elsewhere.
        assert targets["procurement.rfq"] == 10 and targets["procurement.itb"] == 45
        assert targets["ict.P1"] == 4


def test_an_agency_without_an_agreement_takes_the_facility_default(app, api):
    r = api(MANAGER).post("/api/v1/monitoring/slas", json={
        "valid_from": "2026-01-01", "targets": {"procurement.micro_purchase": 4}})
    assert r.status_code == 201, r.get_json()
    undp = _undp(app)
    with app.app_context():
        targets, sla = targets_for(undp, date(2026, 3, 1))
        assert sla.agency_id is None and targets["procurement.micro_purchase"] == 4
        before, none = targets_for(undp, date(2025, 12, 31))
        assert none is None and before["procurement.micro_purchase"] == 5


def test_bad_agreements_answer_422_per_field_and_write_nothing(app, api):
    manager = api(MANAGER)
    undp = _undp(app)
    cases = [
        ({"agency_id": undp, "valid_from": "2026-01-01", "targets": {"procurement.teleport": 3}}, "targets"),
        ({"agency_id": undp, "valid_from": "2026-01-01", "targets": {"procurement.rfq": 0}}, "targets"),
        ({"agency_id": undp, "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "valid_to"),
        ({"agency_id": 999999, "valid_from": "2026-01-01"}, "agency_id"),
        ({"valid_from": "not a day"}, "valid_from"),
    ]
    for body, field in cases:
        r = manager.post("/api/v1/monitoring/slas", json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert any(k.split(".")[0] == field for k in r.get_json()["errors"]), (body, r.get_json())
    assert _count(app, ServiceLevelAgreement) == 0


def test_two_agreements_of_one_agency_may_not_overlap(app, api):
    manager = api(MANAGER)
    undp = _undp(app)
    assert manager.post("/api/v1/monitoring/slas", json={
        "agency_id": undp, "valid_from": "2026-01-01", "valid_to": "2026-06-30"}).status_code == 201
    r = manager.post("/api/v1/monitoring/slas", json={"agency_id": undp, "valid_from": "2026-06-01"})
    assert r.status_code == 422 and "valid_from" in r.get_json()["errors"]
    assert manager.post("/api/v1/monitoring/slas", json={"agency_id": undp, "valid_from": "2026-07-01"}
                        ).status_code == 201


def test_only_the_manager_records_agreements(app, api):
    for email in (UNDP_REQUESTER, "auditor@jof.example", "head@undp.jof.example"):
        r = api(email).post("/api/v1/monitoring/slas", json={"valid_from": "2026-01-01"})
        assert r.status_code == 403, email
    assert _count(app, ServiceLevelAgreement) == 0


def test_an_agency_user_reads_its_own_agreement_and_not_another_agencys(app, api):
    manager = api(MANAGER)
    with app.app_context():
        unfpa = db.session.scalar(select(Agency.id).where(Agency.code == "UNFPA"))
    own = manager.post("/api/v1/monitoring/slas", json={"agency_id": _undp(app), "valid_from": "2026-01-01"})
    other = manager.post("/api/v1/monitoring/slas", json={"agency_id": unfpa, "valid_from": "2026-01-01"})
    requester = api(UNDP_REQUESTER)
    assert requester.get(f"/api/v1/monitoring/slas/{own.get_json()['id']}").status_code == 200
    assert requester.get(f"/api/v1/monitoring/slas/{other.get_json()['id']}").status_code == 404
    listed = {s["agency"] for s in requester.get("/api/v1/monitoring/slas").get_json()}
    assert listed == {"UNDP"}


def test_signed_document_must_be_a_pdf_and_is_served_back(app, api):
    manager = api(MANAGER)
    sla_id = manager.post("/api/v1/monitoring/slas", json={"agency_id": _undp(app), "valid_from": "2026-01-01"}
                          ).get_json()["id"]
    bad = manager.post(f"/api/v1/monitoring/slas/{sla_id}/document",
                       data={"file": (io.BytesIO(b"MZ not a pdf"), "agreement.pdf")},
                       content_type="multipart/form-data")
    assert bad.status_code == 422 and "document" in bad.get_json()["errors"]
    ok = manager.post(f"/api/v1/monitoring/slas/{sla_id}/document",
                      data={"file": (io.BytesIO(PDF), "signed agreement.pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 200, ok.get_json()
    got = api(UNDP_REQUESTER).get(f"/api/v1/monitoring/slas/{sla_id}/document")
    assert got.status_code == 200 and got.data == PDF


def test_form_keeps_the_input_on_a_bad_target_and_records_a_good_one(app, web):
    c = web(MANAGER)
    token = csrf_from(c.get("/monitoring/slas/new").get_data(as_text=True))
    r = c.post("/monitoring/slas/new", data={"csrf_token": token, "valid_from": "2026-01-01",
                                             "reference": "SLA-KEEP-ME", "target_procurement.rfq": "abc"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "SLA-KEEP-ME" in html and 'aria-invalid="true"' in html
    assert _count(app, ServiceLevelAgreement) == 0
    r = c.post("/monitoring/slas/new", data={
        "csrf_token": token, "agency_id": str(_undp(app)), "valid_from": "2026-01-01", "reference": "SLA-OK",
        "target_procurement.rfq": "12", "document": (io.BytesIO(PDF), "signed.pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with app.app_context():
        sla = db.session.scalar(select(ServiceLevelAgreement))
        assert sla.reference == "SLA-OK" and [(t.kind, t.amount) for t in sla.targets] == [("procurement.rfq", 12)]
        assert sla.document_size == len(PDF)


def test_the_agency_agreement_in_force_judges_its_clocks(app, demo, test_clock, api):
    undp = _undp(app)
    api(MANAGER).post("/api/v1/monitoring/slas", json={
        "agency_id": undp, "valid_from": "2026-11-01", "targets": {"procurement.micro_purchase": 1}})
    with app.app_context():
        # 12 working hours (over the holiday and the week-end) against one working day (10 h).
        clock = done("UNDP", at(11, 19, 10), at(11, 23, 12))
        row = db.session.scalar(select(RequestClock).where(RequestClock.request_id == clock.id))
        assert row.target_seconds == 10 * 3600 and row.within_target is False and row.late_step == "complete"
        db.session.commit()
