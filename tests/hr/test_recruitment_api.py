"""A recruitment through the API: filed, approved (certified above the agency's limit),
advertised, applications screened, short-listed, scored, assessed and ranked."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from tests.hr.conftest import HEAD, HR, MANAGER, REQUESTER, candidate, recruitment_body
from tests.hr.test_onboarding_fees import onboard


def test_recruitment_goes_from_draft_to_assessed_with_a_ranked_list(hr):
    filed = hr.file()
    ref = filed["reference"]
    assert ref.startswith("HRR-") and filed["status"] == "draft"
    assert [m["weight"] for m in filed["methods"]] == [30, 30, 40]
    for email, action, status in [(REQUESTER, "submit", "submitted"), (MANAGER, "approve", "approved"),
                                  (HR, "advertise", "advertised")]:
        assert hr.must(email, ref, action)["status"] == status
    ana = hr.apply(ref, candidate("Ana Souza", years=8))
    bruno = hr.apply(ref, candidate("Bruno Lima", years=5))
    carla = hr.apply(ref, candidate("Carla Dias", years=3))  # screened out: 3 years of 5
    assert [a["seq"] for a in (ana, bruno, carla)] == [1, 2, 3]
    assert hr.must(HR, ref, "long_list")["status"] == "long_listed"
    assert hr.must(HR, ref, "short_list")["status"] == "short_listed"
    listed = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()
    assert [a["short_listed"] for a in listed] == [True, True, False]

    # Closing the assessment waits for every score.
    hr.score(ref, ana["id"], "80", "70", "90")
    refused = hr.move(HR, ref, "assess")
    assert refused.status_code == 409 and "3 of 6 scores are still missing" in refused.get_json()["detail"]
    hr.score(ref, bruno["id"], "90", "85", "60.5")
    assert hr.must(HR, ref, "assess")["status"] == "assessed"

    ranking = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/ranking").get_json()
    # Ana: 24 + 21 + 36 = 81; Bruno: 27 + 25.5 + 24.2 = 76.7.
    assert [(r["rank"], r["application_id"], r["total"], r["passed"]) for r in ranking["rows"]] == [
        (1, ana["id"], "81.0000", True), (2, bruno["id"], "76.7000", True)]
    assert [t["points"] for t in ranking["rows"][1]["terms"]] == ["27.0000", "25.5000", "24.2000"]
    assert ranking["tie_break"] == ["Interview", "Desk review", "Written test"]


def test_recruitment_above_the_agency_limit_needs_the_head_to_certify(hr):
    ref = hr.file(estimated_cost_usd="48000.00")["reference"]
    hr.must(REQUESTER, ref, "submit")
    refused = hr.move(MANAGER, ref, "approve")
    assert refused.status_code == 409 and "certify" in refused.get_json()["detail"]
    hr.must(HEAD, ref, "certify")
    assert hr.must(MANAGER, ref, "approve")["status"] == "approved"


def test_weights_not_summing_to_100_are_refused_and_nothing_is_filed(hr):
    r = hr.as_(REQUESTER).post("/api/v1/hr/recruitments", json={
        **recruitment_body(),
        "methods": [{"name": "Desk review", "weight": 30}, {"name": "Interview", "weight": 60}]})
    assert r.status_code == 422
    assert r.get_json()["errors"]["methods"] == ["The weights must sum to 100; they sum to 90."]
    assert hr.as_(REQUESTER).get("/api/v1/hr/recruitments").get_json()["total"] == 0


def test_a_level_outside_the_fixed_list_is_refused(hr):
    r = hr.as_(REQUESTER).post("/api/v1/hr/recruitments", json=recruitment_body(level="P-9"))
    assert r.status_code == 422 and "level" in r.get_json()["errors"]


def test_applications_are_recorded_only_by_hr_officers_while_advertised(hr):
    ref = hr.file()["reference"]
    early = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications", json=candidate("Ana Souza"))
    assert early.status_code == 409
    hr.must(REQUESTER, ref, "submit")
    hr.must(MANAGER, ref, "approve")
    hr.must(HR, ref, "advertise")
    by_ict = hr.as_("ict@jof.example").post(f"/api/v1/hr/recruitments/{ref}/applications",
                                            json=candidate("Ana Souza"))
    assert by_ict.status_code == 404  # an ICT officer does not see candidates at all
    by_head = hr.as_(HEAD).post(f"/api/v1/hr/recruitments/{ref}/applications", json=candidate("Ana Souza"))
    assert by_head.status_code == 403


def test_selection_by_the_agency_then_offer_and_completion(hr):
    ref, (ana, bruno) = hr.short_listed([candidate("Ana Souza"), candidate("Bruno Lima")])
    hr.score(ref, ana["id"], "80", "80", "80")
    hr.score(ref, bruno["id"], "50", "50", "50")  # below the pass mark
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    below = hr.move(HEAD, ref, "select", payload={"application_id": bruno["id"]})
    assert below.status_code == 422
    assert hr.move(HR, ref, "select", payload={"application_id": ana["id"]}).status_code == 403
    assert hr.must(HEAD, ref, "select", payload={"application_id": ana["id"]})["status"] == "selected"
    chosen = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications/{ana['id']}").get_json()
    assert chosen["selected"] is True
    hr.must(HR, ref, "offer")
    onboard(hr, ref, date.today() + timedelta(days=7))  # complete waits for the checklist
    assert hr.must(HR, ref, "complete")["status"] == "completed"


def test_no_candidate_reaching_the_pass_mark_fails_and_re_advertises(hr):
    ref, (ana,) = hr.short_listed([candidate("Ana Souza")])
    hr.score(ref, ana["id"], "60", "60", "60")
    hr.must(HR, ref, "assess")
    refused = hr.move(HR, ref, "recommend")
    assert refused.status_code == 409 and "pass mark" in refused.get_json()["detail"]
    assert hr.move(HR, ref, "fail").status_code == 422  # a reason is required
    assert hr.must(HR, ref, "fail", comment="Nobody reached 70.")["status"] == "failed"
    again = hr.must(HR, ref, "readvertise", payload={"closing_date": (date.today() + timedelta(days=30)).isoformat()})
    assert again["status"] == "advertised"


def test_audit_events_of_candidates_hold_ids_never_personal_data(app, hr):
    ref = hr.advertised()
    app_ = hr.apply(ref, candidate("Dora Unique-Name", years=2))
    hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/{app_['id']}/screening",
                    json={"screened_in": True, "comment": "Experience abroad counts double."})
    with app.app_context():
        events = db.session.scalars(select(audit.AuditEvent).where(
            audit.AuditEvent.action.like("hr.application.%"))).all()
        assert {e.action for e in events} == {"hr.application.record", "hr.application.override"}
        text = " ".join(str(e.before) + str(e.after) for e in events)
        assert "Dora" not in text and "mail.example" not in text
        assert all(e.after["candidate_id"] == app_["candidate"]["id"] for e in events)


def test_refused_applications_leave_no_personal_data_behind(app, hr):
    from jof.hr.models import Candidate

    ref = hr.advertised()
    bad = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications",
                          json={**candidate("Ana Souza"), "education": "kindergarten"})
    assert bad.status_code == 422 and "education" in bad.get_json()["errors"]
    hr.apply(ref, candidate("Ana Souza"))
    again = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications", json=candidate("Ana Souza"))
    assert again.status_code == 422 and "applied to this vacancy already" in again.get_json()["errors"]["email"][0]
    hr.must(HR, ref, "long_list")
    late = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications", json=candidate("Bruno Lima"))
    assert late.status_code == 409
    with app.app_context():
        names = db.session.scalars(select(Candidate.full_name)).all()
    assert names == ["Ana Souza"]


def test_an_officer_of_the_hr_line_can_be_created_by_the_administrator(api):
    r = api("admin@jof.example").post("/api/v1/users", json={
        "email": "hr3@jof.example", "name": "HR Officer Three", "roles": ["officer"],
        "service_lines": ["hr"], "password": "a-long-enough-password-123"})
    assert r.status_code == 201, r.get_json()
