"""HR's refusals read in Portuguese for a Portuguese reader: on the forms (a field
message), in the API (a conflict's detail) and on the public vacancy page."""

from __future__ import annotations

import html as htmllib

import pytest
from sqlalchemy import select

from jof.core import services as core_services
from jof.core.db import db
from jof.core.people import User
from tests.conftest import csrf_from
from tests.hr.conftest import HR, candidate
from tests.hr.test_public import ONCE_RE
from tests.hr.test_rosters import recommended


@pytest.fixture
def pt_hr(app, hr):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == HR))
        core_services.set_locale(user, "pt_BR", app.config["JOF_LANGUAGES"])
        db.session.commit()


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_a_duplicate_application_is_refused_in_portuguese_on_the_form(pt_hr, hr, web):
    ref = hr.advertised()
    hr.apply(ref, candidate("Ana Souza"))
    c = web(HR)
    page = f"/hr/recruitments/{ref}"
    r = c.post(f"{page}/applications", data={
        "full_name": "Ana Souza", "email": candidate("Ana Souza")["email"], "phone": "", "education": "master",
        "years_experience": "6", "languages": "Portuguese\nEnglish",
        "csrf_token": csrf_from(c.get(page).get_data(as_text=True))})
    assert r.status_code == 422
    assert "Este candidato já se candidatou a esta vaga." in _text(r)


def test_seating_an_unknown_person_on_the_panel_is_refused_in_portuguese(pt_hr, hr, web):
    ref = hr.advertised()
    c = web(HR)
    page = f"/hr/recruitments/{ref}/panel"
    r = c.post(page, data={"email": "nobody@nowhere.example", "csrf_token": csrf_from(c.get(page).get_data(as_text=True))})
    assert r.status_code == 422
    assert "Indique um usuário ativo da facility ou da agência solicitante." in _text(r)


def test_a_score_for_a_method_outside_the_plan_is_refused_in_portuguese(pt_hr, hr):
    ref, (ana,) = hr.short_listed([candidate("Ana Souza")])
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/{ana['id']}/scores",
                        json={"scores": [{"method": "Aptitude", "score": "50"}]})
    assert r.status_code == 422
    assert "Não é um método deste plano de avaliação" in str(r.get_json()["errors"])


def test_a_roster_answer_on_an_advertised_recruitment_is_refused_in_portuguese(pt_hr, hr):
    recommended(hr)
    ref = hr.advertised()
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/roster/1/consent", json={"agrees": True})
    assert r.status_code == 409
    assert r.get_json()["detail"] == "Este recrutamento não foi solicitado a partir do cadastro de reserva."


def test_the_public_page_asks_for_consent_in_portuguese(hr, client):
    ref = hr.advertised()
    headers = {"Accept-Language": "pt-BR"}
    html = client.get(f"/vacancies/{ref}", headers=headers).get_data(as_text=True)
    r = client.post(f"/vacancies/{ref}", headers=headers, data={
        **candidate("Clara Nunes"), "education": "master", "years_experience": "9", "languages": "Portuguese",
        "csrf_token": csrf_from(html), "_once": ONCE_RE.search(html).group(1)})
    assert r.status_code == 422
    assert "Aceite o aviso de privacidade para se candidatar." in _text(r)


def test_the_screening_reasons_on_the_recruitment_page_are_in_portuguese(pt_hr, hr, web):
    ref = hr.advertised()
    hr.apply(ref, {**candidate("Ana Souza", years=3), "languages": ["Portuguese"]})
    page = _text(web(HR).get(f"/hr/recruitments/{ref}"))
    html = page[page.index('data-testid="applications"'):]
    html = html[:html.index("</table>")]
    assert "3 anos de experiência, exigidos 5" in html
    assert "fala English: exigido, não fala" in html
    assert "experience" not in html and "required" not in html and "spoken" not in html
