"""Roster candidates' privacy: a person hired from a roster keeps their data through the
purge of the recruitment that assessed them, and nobody outside HR reads the roster of a
from-roster request before the candidates agreed and were presented."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from jof.core.db import db
from jof.core.timeutil import clock_at, utcnow
from jof.hr.models import Application
from jof.hr.purge import purge
from tests.hr.conftest import HR, MANAGER, REQUESTER
from tests.hr.test_onboarding_fees import onboard
from tests.hr.test_rosters import UNFPA, UNFPA_HEAD, recommended


def _roster_request(hr) -> str:
    ref = hr.file(UNFPA, from_roster=True, post_title="Finance Assistant", job_family="finance")["reference"]
    hr.must(UNFPA, ref, "submit")
    hr.must(MANAGER, ref, "approve")
    return ref


def _agree(hr, ref: str, name: str) -> int:
    base = f"/api/v1/hr/recruitments/{ref}/roster"
    entry = next(c["entry"]["id"] for c in hr.as_(HR).get(base).get_json()
                 if c["entry"]["candidate"]["full_name"] == name)
    r = hr.as_(HR).post(f"{base}/{entry}/consent", json={"agrees": True})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["application_id"]


def test_the_purge_keeps_a_candidate_selected_from_the_roster_of_an_ended_recruitment(app, hr):
    source, apps = recommended(hr)
    ref = _roster_request(hr)
    bruno = _agree(hr, ref, "Bruno Lima")
    hr.must(HR, ref, "present_roster")
    hr.must(UNFPA_HEAD, ref, "select", payload={"application_id": bruno})
    hr.must(HR, ref, "offer")
    hr.must(REQUESTER, source, "select", payload={"application_id": apps["ana"]["id"]})
    hr.must(HR, source, "offer")
    onboard(hr, source, date.today() + timedelta(days=7))
    hr.must(HR, source, "complete")
    stats_before = hr.as_(MANAGER).get("/api/v1/hr/statistics").get_json()

    with app.app_context(), clock_at(utcnow() + timedelta(days=25 * 31)):
        result = purge()
        db.session.commit()
        people = {a.id: a.candidate for a in db.session.scalars(select(Application))}
        assert result["candidates"] == 1  # Davi, assessed and not selected anywhere
        assert people[bruno].full_name == "Bruno Lima" and people[bruno].email
        assert people[apps["bruno"]["id"]] is people[bruno]
        assert people[apps["ana"]["id"]].full_name == "Ana Souza"
        assert people[apps["davi"]["id"]].full_name == ""
    assert hr.as_(MANAGER).get("/api/v1/hr/statistics").get_json() == stats_before


def _names(response) -> set[str]:
    return {c["entry"]["candidate"]["full_name"] for c in response.get_json()}


def test_the_agency_reads_no_roster_candidate_before_hr_presents_those_who_agreed(hr, web):
    recommended(hr)
    draft = hr.file(UNFPA, from_roster=True, post_title="Finance Assistant", job_family="finance")["reference"]
    assert hr.as_(UNFPA).get(f"/api/v1/hr/recruitments/{draft}/roster").status_code == 404
    ref = _roster_request(hr)
    base = f"/api/v1/hr/recruitments/{ref}/roster"
    for who in (UNFPA, UNFPA_HEAD):
        assert hr.as_(who).get(base).status_code == 404
    page = web(UNFPA).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Ana Souza" not in page and "Bruno Lima" not in page and "ana.souza" not in page
    assert _names(hr.as_(HR).get(base)) == {"Ana Souza", "Bruno Lima"}  # before anyone's answer

    _agree(hr, ref, "Bruno Lima")
    assert hr.as_(UNFPA_HEAD).get(base).status_code == 404  # agreed, not yet presented
    hr.must(HR, ref, "present_roster")
    assert _names(hr.as_(UNFPA_HEAD).get(base)) == {"Bruno Lima"}
    assert _names(hr.as_(UNFPA).get(base)) == {"Bruno Lima"}
    assert _names(hr.as_(MANAGER).get(base)) == {"Ana Souza", "Bruno Lima"}
    page = web(UNFPA_HEAD).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Bruno Lima" in page and "Ana Souza" not in page


@pytest.mark.parametrize("email", [REQUESTER, "ict@jof.example"])
def test_other_agencies_and_other_lines_never_read_a_from_roster_request_candidates(hr, email):
    recommended(hr)
    ref = _roster_request(hr)
    _agree(hr, ref, "Bruno Lima")
    hr.must(HR, ref, "present_roster")
    assert hr.as_(email).get(f"/api/v1/hr/recruitments/{ref}/roster").status_code == 404


@pytest.mark.parametrize("application_id", [2**63, 2**31, 0, -1])
def test_selecting_an_application_id_beyond_any_key_is_a_field_error_not_a_crash(hr, application_id):
    ref, _apps = recommended(hr)
    r = hr.move(REQUESTER, ref, "select", payload={"application_id": application_id})
    assert r.status_code == 422, r.get_json()
    assert any(key.endswith("application_id") for key in r.get_json()["errors"]), r.get_json()
    assert hr.as_(REQUESTER).get(f"/api/v1/requests/{ref}").get_json()["status"] == "recommended"


def test_a_roster_hire_is_charged_the_cheaper_roster_hire_price(hr):
    recommended(hr)
    ref = _roster_request(hr)
    bruno = _agree(hr, ref, "Bruno Lima")
    hr.must(HR, ref, "present_roster")
    hr.must(UNFPA_HEAD, ref, "select", payload={"application_id": bruno})
    hr.must(HR, ref, "offer")
    onboard(hr, ref, date.today() + timedelta(days=7))
    hr.must(HR, ref, "complete")
    charges = hr.as_(MANAGER).get("/api/v1/billing/charges?agency=UNFPA").get_json()["items"]
    hr_charges = [(c["item_code"], c["amount"]) for c in charges if c["service_line"] == "hr"]
    assert hr_charges == [("roster_hire", "300.00")]  # a fixed-term advertised recruitment: 1500.00


def _applicants(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {a["candidate"]["full_name"] for a in response.get_json()}


def test_the_agency_reads_no_application_of_a_roster_candidate_before_presentation_nor_after_a_no(hr, web):
    """An answer of a roster candidate is an application of the from-roster recruitment:
    its agency reads it like the roster, only once presented and only while it says yes."""
    recommended(hr)
    ref = _roster_request(hr)
    applications = f"/api/v1/hr/recruitments/{ref}/applications"
    bruno = _agree(hr, ref, "Bruno Lima")
    ana = _agree(hr, ref, "Ana Souza")
    for who in (UNFPA, UNFPA_HEAD):
        assert _applicants(hr.as_(who).get(applications)) == set()
        assert hr.as_(who).get(f"{applications}/{bruno}").status_code == 404
    assert "Bruno Lima" not in web(UNFPA_HEAD).get(f"/hr/recruitments/{ref}").get_data(as_text=True)

    base = f"/api/v1/hr/recruitments/{ref}/roster"
    entry = next(c["entry"]["id"] for c in hr.as_(HR).get(base).get_json()
                 if c["entry"]["candidate"]["full_name"] == "Ana Souza")
    assert hr.as_(HR).post(f"{base}/{entry}/consent", json={"agrees": False}).status_code == 200
    hr.must(HR, ref, "present_roster")
    assert _applicants(hr.as_(UNFPA_HEAD).get(applications)) == {"Bruno Lima"}
    assert hr.as_(UNFPA_HEAD).get(f"{applications}/{ana}").status_code == 404
    assert hr.as_(UNFPA_HEAD).get(f"{applications}/{bruno}").status_code == 200
    assert _applicants(hr.as_(HR).get(applications)) == {"Bruno Lima", "Ana Souza"}
    page = web(UNFPA_HEAD).get(f"/hr/recruitments/{ref}").get_data(as_text=True)
    assert "Bruno Lima" in page and "Ana Souza" not in page
