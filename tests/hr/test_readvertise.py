"""A failed recruitment re-advertised opens a new round: a new closing date, today or
later, and the previous round's short list and scores cleared; a vacancy closes at the
end of its closing date at the facility."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from jof.core import audit
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.timeutil import clock_at
from tests.conftest import csrf_from
from tests.hr.conftest import HR, REQUESTER, candidate, recruitment_body
from tests.hr.test_public import ONCE_RE


def _failed(hr) -> tuple[str, dict]:
    ref, (ana,) = hr.short_listed([candidate("Ana Souza")])
    hr.score(ref, ana["id"], "60", "60", "60")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "fail", comment="Nobody reached 70.")
    return ref, ana


def _apply_publicly(client, ref: str, name: str):
    html = client.get(f"/vacancies/{ref}").get_data(as_text=True)
    return client.post(f"/vacancies/{ref}", content_type="multipart/form-data", data={
        "full_name": name, "email": f"{name.split()[0].lower()}@mail.example", "phone": "+55 61 5555 7777",
        "education": "master", "years_experience": "9", "languages": "Portuguese, English",
        "referee1_name": "Dora Referee", "referee1_email": "dora.referee@mail.example", "consent": "yes",
        "cv": (io.BytesIO(b"%PDF-1.4 CV"), "cv.pdf"),
        "csrf_token": csrf_from(html), "_once": ONCE_RE.search(html).group(1)})


def test_re_advertising_needs_a_new_closing_date_today_or_later(hr):
    ref, _ana = _failed(hr)
    missing = hr.move(HR, ref, "readvertise")
    assert missing.status_code == 422 and "closing_date" in missing.get_json()["errors"]
    past = hr.move(HR, ref, "readvertise", payload={"closing_date": (date.today() - timedelta(days=2)).isoformat()})
    assert past.status_code == 422 and "This day has passed" in str(past.get_json()["errors"])
    assert hr.as_(HR).get(f"/api/v1/requests/{ref}").get_json()["status"] == "failed"


def test_re_advertising_opens_a_new_round_with_the_previous_short_list_and_scores_cleared(app, hr, client):
    ref, ana = _failed(hr)
    with app.app_context():
        new_closing = local_today() + timedelta(days=20)
    assert hr.must(HR, ref, "readvertise", payload={"closing_date": new_closing.isoformat()})["status"] \
        == "advertised"
    rec = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}").get_json()
    assert rec["closing_date"] == new_closing.isoformat()
    apps = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert [(a["id"], a["short_listed"]) for a in apps] == [(ana["id"], False)]
    with app.app_context():
        event = db.session.scalar(select(audit.AuditEvent).where(
            audit.AuditEvent.action == "hr.recruitment.readvertise"))
        assert event.before["short_listed"] == [ana["id"]] and event.before["scores"] == 3
        assert event.after["closing_date"] == new_closing.isoformat() and event.after["scores"] == 0

    assert _apply_publicly(client, ref, "Clara Nunes").status_code == 302
    hr.must(HR, ref, "long_list")
    hr.must(HR, ref, "short_list")
    refused = hr.move(HR, ref, "assess")  # the new round is scored afresh
    assert refused.status_code == 409


def test_a_vacancy_takes_applications_until_the_end_of_its_closing_day_at_the_facility(hr, client):
    ref = hr.advertised(closing_date=(date.today() + timedelta(days=3)).isoformat())
    closing = date.fromisoformat(hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}").get_json()["closing_date"])
    # 01:00 UTC the next day is still the closing day in Brasília
    with clock_at(datetime.combine(closing + timedelta(days=1), time(1, 0), tzinfo=UTC)):
        assert _apply_publicly(client, ref, "Clara Nunes").status_code == 302
    with clock_at(datetime.combine(closing + timedelta(days=1), time(4, 0), tzinfo=UTC)):
        assert _apply_publicly(client, ref, "Eva Lopes").status_code == 409


def test_filing_a_vacancy_that_closes_in_the_past_is_refused_with_a_plain_message(hr):
    r = hr.as_(REQUESTER).post("/api/v1/hr/recruitments", json={
        **recruitment_body(), "closing_date": (date.today() - timedelta(days=1)).isoformat()})
    assert r.status_code == 422
    assert r.get_json()["errors"]["closing_date"] == [
        "This day has passed: choose today or a later day to close applications."]
