"""Applications imported from an advertisement platform's CSV export: line by line, all or
nothing, each imported application screened like an officer's."""

from __future__ import annotations

import io

from tests.conftest import csrf_from
from tests.hr.conftest import HR, REQUESTER

HEADER = "full_name,email,phone,education,years_experience,languages,gender,nationality,referee_name,referee_email\n"
GOOD = (HEADER
        + "Ana Souza,ana@mail.example,+55 61 1111,master,6,Portuguese;English,woman,br,,\n"
        + "Bruno Reis,bruno@mail.example,,Bachelor,3,Portuguese,,,Carla Dias,carla@mail.example\n")


def _import(hr, ref, text, email=HR):
    return hr.as_(email).post(f"/api/v1/hr/recruitments/{ref}/applications/import", json={"csv": text})


def test_a_good_export_is_imported_and_every_line_screened(hr):
    ref = hr.advertised()
    r = _import(hr, ref, GOOD)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["imported"] == 2
    apps = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert [a["candidate"]["full_name"] for a in apps] == ["Ana Souza", "Bruno Reis"]
    assert apps[0]["screened_in"] is True
    assert apps[1]["screened_in"] is False and "3 years of experience, 5 required" in apps[1]["reasons"]


def test_one_wrong_line_rejects_the_whole_file_naming_each_wrong_line(hr):
    ref = hr.advertised()
    text = (HEADER
            + "Ana Souza,ana@mail.example,,master,6,Portuguese;English,,,,\n"
            + "Bad Mail,not-an-address,,master,6,Portuguese,,,,\n"
            + "Ana Again,ana@mail.example,,master,6,Portuguese,,,,\n"
            + "No Degree,nd@mail.example,,kindergarten,x,Portuguese,robot,Brazil,,\n"
            + "Half Referee,hr@mail.example,,master,6,Portuguese,,,Only Name,\n")
    r = _import(hr, ref, text)
    assert r.status_code == 422
    body = r.get_json()
    assert "nothing was imported" in body["detail"]
    errors = body["errors"]
    assert set(errors) == {"line 3", "line 4", "line 5", "line 6"}
    assert any("email" in m for m in errors["line 3"])
    assert errors["line 4"] == ["email: Same e-mail as line 2."]
    wrong = " ".join(errors["line 5"])
    for field in ("education", "years_experience", "gender", "nationality"):
        assert field in wrong, field
    assert errors["line 6"] == ["referee_email: Give the referee's name and e-mail, or neither."]
    assert hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json() == []


def test_a_candidate_already_applied_and_a_header_without_the_columns_are_refused(hr):
    ref = hr.advertised()
    assert _import(hr, ref, GOOD).status_code == 200
    r = _import(hr, ref, GOOD)
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"line 2", "line 3"}
    r = _import(hr, ref, "name,mail\nAna,ana@mail.example\n")
    assert r.status_code == 422 and "needs the columns" in r.get_json()["errors"]["csv"][0]


def test_only_hr_officers_import_and_only_while_advertised(hr):
    ref = hr.advertised()
    assert _import(hr, ref, GOOD, email=REQUESTER).status_code == 403  # the hiring manager sees, does not record
    assert _import(hr, ref, GOOD, email="requester@unfpa.jof.example").status_code == 404
    ref2 = hr.file()["reference"]
    assert _import(hr, ref2, GOOD).status_code == 409


def test_the_import_page_lists_the_rejected_lines_and_keeps_the_file(web, hr):
    ref = hr.advertised()
    c = web(HR)
    page = f"/hr/recruitments/{ref}/import"
    token = csrf_from(c.get(page).get_data(as_text=True))
    bad = HEADER + "Bad Mail,not-an-address,,master,6,Portuguese,,,,\n"
    r = c.post(page, data={"csrf_token": token, "csv": "", "file": (io.BytesIO(bad.encode()), "export.csv")},
               content_type="multipart/form-data")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-testid="rejected"' in html and "Bad Mail" in html
    token = csrf_from(c.get(page).get_data(as_text=True))
    r = c.post(page, data={"csrf_token": token, "csv": GOOD})
    assert r.status_code == 302
    assert "Bruno Reis" in c.get(f"/hr/recruitments/{ref}").get_data(as_text=True)
