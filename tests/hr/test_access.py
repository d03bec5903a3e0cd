"""Who sees a recruitment and its candidates: another agency's users get 404 on both;
inside the agency only its head and the hiring manager see the candidates; among
facility staff, the HR officers and the manager (and the read-only auditor)."""

from __future__ import annotations

import pytest

from tests.hr.conftest import HEAD, HR, candidate


@pytest.fixture
def scored(hr):
    ref, (ana,) = hr.short_listed([candidate("Ana Souza")])
    hr.score(ref, ana["id"], "80", "80", "80")
    return ref, ana["id"]


def _paths(ref: str, app_id: int) -> list[str]:
    base = f"/api/v1/hr/recruitments/{ref}"
    return [f"{base}/applications", f"{base}/applications/{app_id}", f"{base}/ranking"]


@pytest.mark.parametrize("email", ["requester@unfpa.jof.example", "head@unfpa.jof.example"])
def test_another_agencys_users_get_404_on_the_recruitment_and_its_candidates(hr, scored, email):
    ref, app_id = scored
    client = hr.as_(email)
    assert client.get(f"/api/v1/hr/recruitments/{ref}").status_code == 404
    assert client.get(f"/api/v1/requests/{ref}").status_code == 404
    for path in _paths(ref, app_id):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/api/v1/hr/recruitments/{ref}/applications/{app_id}/screening",
                       json={"screened_in": False, "comment": "x"}).status_code == 404
    listed = client.get("/api/v1/hr/recruitments").get_json()
    assert listed["total"] == 0


@pytest.mark.parametrize("email", ["procurement@jof.example", "ict@jof.example"])
def test_facility_staff_of_other_lines_see_the_recruitment_but_not_its_candidates(hr, scored, email):
    ref, app_id = scored
    client = hr.as_(email)
    assert client.get(f"/api/v1/hr/recruitments/{ref}").status_code == 200
    for path in _paths(ref, app_id):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("email", [HR, "hr2@jof.example", "manager@jof.example", "auditor@jof.example",
                                   "head@undp.jof.example", "requester@undp.jof.example"])
def test_the_selection_people_see_the_candidates(hr, scored, email):
    # requester@undp filed the recruitment and is its hiring manager by default.
    ref, app_id = scored
    client = hr.as_(email)
    for path in _paths(ref, app_id):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()[0]["candidate"]["full_name"] \
        == "Ana Souza"


def test_agency_staff_who_are_not_the_hiring_manager_do_not_see_candidates(hr):
    ref = hr.advertised(hiring_manager=HEAD)
    hr.apply(ref, candidate("Ana Souza"))
    client = hr.as_("requester@undp.jof.example")  # filed it, but named the head as hiring manager
    assert client.get(f"/api/v1/hr/recruitments/{ref}").status_code == 200
    assert client.get(f"/api/v1/hr/recruitments/{ref}/applications").status_code == 404
    assert hr.as_(HEAD).get(f"/api/v1/hr/recruitments/{ref}/applications").status_code == 200
