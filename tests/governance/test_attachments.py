"""Documents attached to a draft decision, stored in the database and downloadable by all."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.governance.attachments import safe_filename
from jof.governance.models import DecisionAttachment
from tests.conftest import csrf_from
from tests.governance.conftest import MANAGER, head_email

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    return out.getvalue()


def _url(decision_id: int) -> str:
    return f"/api/v1/governance/decisions/{decision_id}/attachments"


def _upload(client, decision_id: int, name: str, data: bytes):
    return client.post(_url(decision_id), data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_proposer_attaches_a_pdf_that_any_signed_in_user_downloads(board, api):
    decision = board.draft()
    r = _upload(api(MANAGER), decision.id, "Budget 2027.pdf", PDF)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["filename"] == "Budget 2027.pdf" and body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF) and body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["uploaded_by"] == MANAGER

    reader = api("requester@unaids.jof.example")  # a partner's requester: governance is transparent
    listed = reader.get(_url(decision.id)).get_json()
    assert [a["filename"] for a in listed] == ["Budget 2027.pdf"]
    assert reader.get(f"/api/v1/governance/decisions/{decision.id}").get_json()["attachments"][0]["id"] == body["id"]
    r = reader.get(body["url"])
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="Budget 2027.pdf"' in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.attachment_add"))
    assert event.object_id == str(decision.id) and event.after["filename"] == "Budget 2027.pdf"
    assert event.after["size"] == len(PDF)


@pytest.mark.parametrize("name, data, mimetype", [
    ("chart.png", PNG, "image/png"),
    ("photo.JPEG", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
    ("minutes.txt", "Ata da reunião\n".encode(), "text/plain"),
    ("terms.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", _docx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("report.odt", _docx(), "application/vnd.oasis.opendocument.text"),
])
def test_each_accepted_kind_of_file_is_served_with_its_type(board, api, name, data, mimetype):
    decision = board.draft()
    r = _upload(api(MANAGER), decision.id, name, data)
    assert r.status_code == 201, r.get_json()
    download = api(head_email("UNEP")).get(r.get_json()["url"])
    assert download.data == data and download.mimetype == mimetype


@pytest.mark.parametrize("name, data, message", [
    ("setup.exe", b"MZ\x90\x00", "Attach a PDF"),
    ("no-extension", PDF, "Attach a PDF"),
    ("fake.pdf", PNG, "not a .pdf file"),
    ("fake.png", PDF, "not a .png file"),
    ("fake.docx", PDF, "not a .docx file"),
    ("binary.txt", b"\x00\x01\x02", "not a .txt file"),
    ("latin1.txt", "réunion".encode("latin-1"), "not a .txt file"),
    ("empty.pdf", b"", "empty"),
])
def test_a_file_of_another_kind_than_it_claims_is_refused(board, api, name, data, message):
    decision = board.draft()
    r = _upload(api(MANAGER), decision.id, name, data)
    assert r.status_code == 422, r.get_json()
    assert any(message in m for m in r.get_json()["errors"]["file"]), r.get_json()
    assert db.session.scalar(select(func.count(DecisionAttachment.id))) == 0


def test_a_file_over_five_megabytes_is_refused_with_the_reason(board, api):
    decision = board.draft()
    r = _upload(api(MANAGER), decision.id, "big.pdf", PDF + b"0" * (5 * 1024 * 1024 + 1 - len(PDF)))
    assert r.status_code == 413, r.get_json()
    assert "at most 5 MB" in r.get_json()["detail"]
    assert db.session.scalar(select(func.count(DecisionAttachment.id))) == 0


def test_a_file_name_is_made_safe_for_the_download_header(board, api):
    decision = board.draft()
    r = _upload(api(MANAGER), decision.id, "../../etc/<quoted>;X-Evil: 1 relatório.pdf", PDF)
    assert r.status_code == 201, r.get_json()
    name = r.get_json()["filename"]
    assert name == "quotedX-Evil 1 relatório.pdf"
    header = api(MANAGER).get(r.get_json()["url"]).headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "/" not in header.split("filename")[1]
    assert "filename*=UTF-8''quotedX-Evil%201%20relat%C3%B3rio.pdf" in header


@pytest.mark.parametrize("raw, safe", [
    ("a\r\nb.PDF", "ab.pdf"),
    ('say "no".txt', "say no.txt"),
    ("C:\\Users\\x\\minutes.txt", "minutes.txt"),
    ("...pdf", "attachment.pdf"),
    ("", "attachment"),
    ("x" * 300 + ".docx", "x" * 115 + ".docx"),
])
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_only_the_proposer_or_the_manager_attaches_and_only_to_a_draft(board, api):
    decision = board.draft(by=head_email("UNDP"))
    assert _upload(api(head_email("UNDP")), decision.id, "a.pdf", PDF).status_code == 201
    assert _upload(api(MANAGER), decision.id, "b.pdf", PDF).status_code == 201
    for email in (head_email("UNEP"), "requester@undp.jof.example", "auditor@jof.example"):
        assert _upload(api(email), decision.id, "c.pdf", PDF).status_code == 403, email
    opened = board.open()
    r = _upload(api(MANAGER), opened.id, "late.pdf", PDF)
    assert r.status_code == 409 and "draft" in r.get_json()["detail"]
    assert _upload(api(MANAGER), 999999, "a.pdf", PDF).status_code == 404
    assert db.session.scalar(select(func.count(DecisionAttachment.id))) == 2


def test_an_attachment_is_found_only_under_its_own_decision(board, api):
    first, second = board.draft(title="First draft"), board.draft(title="Second draft")
    body = _upload(api(MANAGER), first.id, "a.pdf", PDF).get_json()
    assert api(MANAGER).get(f"{_url(second.id)}/{body['id']}").status_code == 404
    assert api(MANAGER).get(f"{_url(first.id)}/{body['id'] + 1}").status_code == 404


def test_the_decision_page_attaches_and_lists_documents(pages, web):
    decision_id = pages(lambda b: b.draft().id)
    client = web(MANAGER)
    page = client.get(f"/governance/decisions/{decision_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    r = client.post(f"/governance/decisions/{decision_id}/attachments", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(PNG), "fake.pdf"), "csrf_token": csrf_from(page)})
    assert r.status_code == 422 and "not a .pdf file" in r.get_data(as_text=True)
    r = client.post(f"/governance/decisions/{decision_id}/attachments", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(PDF), "Minutes.pdf"), "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = web("requester@unfpa.jof.example").get(f"/governance/decisions/{decision_id}").get_data(as_text=True)
    assert "Minutes.pdf</a>" in page and "Attach a document" not in page
    link = page.split("Minutes.pdf</a>")[0].rsplit('href="', 1)[1].split('"')[0]
    r = web("requester@unfpa.jof.example").get(link)
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Disposition"].startswith("attachment;")


def test_the_decision_page_takes_a_two_megabyte_pdf_like_the_api(pages, web):
    """The form posts through the CSRF check, which reads the body before JOF's own
    hooks: the upload limit must already apply there (it used to be the 1 MB form limit)."""
    decision_id = pages(lambda b: b.draft().id)
    client = web(MANAGER)
    page = client.get(f"/governance/decisions/{decision_id}").get_data(as_text=True)
    big = PDF + b"%" + b"x" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    r = client.post(f"/governance/decisions/{decision_id}/attachments", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(big), "Annex.pdf"), "csrf_token": csrf_from(page)})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    too_big = PDF + b"%" + b"x" * (6 * 1024 * 1024)
    r = client.post(f"/governance/decisions/{decision_id}/attachments", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(too_big), "Huge.pdf"), "csrf_token": csrf_from(page)})
    assert r.status_code == 413
