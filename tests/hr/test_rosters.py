"""Shared rosters over the API: candidates who pass an assessment enter the roster of its
job family and level for 24 months, and a second agency hires from it without
re-advertising; what the rosters save is reported."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from jof.hr.rosters import days_saved, valid_until
from tests.hr.conftest import HEAD, HR, MANAGER, REQUESTER, candidate, recruitment_body

UNFPA = "requester@unfpa.jof.example"
UNFPA_HEAD = "head@unfpa.jof.example"


def recommended(hr) -> tuple[str, dict]:
    """UNDP's Finance G-6 assessed: Ana 81 and Bruno 76.7 pass (70), Davi 58 does not."""
    ref, (ana, bruno, davi) = hr.short_listed([candidate("Ana Souza", years=8), candidate("Bruno Lima"),
                                               candidate("Davi Rocha")])
    hr.score(ref, ana["id"], "80", "70", "90")
    hr.score(ref, bruno["id"], "90", "85", "60.5")
    hr.score(ref, davi["id"], "50", "60", "62.5")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    return ref, {"ana": ana, "bruno": bruno, "davi": davi}


def test_candidates_who_pass_enter_the_roster_of_the_family_and_level_for_24_months(hr):
    ref, apps = recommended(hr)
    entries = hr.as_(HR).get("/api/v1/hr/rosters/entries").get_json()["items"]
    assert [(e["candidate"]["full_name"], e["total"], e["recruitment"], e["job_family"], e["level"])
            for e in entries] == [("Ana Souza", "81.0000", ref, "Finance", "G-6"),
                                  ("Bruno Lima", "76.7000", ref, "Finance", "G-6")]
    today = date.fromisoformat(entries[0]["valid_from"])  # the facility's today
    assert abs((today - date.today()).days) <= 1
    assert entries[0]["valid_until"] == valid_until(today).isoformat()
    groups = hr.as_(UNFPA).get("/api/v1/hr/rosters").get_json()
    assert groups == [{"job_family": "Finance", "level": "G-6", "candidates": 2,
                       "until": valid_until(today).isoformat()}]


def test_the_roster_lasts_24_months_to_the_day_before():
    assert valid_until(date(2026, 12, 7)) == date(2028, 12, 6)
    assert valid_until(date(2028, 2, 29)) == date(2030, 2, 27)  # 28 February 2030, the day before


@pytest.mark.parametrize("email", [UNFPA, UNFPA_HEAD, REQUESTER, "ict@jof.example"])
def test_only_hr_staff_see_who_is_on_the_rosters(hr, email):
    recommended(hr)
    assert hr.as_(email).get("/api/v1/hr/rosters/entries").status_code == 404


def test_a_roster_hire_by_a_second_agency_without_re_advertising(hr):
    source, _apps = recommended(hr)
    filed = hr.file(UNFPA, from_roster=True, post_title="Finance Assistant", job_family="finance")
    ref = filed["reference"]
    assert filed["from_roster"] is True and filed["agency"] == "UNFPA"
    hr.must(UNFPA, ref, "submit")
    hr.must(MANAGER, ref, "approve")

    refused = hr.move(HR, ref, "advertise")
    assert refused.status_code == 409 and "not advertised" in refused.get_json()["detail"]
    too_early = hr.move(HR, ref, "present_roster")
    assert too_early.status_code == 409 and "agreed" in too_early.get_json()["detail"]

    roster = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/roster").get_json()
    by_name = {c["entry"]["candidate"]["full_name"]: c for c in roster}
    assert set(by_name) == {"Ana Souza", "Bruno Lima"} and all(c["agrees"] is None for c in roster)
    base = f"/api/v1/hr/recruitments/{ref}/roster"
    declined = hr.as_(HR).post(f"{base}/{by_name['Ana Souza']['entry']['id']}/consent", json={"agrees": False})
    assert declined.status_code == 200 and declined.get_json()["application_id"] is None
    agreed = hr.as_(HR).post(f"{base}/{by_name['Bruno Lima']['entry']['id']}/consent", json={"agrees": True})
    assert agreed.status_code == 200
    bruno_app = agreed.get_json()["application_id"]
    assert hr.as_(UNFPA).post(f"{base}/{by_name['Ana Souza']['entry']['id']}/consent",
                              json={"agrees": True}).status_code == 403

    assert hr.must(HR, ref, "present_roster")["status"] == "recommended"
    ana_entry = by_name["Ana Souza"]["entry"]["id"]
    assert hr.as_(HR).post(f"{base}/{ana_entry}/consent", json={"agrees": True}).status_code == 409

    # The agency selects among those who agreed, and only among them.
    listed = hr.as_(UNFPA_HEAD).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert [(a["candidate"]["full_name"], a["short_listed"]) for a in listed] == [("Bruno Lima", True)]
    wrong = hr.move(UNFPA_HEAD, ref, "select", payload={"application_id": bruno_app + 1000})
    assert wrong.status_code == 422
    assert hr.must(UNFPA_HEAD, ref, "select", payload={"application_id": bruno_app})["status"] == "selected"

    timeline = [e["action"] for e in hr.as_(UNFPA).get(f"/api/v1/requests/{ref}").get_json()["timeline"]]
    assert "advertise" not in timeline and "assess" not in timeline
    assert timeline[-2:] == ["present_roster", "select"]

    use = hr.as_(UNFPA).get("/api/v1/hr/rosters/use").get_json()
    assert use["roster_hires"] == 1 and use["advertised_hires"] == 0 and use["days_saved"] is None

    # The source recruitment's own selection makes an advertised hire to compare with.
    hr.must(REQUESTER, source, "select", payload={"application_id": _apps["ana"]["id"]})
    use = hr.as_(HEAD).get("/api/v1/hr/rosters/use").get_json()
    assert use["roster_hires"] == 1 and use["advertised_hires"] == 1 and use["days_saved"] is not None


def test_a_from_roster_request_is_refused_without_a_roster_of_its_family_and_level(hr):
    r = hr.as_(UNFPA).post("/api/v1/hr/recruitments", json={
        **recruitment_body(),
        "from_roster": True})
    assert r.status_code == 422 and "No roster of Finance G-6" in r.get_json()["errors"]["from_roster"][0]
    assert hr.as_(UNFPA).get("/api/v1/hr/recruitments").get_json()["total"] == 0


def test_an_advertised_recruitment_cannot_be_presented_from_the_roster(hr):
    ref = hr.file()["reference"]
    hr.must(REQUESTER, ref, "submit")
    hr.must(MANAGER, ref, "approve")
    refused = hr.move(HR, ref, "present_roster")
    assert refused.status_code == 409 and "filed from the roster" in refused.get_json()["detail"]


def test_time_saved_is_the_advertised_median_less_each_roster_hire():
    use = days_saved([D("40.0"), D("60.0"), D("50.0")], [D("10.5"), D("20.0")])
    assert (use.median_days_advertised, use.median_days_roster, use.days_saved) == (D("50.0"), D("15.2"),
                                                                                    D("69.5"))
    assert "median advertised recruitment (50.0 days" in use.explanation
    none = days_saved([], [D("3.0")])
    assert none.days_saved is None and none.roster_hires == 1
