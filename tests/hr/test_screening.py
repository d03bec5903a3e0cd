"""Automatic screening against the minimum requirements, the reason per candidate, and
the officer's override with a comment, audited."""

from __future__ import annotations

from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from jof.hr.screening import screen
from tests.hr.conftest import HR, candidate


def _reasons(app: dict) -> list[str]:
    return app["reasons"]


def test_each_candidate_gets_the_reason_of_the_requirement_they_miss(hr):
    ref = hr.advertised()
    short = hr.apply(ref, candidate("Carla Dias", years=3))
    school = hr.apply(ref, candidate("Davi Rocha", education="secondary", years=9))
    mono = hr.apply(ref, candidate("Eva Nunes", languages=("Portuguese",)))
    fine = hr.apply(ref, candidate("Ana Souza", years=5, education="bachelor",
                                   languages=("portuguese", "ENGLISH")))
    assert _reasons(short) == ["3 years of experience, 5 required"]
    assert _reasons(school) == ["education: secondary, bachelor required"]
    assert _reasons(mono) == ["speaks English: required, not spoken"]
    assert _reasons(fine) == [] and fine["meets_requirements"] is True
    assert [a["meets_requirements"] for a in (short, school, mono)] == [False, False, False]
    # The desirable language is reported but screens nobody out.
    assert {"requirement": "desirable_language", "met": True, "reason": "speaks Spanish: desirable, not spoken"} \
        in fine["screening"]


def test_one_year_reads_in_the_singular():
    result = screen(min_education="secondary", min_years=2, required_languages=[], desirable_languages=[],
                    education="doctorate", years=1, languages=[])
    assert result.reasons == ["1 year of experience, 2 required"]


def test_an_officer_overrides_the_screening_with_a_comment_and_it_is_audited(app, hr):
    ref = hr.advertised()
    carla = hr.apply(ref, candidate("Carla Dias", years=3))
    url = f"/api/v1/hr/recruitments/{ref}/applications/{carla['id']}/screening"
    no_reason = hr.as_(HR).post(url, json={"screened_in": True, "comment": ""})
    assert no_reason.status_code == 422
    r = hr.as_(HR).post(url, json={"screened_in": True, "comment": "Four years as a UNV count."})
    assert r.status_code == 200
    body = r.get_json()
    assert body["screened_in"] is True and body["meets_requirements"] is False
    assert body["override"] is True and body["override_comment"] == "Four years as a UNV count."
    assert body["reasons"] == ["3 years of experience, 5 required"]  # the facts stay visible
    with app.app_context():
        event = db.session.scalar(select(audit.AuditEvent).where(
            audit.AuditEvent.action == "hr.application.override"))
        assert event.actor_email == HR
        assert event.before["screened_in"] is False and event.after["screened_in"] is True
    hr.must(HR, ref, "long_list")
    hr.must(HR, ref, "short_list")
    listed = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert listed[0]["short_listed"] is True


def test_short_listing_with_nobody_screened_in_is_refused(hr):
    ref = hr.advertised()
    hr.apply(ref, candidate("Carla Dias", years=3))
    hr.must(HR, ref, "long_list")
    refused = hr.move(HR, ref, "short_list")
    assert refused.status_code == 409 and "No candidate meets the minimum requirements" in refused.get_json()["detail"]


def test_the_screening_is_settled_once_the_short_list_is_drawn(hr):
    ref, (ana,) = hr.short_listed([candidate("Ana Souza")])
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/{ana['id']}/screening",
                        json={"screened_in": False, "comment": "Late papers."})
    assert r.status_code == 409
