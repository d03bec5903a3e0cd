"""``jof hr purge``: N months after a recruitment ended, no personal field of a candidate
who was not selected remains in any table; the aggregates stay, and the audit chain still
verifies."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

from sqlalchemy import select

from jof.core.db import db
from jof.core.timeutil import clock_at, utcnow
from tests.conftest import csrf_from
from tests.hr.conftest import HR, MANAGER, REQUESTER, candidate
from tests.hr.test_onboarding_fees import onboard
from tests.hr.test_public import ONCE_RE

ANA = {**candidate("Ana Souza"), "phone": "+55 61 9876 5432", "gender": "woman", "nationality": "BR"}
BRUNO = {**candidate("Bruno Reis"), "phone": "+55 61 1234 0000", "gender": "man", "nationality": "BR"}
CLARA = {"full_name": "Clara Nunes", "email": "clara.nunes@mail.example", "phone": "+55 61 5555 7777"}


def _everything(app) -> str:
    """Every value of every table, as text (JSON and binary columns included)."""
    out = []
    with app.app_context():
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes):
                            out.append(value.decode("latin-1"))
                        elif isinstance(value, dict | list):
                            out.append(json.dumps(value, ensure_ascii=False))
                        elif value is not None:
                            out.append(str(value))
    return "\n".join(out)


def _completed_recruitment(hr, client):
    """Three candidates (one through the public page, with a CV and a referee), Bruno
    selected and onboarded; an override comment naming Ana; a recommendation report."""
    ref = hr.advertised()
    ana = hr.apply(ref, {**ANA, "years_experience": 2})
    bruno = hr.apply(ref, BRUNO)
    html = client.get(f"/vacancies/{ref}").get_data(as_text=True)
    r = client.post(f"/vacancies/{ref}", content_type="multipart/form-data", data={
        **CLARA, "education": "doctorate", "years_experience": "9", "languages": "Portuguese, English",
        "referee1_name": "Dora Referee", "referee1_email": "dora.referee@mail.example", "consent": "yes",
        "gender": "woman", "nationality": "AR", "cv": (io.BytesIO(b"%PDF-1.4 Clara Nunes CV"), "Clara Nunes.pdf"),
        "csrf_token": csrf_from(html), "_once": ONCE_RE.search(html).group(1)})
    assert r.status_code == 302
    clara = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/applications").get_json()[2]
    r = hr.as_(HR).post(f"/api/v1/hr/recruitments/{ref}/applications/{ana['id']}/screening",
                        json={"screened_in": True, "comment": "Ana Souza's volunteer work counts as experience."})
    assert r.status_code == 200
    hr.must(HR, ref, "long_list")
    hr.must(HR, ref, "short_list")
    hr.score(ref, ana["id"], "70", "70", "70")
    hr.score(ref, bruno["id"], "90", "85", "88")
    hr.score(ref, clara["id"], "80", "80", "80")
    hr.must(HR, ref, "assess")
    hr.must(HR, ref, "recommend")
    hr.must(REQUESTER, ref, "select", payload={"application_id": bruno["id"]})
    hr.must(HR, ref, "offer")
    onboard(hr, ref, date.today() + timedelta(days=7))  # complete waits for the checklist
    hr.must(HR, ref, "complete")
    return ref


def test_after_the_purge_no_personal_field_of_a_non_selected_candidate_remains_anywhere(app, hr, client, web):
    ref = _completed_recruitment(hr, client)
    stats_before = hr.as_(MANAGER).get("/api/v1/hr/statistics").get_json()
    everything = _everything(app)
    for person in (ANA, BRUNO, CLARA):
        assert person["full_name"] in everything and person["email"] in everything

    runner = app.test_cli_runner()
    result = runner.invoke(args=["hr", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 candidate(s)")  # ended today: not 24 months ago

    with clock_at(utcnow() + timedelta(days=24 * 31)):
        result = runner.invoke(args=["hr", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 candidate(s) of 1 recruitment(s) purged"), result.output

    everything = _everything(app)
    for person in (ANA, CLARA):
        for field in ("full_name", "email", "phone"):
            assert person[field] not in everything, (person["full_name"], field)
    assert "Dora Referee" not in everything and "dora.referee@mail.example" not in everything
    assert "Souza" not in everything and "Nunes" not in everything
    # the selected candidate is kept
    assert BRUNO["full_name"] in everything and BRUNO["email"] in everything

    # the aggregates are the same, and the audit chain still verifies
    assert hr.as_(MANAGER).get("/api/v1/hr/statistics").get_json() == stats_before
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "intact" in verify.output

    # the report keeps its table, the removed names replaced
    rows = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/recommendation").get_json()["snapshot"]["rows"]
    assert [r["name"] for r in rows] == ["Bruno Reis", "Candidate 3 (personal data removed)",
                                         "Candidate 1 (personal data removed)"]
    assert web(HR).get(f"/hr/recruitments/{ref}/recommendation.pdf").status_code == 200

    # running it again finds nothing more
    with clock_at(utcnow() + timedelta(days=24 * 31)):
        assert runner.invoke(args=["hr", "purge"]).output.startswith("0 candidate(s)")


def test_the_months_option_overrides_the_setting_and_open_recruitments_are_never_purged(app, hr, client):
    _completed_recruitment(hr, client)
    open_ref = hr.advertised()
    hr.apply(open_ref, {**candidate("Eva Lopes"), "phone": "+55 61 2222 3333"})
    runner = app.test_cli_runner()
    with clock_at(utcnow() + timedelta(days=95)):
        assert runner.invoke(args=["hr", "purge", "--months", "4"]).output.startswith("0 candidate(s)")
        result = runner.invoke(args=["hr", "purge", "--months", "3"])
    assert result.output.startswith("2 candidate(s) of 1 recruitment(s)"), result.output
    everything = _everything(app)
    assert "Eva Lopes" in everything and "Ana Souza" not in everything


def test_the_purge_deletes_public_submissions_older_than_the_rate_limit_window(app, hr):
    from jof.hr.models import PublicSubmission
    from jof.hr.purge import purge

    with app.app_context():
        now = utcnow()
        db.session.add_all([PublicSubmission(token="old", address="a" * 64, at=now - timedelta(hours=2)),
                            PublicSubmission(token="new", address="b" * 64, at=now - timedelta(minutes=5))])
        db.session.commit()
        assert purge(now=now)["public_submissions"] == 1
        db.session.commit()
        assert list(db.session.scalars(select(PublicSubmission.token))) == ["new"]
