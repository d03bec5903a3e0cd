"""A recruitment's terms of reference: uploaded (PDF, DOCX, ODT, checked like a board
decision's attachments), replaced by a new version with the history kept, audited with
its hash, read by whoever sees the recruitment, and offered on the public vacancy page
only while the vacancy is advertised."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from jof.hr.models import TermsOfReference
from tests.browser.checks import axe_violations, describe, log_in, only_in_the_sqlite_pass, overflow
from tests.conftest import csrf_from
from tests.hr.conftest import HR, MANAGER, REQUESTER, Recruitments

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF2 = b"%PDF-1.7\n% second version\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OTHER_AGENCY = "requester@unfpa.jof.example"
ONCE_RE = re.compile(r'name="_once" value="([^"]+)"')


def _url(ref: str) -> str:
    return f"/api/v1/hr/recruitments/{ref}/terms"


def _upload(client, ref: str, name: str, data: bytes, note: str = ""):
    return client.post(_url(ref), data={"file": (io.BytesIO(data), name), "note": note},
                       content_type="multipart/form-data")


def test_the_requester_attaches_terms_and_a_new_version_replaces_them_with_the_history_kept(app, hr):
    ref = hr.file()["reference"]
    r = _upload(hr.as_(REQUESTER), ref, "ToR Finance Associate.pdf", PDF)
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["version"] == 1 and first["content_type"] == "application/pdf"
    assert first["sha256"] == hashlib.sha256(PDF).hexdigest() and first["size"] == len(PDF)
    hr.must(REQUESTER, ref, "submit")
    r = _upload(hr.as_(HR), ref, "ToR v2.pdf", PDF2, note="Languages corrected")
    assert r.status_code == 201, r.get_json()
    listed = hr.as_(REQUESTER).get(_url(ref)).get_json()
    assert [t["version"] for t in listed] == [2, 1]
    assert listed[0]["filename"] == "ToR v2.pdf" and listed[0]["note"] == "Languages corrected"
    current = hr.as_(REQUESTER).get(listed[0]["url"])
    assert current.status_code == 200 and current.data == PDF2
    assert current.headers["Content-Disposition"].startswith("attachment;")
    assert hr.as_(REQUESTER).get(listed[1]["url"]).data == PDF
    with app.app_context():
        events = list(db.session.scalars(select(audit.AuditEvent).where(
            audit.AuditEvent.action == "hr.terms.upload").order_by(audit.AuditEvent.seq)))
        assert [e.after["version"] for e in events] == [1, 2]
        assert events[1].after["sha256"] == hashlib.sha256(PDF2).hexdigest() and events[1].after["replaces"] == 1
        assert events[0].actor_email == REQUESTER and events[1].actor_email == HR
        # the audit holds the hash, never the name, the note or the contents
        assert "filename" not in events[1].after and "note" not in events[1].after
        assert "Languages" not in repr(events[1].after)


def test_the_requester_no_longer_changes_the_terms_once_approved_but_hr_does_until_the_end(hr):
    ref = hr.file()["reference"]
    hr.must(REQUESTER, ref, "submit")
    hr.must(MANAGER, ref, "approve")
    assert _upload(hr.as_(REQUESTER), ref, "tor.pdf", PDF).status_code == 403
    assert _upload(hr.as_(MANAGER), ref, "tor.pdf", PDF).status_code == 201
    hr.must(HR, ref, "advertise")
    assert _upload(hr.as_(HR), ref, "tor.pdf", PDF).status_code == 201
    hr.must(HR, ref, "fail", comment="Nobody applied.")
    r = _upload(hr.as_(HR), ref, "tor.pdf", PDF)
    assert r.status_code == 409 and "no longer change" in r.get_json()["detail"]
    assert [t["version"] for t in hr.as_(REQUESTER).get(_url(ref)).get_json()] == [2, 1]


def test_a_file_of_the_wrong_type_is_422_and_one_over_five_megabytes_413(hr):
    ref = hr.file()["reference"]
    r = _upload(hr.as_(REQUESTER), ref, "tor.png", PNG)
    assert r.status_code == 422 and "PDF, DOCX or ODT" in str(r.get_json())
    r = _upload(hr.as_(REQUESTER), ref, "tor.pdf", PNG)
    assert r.status_code == 422 and "not a .pdf file" in str(r.get_json())
    r = _upload(hr.as_(REQUESTER), ref, "tor.pdf", PDF + b"x" * (5 * 1024 * 1024))
    assert r.status_code == 413
    assert hr.as_(REQUESTER).get(_url(ref)).get_json() == []


def test_another_agency_gets_404_for_the_terms_and_their_download(hr):
    ref = hr.file()["reference"]
    url = _upload(hr.as_(REQUESTER), ref, "tor.pdf", PDF).get_json()["url"]
    other = hr.as_(OTHER_AGENCY)
    assert other.get(_url(ref)).status_code == 404
    assert other.get(url).status_code == 404
    assert _upload(other, ref, "tor.pdf", PDF).status_code == 404


def test_the_public_vacancy_page_offers_the_current_terms_only_while_advertised(client, hr):
    ref = hr.file()["reference"]
    _upload(hr.as_(REQUESTER), ref, "tor.pdf", PDF)
    assert client.get(f"/vacancies/{ref}/terms").status_code == 404  # a draft is not public
    hr.must(REQUESTER, ref, "submit")
    hr.must(MANAGER, ref, "approve")
    hr.must(HR, ref, "advertise")
    _upload(hr.as_(HR), ref, "tor-final.pdf", PDF2)
    page = client.get(f"/vacancies/{ref}").get_data(as_text=True)
    assert f"/vacancies/{ref}/terms" in page and "tor-final.pdf" in page
    r = client.get(f"/vacancies/{ref}/terms")
    assert r.status_code == 200 and r.data == PDF2
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    hr.must(HR, ref, "fail", comment="Nobody applied.")
    assert client.get(f"/vacancies/{ref}/terms").status_code == 404


def test_the_recruitment_page_uploads_keeps_the_note_on_a_refusal_and_lists_versions(app, web, hr):
    ref = hr.file()["reference"]
    c = web(REQUESTER)
    page = c.get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert 'id="terms"' in page and 'enctype="multipart/form-data"' in page
    tokens = {"csrf_token": csrf_from(page), "_once": ONCE_RE.search(page.partition('id="terms"')[2]).group(1)}
    r = c.post(f"/hr/recruitments/{ref}/terms", content_type="multipart/form-data",
               data={"file": (io.BytesIO(PNG), "tor.png"), "note": "First draft of the post", **tokens})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "PDF, DOCX or ODT" in html
    assert 'value="First draft of the post"' in html
    page = c.get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    tokens = {"csrf_token": csrf_from(page), "_once": ONCE_RE.search(page.partition('id="terms"')[2]).group(1)}
    r = c.post(f"/hr/recruitments/{ref}/terms", content_type="multipart/form-data",
               data={"file": (io.BytesIO(PDF), "ToR.pdf"), "note": "First draft of the post", **tokens})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "ToR.pdf</a>" in page and "version 1" in page
    link = page.split("ToR.pdf</a>")[0].rsplit('href="', 1)[1].split('"')[0]
    assert c.get(link).data == PDF
    with app.app_context():
        assert db.session.scalar(select(TermsOfReference.note)) == "First draft of the post"


def test_the_terms_section_is_in_portuguese(app, web, hr):
    from jof.core import services as core_services
    from jof.core.people import User

    ref = hr.file()["reference"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == REQUESTER))
        core_services.set_locale(user, "pt_BR", app.config["JOF_LANGUAGES"])
        db.session.commit()
    page = web(REQUESTER).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Termos de referência" in page and "Anexar os termos de referência" in page
    assert "Nenhum termo de referência anexado ainda." in page


@pytest.mark.browser
@only_in_the_sqlite_pass
def test_the_terms_section_and_a_refused_upload_fit_a_phone_and_pass_axe(app, api, live_server, page, tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    hr = Recruitments(api)
    ref = hr.file()["reference"]
    _upload(hr.as_(REQUESTER), ref, "ToR Finance Associate.pdf", PDF)
    wrong = tmp_path / "tor.png"
    wrong.write_bytes(PNG)
    axe = Axe()
    log_in(page, live_server, REQUESTER)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/hr/recruitments/{ref}")
    problems = [f"page: {p}" for p in [overflow(page)] if p]
    problems += [f"page: {describe(v)}" for v in axe_violations(page, axe)]
    page.set_input_files("#terms_file", str(wrong))
    page.fill("#terms_note", "Languages corrected")
    page.get_by_role("button", name="Replace the terms of reference").click()
    page.wait_for_selector("#terms_file.is-invalid")
    assert page.input_value("#terms_note") == "Languages corrected"
    problems += [f"refused: {p}" for p in [overflow(page)] if p]
    problems += [f"refused: {describe(v)}" for v in axe_violations(page, axe)]
    assert not problems, "\n".join(problems)
