"""The public application page: anyone applies to an advertised vacancy without an account;
the form is CSRF-protected, once-only, rate limited and its document checked; the
application is screened like an officer's."""

from __future__ import annotations

import io
import re

from jof.core.db import db
from jof.hr.models import Application, ApplicationAttachment, Referee
from tests.conftest import csrf_from
from tests.hr.conftest import HR

ONCE_RE = re.compile(r'name="_once" value="([^"]+)"')


def _form(**over) -> dict:
    form = {"full_name": "Beatriz Lima", "email": "beatriz.lima@mail.example", "phone": "+55 61 5555 0101",
            "education": "master", "years_experience": "7", "languages": "Portuguese, English",
            "referee1_name": "Carla Dias", "referee1_email": "carla.dias@mail.example",
            "gender": "woman", "nationality": "br", "consent": "yes"}
    form.update(over)
    return {k: v for k, v in form.items() if v is not None}


def _tokens(c, ref: str) -> dict:
    html = c.get(f"/vacancies/{ref}").get_data(as_text=True)
    return {"csrf_token": csrf_from(html), "_once": ONCE_RE.search(html).group(1)}


def _apply(c, ref: str, form: dict, tokens: dict | None = None, **kw):
    return c.post(f"/vacancies/{ref}", data={**form, **(tokens or _tokens(c, ref))},
                  content_type="multipart/form-data", **kw)


def test_the_open_vacancies_page_lists_advertised_vacancies_only_without_login(app, client, hr):
    open_ref = hr.advertised(post_title="Finance Associate")
    draft_ref = hr.file(post_title="Driver")["reference"]
    page = client.get("/vacancies/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Finance Associate" in html and open_ref in html
    assert "Driver" not in html
    assert client.get(f"/vacancies/{draft_ref}").status_code == 404
    assert client.get(f"/vacancies/{open_ref}").status_code == 200


def test_an_applicant_applies_with_a_cv_and_the_application_is_screened_like_an_officers(app, client, hr):
    ref = hr.advertised()
    cv = (io.BytesIO(b"%PDF-1.4 my cv"), "../../Beatriz CV.pdf")
    r = _apply(client, ref, {**_form(years_experience="3"), "cv": cv})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    assert "Thank you" in client.get(r.headers["Location"]).get_data(as_text=True)
    apps = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert len(apps) == 1
    assert apps[0]["screened_in"] is False
    assert "3 years of experience, 5 required" in apps[0]["reasons"]
    with app.app_context():
        row = db.session.get(Application, apps[0]["id"])
        assert row.source == "public"
        assert row.candidate.nationality == "BR" and row.candidate.gender == "woman"
        doc = db.session.query(ApplicationAttachment).filter_by(application_id=row.id).one()
        assert doc.filename == "Beatriz CV.pdf" and doc.content_type == "application/pdf"
        assert [r.email for r in db.session.query(Referee).filter_by(application_id=row.id)] == [
            "carla.dias@mail.example"]


def test_a_post_without_the_csrf_token_is_refused(client, hr):
    ref = hr.advertised()
    tokens = _tokens(client, ref)
    del tokens["csrf_token"]
    r = _apply(client, ref, _form(), tokens)
    assert r.status_code == 400
    assert hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json() == []


def test_the_same_form_sent_twice_records_one_application(client, hr):
    ref = hr.advertised()
    tokens = _tokens(client, ref)
    assert _apply(client, ref, _form(), tokens).status_code == 302
    assert _apply(client, ref, _form(), tokens).status_code == 302
    assert len(hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()) == 1


def test_a_sixth_application_from_one_address_within_the_hour_is_429(client, hr):
    ref = hr.advertised()
    for i in range(5):
        r = _apply(client, ref, _form(email=f"person{i}@mail.example"))
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    r = _apply(client, ref, _form(email="person6@mail.example"))
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    # another address is not held back by this one
    r = _apply(client, ref, _form(email="person7@mail.example"), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 302
    assert len(hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()) == 6


def test_a_document_whose_content_is_not_its_type_is_refused_with_the_input_kept(client, hr):
    ref = hr.advertised()
    r = _apply(client, ref, {**_form(), "cv": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "cv.pdf")})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "not a .pdf file" in html and "Beatriz Lima" in html
    r = _apply(client, ref, {**_form(), "cv": (io.BytesIO(b"#!/bin/sh"), "cv.exe")})
    assert r.status_code == 422 and "Attach a PDF" in r.get_data(as_text=True)
    assert hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json() == []


def test_a_document_over_5_mb_is_refused(client, hr):
    ref = hr.advertised()
    big = b"%PDF-" + b"0" * (5 * 1024 * 1024)
    r = _apply(client, ref, {**_form(), "cv": (io.BytesIO(big), "cv.pdf")})
    assert r.status_code == 413
    assert hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json() == []


def test_an_application_without_consent_or_with_a_bad_referee_re_renders_with_messages(client, hr):
    ref = hr.advertised()
    r = _apply(client, ref, _form(consent=None, referee1_email="not-an-address"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Beatriz Lima" in html and 'id="referee1_email-error"' in html
    r = _apply(client, ref, _form(consent=None))
    assert r.status_code == 422 and "Agree to the privacy notice" in r.get_data(as_text=True)


def test_a_vacancy_no_longer_advertised_refuses_applications(client, hr):
    ref = hr.advertised()
    tokens = _tokens(client, ref)
    hr.apply(ref, {"full_name": "Rui Alves", "email": "rui@mail.example", "education": "master",
                   "years_experience": 6, "languages": ["Portuguese", "English"]})
    hr.must(HR, ref, "long_list")
    assert _apply(client, ref, _form(), tokens).status_code == 404


def test_the_pages_are_in_portuguese(client, hr):
    ref = hr.advertised()
    html = client.get("/vacancies/", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "Vagas abertas" in html
    html = client.get(f"/vacancies/{ref}", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "Enviar minha candidatura" in html
