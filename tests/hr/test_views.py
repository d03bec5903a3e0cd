"""The HR pages: filing a recruitment from the form (and a refused form keeps the
input), recording and overriding applications, scores and the ranked list on the page,
and the page in Portuguese."""

from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.hr.conftest import HR, REQUESTER, candidate, closing_in

FORM = {
    "post_title": "Programme Associate", "job_family": "Programme", "level": "G-6",
    "contract_type": "fixed_term", "duty_station": "Brasília", "closing_date": closing_in(55),
    "estimated_cost_usd": "9000.00", "min_education": "bachelor", "min_years_experience": "5",
    "required_languages": "Portuguese, English", "desirable_languages": "",
    "methods": "Desk review 30\nWritten test 30\nInterview 40", "pass_mark": "70", "hiring_manager": "",
}


def _post(c, path: str, data: dict, page: str):
    return c.post(path, data={**data, "csrf_token": csrf_from(c.get(page).get_data(as_text=True))})


def test_a_requester_files_a_recruitment_from_the_form(web):
    c = web(REQUESTER)
    r = _post(c, "/hr/recruitments/new", FORM, "/hr/recruitments/new")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    ref = re.search(r"/hr/recruitments/(HRR-\d{4}-\d{5})", r.headers["Location"]).group(1)
    page = c.get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Programme Associate" in page and "Desk review 30" in page
    assert ref in c.get("/hr/").get_data(as_text=True)


def test_weights_not_summing_to_100_re_render_the_form_with_the_input_kept(web):
    c = web(REQUESTER)
    r = _post(c, "/hr/recruitments/new", {**FORM, "methods": "Desk review 50\nInterview 40"},
              "/hr/recruitments/new")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "they sum to 90" in page and "Programme Associate" in page and "Interview 40" in page


def test_an_officer_records_applications_and_scores_on_the_page(web, hr):
    ref = hr.advertised()
    c = web(HR)
    page = f"/hr/recruitments/{ref}"
    person = candidate("Ana Souza", years=3)
    form = {**person, "languages": ", ".join(person["languages"]), "years_experience": "3"}
    r = _post(c, f"{page}/applications", form, page)
    assert r.status_code == 302
    html = c.get(page).get_data(as_text=True)
    assert "Ana Souza" in html and "3 years of experience, 5 required" in html
    app_id = int(re.search(r'data-application="(\d+)"', html).group(1))
    r = _post(c, f"{page}/applications/{app_id}/screening", {"screened_in": "yes", "comment": ""}, page)
    assert r.status_code == 422  # a reason is required
    r = _post(c, f"{page}/applications/{app_id}/screening",
              {"screened_in": "yes", "comment": "Relevant volunteer work."}, page)
    assert r.status_code == 302
    hr.must(HR, ref, "long_list")
    hr.must(HR, ref, "short_list")
    html = c.get(page).get_data(as_text=True)
    fields = re.findall(r'name="(score-\d+)"', html)
    assert len(fields) == 3
    r = _post(c, f"{page}/applications/{app_id}/scores", dict(zip(fields, ["80", "70", "90"], strict=True)), page)
    assert r.status_code == 302
    html = c.get(page).get_data(as_text=True)
    assert 'data-testid="ranking"' in html and ">81.00<" in html


def test_agency_staff_who_are_not_selection_people_see_no_candidates_on_the_page(web, hr):
    ref = hr.advertised(hiring_manager="head@undp.jof.example")
    hr.apply(ref, candidate("Ana Souza"))
    html = web(REQUESTER).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Ana Souza" not in html
    assert web("requester@unfpa.jof.example").get(f"/hr/recruitments/{ref}").status_code == 404


def test_the_recruitment_page_speaks_portuguese(app, web, hr):
    from sqlalchemy import select

    from jof.core import services as core_services
    from jof.core.db import db
    from jof.core.people import User

    ref = hr.advertised()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == HR))
        core_services.set_locale(user, "pt_BR", app.config["JOF_LANGUAGES"])
        db.session.commit()
    html = web(HR).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Divulgada" in html and "Registrar uma candidatura" in html and "Família ocupacional" in html
