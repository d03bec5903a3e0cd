"""The recommendation report: made when recommending, it freezes the ranked table, so its
PDF holds the ranked table and stays the same after a later change to a candidate."""

from __future__ import annotations

import io

from pypdf import PdfReader

from jof.core.db import db
from jof.hr.models import Application, Score
from tests.hr.conftest import HR, candidate

OUTSIDER = "requester@unfpa.jof.example"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _recommended(hr):
    ref, apps = hr.short_listed([candidate("Ana Souza"), candidate("Bruno Reis"), candidate("Clara Nunes")])
    hr.score(ref, apps[0]["id"], "80", "70", "60")   # 69.00: below the pass mark
    hr.score(ref, apps[1]["id"], "90", "85", "88")   # 87.70
    hr.score(ref, apps[2]["id"], "70", "75", "80")   # 75.50
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    return ref, apps


def test_recommending_makes_a_report_whose_pdf_holds_the_ranked_table(hr, web):
    ref, apps = _recommended(hr)
    report = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/recommendation")
    assert report.status_code == 200, report.get_json()
    rows = report.get_json()["snapshot"]["rows"]
    assert [(r["rank"], r["name"], r["total"], r["passed"]) for r in rows] == [
        (1, "Bruno Reis", "87.70", True), (2, "Clara Nunes", "75.50", True), (3, "Ana Souza", "69.00", False)]
    pdf = web(HR).get(report.get_json()["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    assert ref in text and "Finance Associate" in text
    lines = [line for line in text.splitlines() if any(n in line for n in ("Ana Souza", "Bruno Reis", "Clara Nunes"))]
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]
    assert "Bruno Reis" in lines[0] and "87.70" in lines[0] and "90.00 → 27.00" in lines[0]
    assert "Ana Souza" in lines[2] and "below" in lines[2]


def test_the_report_stays_the_same_after_a_later_change_to_a_candidate(app, hr, web):
    ref, apps = _recommended(hr)
    c = web(HR)
    before = _pdf_text(c.get(f"/hr/recruitments/{ref}/recommendation.pdf").data)
    with app.app_context():
        bruno = db.session.get(Application, apps[1]["id"])
        bruno.candidate.full_name = "Bruno Reis Corrected"
        for s in bruno.scores:
            s.score = s.score - 50
        db.session.commit()
        assert db.session.query(Score).count() == 9
    # the live ranking moved, the report did not
    live = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/ranking").get_json()
    assert live["rows"][0]["application_id"] != apps[1]["id"]
    after = _pdf_text(c.get(f"/hr/recruitments/{ref}/recommendation.pdf").data)
    assert after == before
    assert "Corrected" not in after


def test_the_report_is_for_those_who_see_candidates_only(hr, web):
    ref, _apps = _recommended(hr)
    assert hr.as_(OUTSIDER).get(f"/api/v1/hr/recruitments/{ref}/recommendation").status_code == 404
    assert hr.as_("requester@undp.jof.example").get(f"/api/v1/hr/recruitments/{ref}/recommendation").status_code == 200
    assert web(OUTSIDER).get(f"/hr/recruitments/{ref}/recommendation.pdf").status_code == 404


def test_no_report_before_recommending(hr):
    ref, _apps = hr.short_listed([candidate("Ana Souza")])
    assert hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/recommendation").status_code == 404
