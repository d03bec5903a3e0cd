"""Assessment panels: a candidate's referee cannot sit, a declared conflict removes a member
(audited, the note kept out of the audit trail, their scores withdrawn), and only panel
members, HR officers and the manager enter scores."""

from __future__ import annotations

from sqlalchemy import select

from jof.core.audit import AuditEvent
from jof.core.db import db
from tests.conftest import csrf_from
from tests.hr.conftest import HEAD, HR, MANAGER, REQUESTER, candidate

PANELLIST = "head@undp.jof.example"
OUTSIDER = "requester@unfpa.jof.example"
NOTE = "Ana Souza is my cousin."


def _seat(hr, ref, email, who=HR):
    return hr.as_(who).post(f"/api/v1/hr/recruitments/{ref}/panel", json={"email": email})


def _scores(hr, ref, app_id, who, desk="80"):
    return hr.as_(who).post(f"/api/v1/hr/recruitments/{ref}/applications/{app_id}/scores", json={
        "scores": [{"method": "Desk review", "score": desk}, {"method": "Written test", "score": "70"},
                   {"method": "Interview", "score": "75"}]})


def test_a_panel_member_enters_scores_and_a_user_off_the_panel_may_not(hr):
    ref, apps = hr.short_listed([candidate("Ana Souza")])
    # the requesting agency's requester (also the hiring manager) is not on the panel
    assert _scores(hr, ref, apps[0]["id"], REQUESTER).status_code == 403
    r = _seat(hr, ref, REQUESTER)
    assert r.status_code == 201, r.get_json()
    assert _scores(hr, ref, apps[0]["id"], REQUESTER).status_code == 200
    # the manager and the HR officers score without a seat
    assert _scores(hr, ref, apps[0]["id"], MANAGER, desk="81").status_code == 200
    assert _scores(hr, ref, apps[0]["id"], HR, desk="82").status_code == 200


def test_only_hr_officers_seat_members_from_the_facility_or_the_requesting_agency(hr):
    ref = hr.advertised()
    assert _seat(hr, ref, PANELLIST, who=REQUESTER).status_code == 403
    r = _seat(hr, ref, OUTSIDER)
    assert r.status_code == 422 and "requesting agency" in r.get_json()["errors"]["email"][0]
    assert _seat(hr, ref, PANELLIST).status_code == 201
    assert _seat(hr, ref, PANELLIST).status_code == 422  # sits already
    panel = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/panel").get_json()
    assert [(m["email"], m["seated"]) for m in panel] == [(PANELLIST, True)]
    assert hr.as_(OUTSIDER).get(f"/api/v1/hr/recruitments/{ref}/panel").status_code == 404


def test_a_candidates_referee_cannot_sit_and_a_later_referee_is_unseated(hr):
    ref = hr.advertised()
    ana = hr.apply(ref, candidate("Ana Souza"))
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/{ana['id']}/referees",
                        json={"name": "The Head", "email": PANELLIST})
    assert r.status_code == 201, r.get_json()
    r = _seat(hr, ref, PANELLIST)
    assert r.status_code == 422 and "referee" in r.get_json()["errors"]["email"][0]

    # seated first, named as referee afterwards (a CSV import): the seat ends at once
    assert _seat(hr, ref, MANAGER).status_code == 201
    csv = ("full_name,email,phone,education,years_experience,languages,referee_name,referee_email\n"
           f"Bruno Reis,bruno@mail.example,,master,6,Portuguese;English,The Manager,{MANAGER}\n")
    assert hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/import", json={"csv": csv}).status_code == 200
    panel = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/panel").get_json()
    assert [(m["email"], m["seated"]) for m in panel] == [(MANAGER, False)]


def test_a_declared_conflict_removes_the_member_withdraws_their_scores_and_is_audited(app, hr):
    ref, apps = hr.short_listed([candidate("Ana Souza"), candidate("Bruno Reis")])
    assert _seat(hr, ref, REQUESTER).status_code == 201
    assert _scores(hr, ref, apps[0]["id"], REQUESTER).status_code == 200
    assert _scores(hr, ref, apps[1]["id"], HR).status_code == 200
    requester_id = hr.as_(REQUESTER).get("/api/v1/me").get_json()["id"]

    r = hr.as_(REQUESTER).post(f"/api/v1/hr/recruitments/{ref}/panel/{requester_id}/conflict", json={"note": ""})
    assert r.status_code == 422
    r = hr.as_(REQUESTER).post(f"/api/v1/hr/recruitments/{ref}/panel/{requester_id}/conflict", json={"note": NOTE})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["seated"] is False and r.get_json()["conflict_note"] == NOTE

    # off the panel: scores no more, and the ones entered are withdrawn, so the assessment waits
    assert _scores(hr, ref, apps[0]["id"], REQUESTER).status_code == 403
    ranked = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications/{apps[0]['id']}").get_json()
    assert ranked["scores"] == []
    assert hr.move(HR, ref, "assess").status_code == 409
    assert _scores(hr, ref, apps[0]["id"], HR).status_code == 200
    hr.must(HR, ref, "assess")

    with app.app_context():
        ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "hr.panel.conflict"))
        assert ev.after["user_id"] == requester_id and ev.after["scores_withdrawn"] == 3
        assert ev.actor_email == REQUESTER
        assert "cousin" not in str(ev.after) and "Ana" not in str(ev.after)


def test_an_officer_records_a_conflict_for_a_member_but_another_member_cannot(hr):
    ref = hr.advertised()
    assert _seat(hr, ref, REQUESTER).status_code == 201
    assert _seat(hr, ref, HEAD).status_code == 201
    requester_id = hr.as_(REQUESTER).get("/api/v1/me").get_json()["id"]
    r = hr.as_(HEAD).post(f"/api/v1/hr/recruitments/{ref}/panel/{requester_id}/conflict", json={"note": NOTE})
    assert r.status_code == 403
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/panel/{requester_id}/conflict", json={"note": NOTE})
    assert r.status_code == 200
    assert _seat(hr, ref, REQUESTER).status_code == 422  # left with a conflict: cannot sit again


def test_the_panel_page_seats_a_member_and_records_a_declared_conflict(web, hr):
    ref = hr.advertised()
    officer = web(HR)
    page = f"/hr/recruitments/{ref}/panel"
    r = officer.post(page, data={"email": OUTSIDER, "csrf_token": csrf_from(officer.get(page).get_data(as_text=True))})
    assert r.status_code == 422 and OUTSIDER in r.get_data(as_text=True)  # input kept, message shown
    r = officer.post(page, data={"email": REQUESTER, "csrf_token": csrf_from(officer.get(page).get_data(as_text=True))})
    assert r.status_code == 302
    member = web(REQUESTER)
    html = member.get(page).get_data(as_text=True)
    assert "Declare a conflict of interest" in html and "Seat on the panel" not in html
    requester_id = hr.as_(REQUESTER).get("/api/v1/me").get_json()["id"]
    r = member.post(f"{page}/{requester_id}/conflict", data={"note": NOTE, "csrf_token": csrf_from(html)})
    assert r.status_code == 302
    html = officer.get(page).get_data(as_text=True)
    assert "Left the panel on" in html and NOTE.replace("'", "&#39;") in html
    assert web(OUTSIDER).get(page).status_code == 404
