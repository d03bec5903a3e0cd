"""The recruitments list sorts by each column both ways, keeps its status filter across
export and paging, exports the page's rows and says what to do when empty; an agency's
staff see (and export) their agency's recruitments only."""

from __future__ import annotations

import re

import pytest

from jof.core.templating import status_label
from jof.hr import views
from tests.hr.conftest import HR, closing_in
from tests.listcheck import check_exports_match_the_page, check_filter_kept, check_sorts, csv_rows

MANAGER = "manager@jof.example"
OTHER = "requester@unfpa.jof.example"


@pytest.fixture
def filed(hr):
    """Three UNDP recruitments (one advertised) and one of UNFPA."""
    refs = [hr.file(post_title="Finance Associate", level="G-6", duty_station="Brasília",
                    closing_date=closing_in(40))["reference"],
            hr.file(post_title="Admin Clerk", level="G-4", duty_station="Recife",
                    closing_date=closing_in(85))["reference"],
            hr.file(post_title="Programme Officer", level="P-3", duty_station="Manaus",
                    closing_date=closing_in(65))["reference"]]
    other = hr.file(OTHER, post_title="Data Analyst", level="P-2", duty_station="Belém",
                    closing_date=closing_in(115))["reference"]
    return refs, other


def _refs(html: str) -> list[str]:
    return re.findall(r'data-reference="([^"]+)"', html)


def test_the_recruitments_list_sorts_by_each_column_and_exports_its_rows(web, filed):
    c = web(MANAGER)
    statuses = {status_label(code): code for code in ("draft", "submitted", "approved", "certified")}
    check_sorts(c, "/hr/", views.RECRUITMENTS, ident="reference", shown=_refs, keys={"status": statuses.get})
    check_exports_match_the_page(c, "/hr/", ident="reference", shown=_refs)
    assert len(csv_rows(c, "/hr/")) == 4


def test_an_agency_exports_its_own_recruitments_only(web, filed):
    refs, other = filed
    rows = csv_rows(web("requester@undp.jof.example"), "/hr/")
    assert sorted(r["reference"] for r in rows) == sorted(refs) and other not in {r["reference"] for r in rows}
    assert [r["reference"] for r in csv_rows(web(OTHER), "/hr/")] == [other]


def test_the_status_filter_is_kept_and_an_emptied_list_says_so(web, filed, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 1)
    c = web(HR)
    status = csv_rows(c, "/hr/")[0]
    code = {status_label(s): s for s in ("draft", "submitted")}[status["status"]]
    check_filter_kept(c, f"/hr/?status={code}", f"status={code}")
    assert "No recruitment has this status" in c.get("/hr/?status=closed").get_data(as_text=True)


def test_an_empty_recruitments_list_tells_agency_staff_how_to_ask(web, demo):
    assert "ask for one with Request a recruitment" in web("requester@undp.jof.example").get("/hr/").get_data(
        as_text=True)
    assert "they appear here when an agency asks for one" in web(HR).get("/hr/").get_data(as_text=True)
