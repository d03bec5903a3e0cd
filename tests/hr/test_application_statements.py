"""A recruitment's applications cost the same number of SQL statements for 10 candidates
as for 100, on the API and on the recruitment's page (a list behind a URL argument, which
tests/test_statement_counts.py cannot reach from the URL map)."""

from __future__ import annotations

from tests.hr.conftest import HR, candidate
from tests.querycount import statements


def _scored(hr, n: int) -> str:
    """A short-listed recruitment with ``n`` applications, each scored."""
    ref, apps = hr.short_listed([candidate(f"Applicant {n} {i}") for i in range(n)])
    for a in apps:
        hr.score(ref, a["id"], "70", "75", "80")
    return ref


def test_a_recruitments_applications_cost_the_same_statements_for_10_and_100_candidates(app, hr, web):
    page = web(HR)
    api_counts, page_counts = [], []
    for n in (10, 100):
        ref = _scored(hr, n)
        with statements(app) as counted:
            r = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications")
        assert r.status_code == 200 and len(r.get_json()) == n
        assert all(len(a["scores"]) == 3 and a["screening"] for a in r.get_json())
        api_counts.append((counted.count, counted.statements))
        with statements(app) as counted:
            r = page.get(f"/hr/recruitments/{ref}")
        assert r.status_code == 200 and r.get_data(as_text=True).count(f"Applicant {n} ") >= n
        page_counts.append((counted.count, counted.statements))
    assert api_counts[0][0] == api_counts[1][0], (api_counts[0][0], api_counts[1][0], api_counts[1][1][-20:])
    assert page_counts[0][0] == page_counts[1][0], (page_counts[0][0], page_counts[1][0], page_counts[1][1][-20:])
