"""Dashboards per role: every agency for the manager (with drill-down), one's own agency
against the facility totals for agency users (another agency is a 404, on the page and
over the API); filters in the URL; charts with title, caption and data table; exports
that hold the page's numbers; a statement count that does not grow with the requests."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from jof.core.db import db
from jof.core.people import Agency, User, UserRole
from jof.core.workflow import ServiceRequest
from jof.monitoring.access import sees_every_agency
from jof.monitoring.models import RequestClock
from tests.querycount import statements

MANAGER = "manager@jof.example"
UNDP_REQUESTER = "requester@undp.jof.example"
NOV = "start=2026-11-01&end=2026-11-30"


def test_manager_sees_every_chart_with_caption_and_table(month, web):
    html = web(MANAGER).get(f"/monitoring/?{NOV}").get_data(as_text=True)
    for key in ("volumes", "times", "backlog", "agencies"):
        block = re.search(rf'<figure[^>]*data-chart="{key}".*?</figure>', html, re.S)
        assert block, key
        assert "<svg" in block.group(0) and 'role="img"' in block.group(0) and "<figcaption" in block.group(0)
        assert f'data-table="{key}"' in html
    # No inline style or script: the CSP forbids both.
    figures = "".join(re.findall(r"<figure.*?</figure>", html, re.S))
    assert "<script" not in figures and "<style" not in figures and " style=" not in figures
    assert 'data-table="agencies"' in html and ">UNFPA<" in html and ">UNDP<" in html


def test_manager_drills_down_to_one_agency(month, web):
    html = web(MANAGER).get(f"/monitoring/?{NOV}&agency=UNDP").get_data(as_text=True)
    agencies = re.search(r'data-table="agencies".*?</table>', html, re.S).group(0)
    assert "UNDP" in agencies and "UNFPA" not in agencies


def test_requester_sees_only_their_agency_against_facility_totals(month, web):
    c = web(UNDP_REQUESTER)
    html = c.get(f"/monitoring/?{NOV}").get_data(as_text=True)
    agencies = re.search(r'data-table="agencies".*?</table>', html, re.S).group(0)
    assert "UNDP" in agencies and "UNFPA" not in agencies and "UNOPS" not in agencies
    assert "(facility)" in html  # the facility totals beside its own figures
    assert month["unfpa"] not in html
    assert c.get(f"/monitoring/?{NOV}&agency=UNFPA").status_code == 404
    assert c.get(f"/monitoring/export/agencies.csv?{NOV}&agency=UNFPA").status_code == 404


def test_requester_gets_404_for_another_agency_over_the_api(month, api):
    requester = api(UNDP_REQUESTER)
    assert requester.get(f"/api/v1/monitoring/dashboard?{NOV}&agency=UNFPA").status_code == 404
    body = requester.get(f"/api/v1/monitoring/dashboard?{NOV}").get_json()
    assert body["agency"] == "UNDP"
    tables = {t["key"]: t for t in body["tables"]}
    assert [r["agency"] for r in tables["agencies"]["rows"]] == ["UNDP"]
    assert {r["reference"] for r in tables["breaches"]["rows"]} == {month["late"]}
    (times,) = tables["times"]["rows"]
    assert times["median_hours"] == "12.00" and times["facility_within_share"] == "75.0"


def test_bad_filters_answer_422(month, web, api):
    assert web(MANAGER).get("/monitoring/?start=yesterday").status_code == 422
    r = api(MANAGER).get("/api/v1/monitoring/dashboard?start=2026-12-01&end=2026-11-01")
    assert r.status_code == 422 and "end" in r.get_json()["errors"]
    assert api(MANAGER).get("/api/v1/monitoring/dashboard?line=teleport").status_code == 422


def test_resident_coordinator_reads_every_agency_by_role_name(app, demo):
    with app.app_context():
        rc = User(email="rc-test@jof.example", name="RC", password_hash="!")
        rc.role_rows.append(UserRole(role="resident_coordinator"))
        assert sees_every_agency(rc)
        requester = db.session.scalar(select(User).where(User.email == UNDP_REQUESTER))
        assert not sees_every_agency(requester)


def test_xlsx_holds_the_same_numbers_as_the_page(month, web, api):
    c = web(MANAGER)
    page = api(MANAGER).get(f"/api/v1/monitoring/dashboard?{NOV}").get_json()
    times = {t["key"]: t for t in page["tables"]}["times"]["rows"][0]
    html = c.get(f"/monitoring/?{NOV}").get_data(as_text=True)
    row = re.search(r'data-table="times".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    assert cells[2].strip() == times["median_hours"] == "11.00"
    assert cells[3].strip() == times["p90_hours"] == "54.00"
    r = c.get(f"/monitoring/export/times.xlsx?{NOV}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    header = [cell.value for cell in ws[4]]
    values = dict(zip(header, [cell.value for cell in ws[5]], strict=True))
    assert float(values["Median (working hours)"]) == 11.0
    assert float(values["90th percentile (working hours)"]) == 54.0
    assert float(values["Within target (%)"]) == 75.0 and values["Breaches"] == 1


def test_csv_export_keeps_text_from_becoming_a_formula(app, month, web):
    with app.app_context():
        sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == month["late"]))
        sr.reference = "=HYPERLINK(1)"
        db.session.commit()
    r = web(MANAGER).get(f"/monitoring/export/breaches.csv?{NOV}")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][0] == "reference" and rows[1][0] == "'=HYPERLINK(1)"


def _bulk(app, n: int) -> None:
    """``n`` completed requests with their clocks and ``n`` open ones, in bulk."""
    with app.app_context():
        agencies = db.session.scalars(select(Agency.id)).all()
        requester = db.session.scalar(select(User.id).where(User.email == UNDP_REQUESTER))
        start = datetime(2026, 11, 3, 12, tzinfo=UTC)
        base = db.session.scalar(select(db.func.count(ServiceRequest.id)))
        for i in range(n):
            agency = agencies[i % len(agencies)]
            for done in (True, False):
                sr = ServiceRequest(reference=f"TST-2026-{base + 2 * i + done + 50000}", request_type="test",
                                    agency_id=agency, requester_id=requester, title="Bulk",
                                    status="completed" if done else "submitted", created_at=start,
                                    submitted_at=start - timedelta(days=i % 90), status_changed_at=start,
                                    completed_at=start + timedelta(hours=i % 50) if done else None)
                db.session.add(sr)
                if done:
                    db.session.add(RequestClock(
                        request=sr, kind="procurement.rfq", line="procurement", agency_id=agency,
                        started_at=start, ended_at=start + timedelta(hours=1 + i % 50),
                        working_seconds=3600 * (i % 97), target_seconds=150 * 3600,
                        within_target=i % 97 <= 150, late_step=None))
        db.session.commit()
        db.session.remove()


def test_dashboard_costs_the_same_statements_for_10_and_1000_requests(app, demo, web):
    c = web(MANAGER)
    c.get(f"/monitoring/?{NOV}")  # warm the session's own lookups
    _bulk(app, 10)
    with statements(app) as small:
        assert c.get(f"/monitoring/?{NOV}").status_code == 200
    _bulk(app, 990)
    with statements(app) as large:
        assert c.get(f"/monitoring/?{NOV}").status_code == 200
    assert large.count == small.count, (small.count, large.count)
    assert small.count < 40, small.statements


def test_portuguese_reader_gets_the_dashboard_in_portuguese(app, month, web):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == UNDP_REQUESTER))
        user.locale = "pt_BR"
        db.session.commit()
    html = web(UNDP_REQUESTER).get(f"/monitoring/?{NOV}").get_data(as_text=True)
    assert "Parcela dentro da meta" in html and "Metas de nível de serviço em vigor" in html
    assert "dias úteis" in html
