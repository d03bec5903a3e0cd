"""Helpers of the HR tests: a recruitment filed and walked through the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

REQUESTER = "requester@undp.jof.example"
HEAD = "head@undp.jof.example"
MANAGER = "manager@jof.example"
HR = "hr@jof.example"
HR2 = "hr2@jof.example"

def closing_in(days: int) -> str:
    """A closing date ``days`` ahead of today: a vacancy may not close in the past."""
    return (date.today() + timedelta(days=days)).isoformat()


PLAN = [{"name": "Desk review", "weight": 30}, {"name": "Written test", "weight": 30},
        {"name": "Interview", "weight": 40}]


def recruitment_body(**over) -> dict:
    body = {
        "post_title": "Finance Associate", "job_family": "Finance", "level": "G-6",
        "contract_type": "fixed_term", "duty_station": "Brasília", "closing_date": closing_in(40),
        "estimated_cost_usd": "9000.00", "min_education": "bachelor", "min_years_experience": 5,
        "required_languages": ["Portuguese", "English"], "desirable_languages": ["Spanish"],
        "methods": PLAN, "pass_mark": "70",
    }
    body.update(over)
    return body


def candidate(name: str, years: int = 6, education: str = "master",
              languages=("Portuguese", "English")) -> dict:
    return {"full_name": name, "email": f"{name.lower().replace(' ', '.')}@mail.example",
            "education": education, "years_experience": years, "languages": list(languages)}


class Recruitments:
    """Drive recruitments through the API as the demo users."""

    def __init__(self, api):
        self.api = api
        self.clients: dict = {}

    def as_(self, email: str):
        if email not in self.clients:
            self.clients[email] = self.api(email)
        return self.clients[email]

    def file(self, email: str = REQUESTER, **over) -> dict:
        r = self.as_(email).post("/api/v1/hr/recruitments", json=recruitment_body(**over))
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def move(self, email: str, ref: str, action: str, comment: str = "", payload=None):
        version = self.as_(email).get(f"/api/v1/requests/{ref}").get_json()["version"]
        return self.as_(email).post(f"/api/v1/requests/{ref}/transitions", json={
            "action": action, "version": version, "comment": comment, "payload": payload})

    def must(self, email: str, ref: str, action: str, **kw) -> dict:
        r = self.move(email, ref, action, **kw)
        assert r.status_code == 200, (action, r.get_json())
        return r.get_json()

    def apply(self, ref: str, body: dict, email: str = HR) -> dict:
        r = self.as_(email).post(f"/api/v1/hr/recruitments/{ref}/applications", json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def score(self, ref: str, application_id: int, desk: str, test: str, interview: str, email: str = HR):
        r = self.as_(email).post(f"/api/v1/hr/recruitments/{ref}/applications/{application_id}/scores", json={
            "scores": [{"method": "Desk review", "score": desk}, {"method": "Written test", "score": test},
                       {"method": "Interview", "score": interview}]})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def advertised(self, **over) -> str:
        """A recruitment filed by UNDP, submitted, approved and advertised: its reference."""
        ref = self.file(**over)["reference"]
        self.must(REQUESTER, ref, "submit")
        self.must(MANAGER, ref, "approve")
        self.must(HR, ref, "advertise")
        return ref

    def short_listed(self, people: list[dict], **over) -> tuple[str, list[dict]]:
        ref = self.advertised(**over)
        apps = [self.apply(ref, p) for p in people]
        self.must(HR, ref, "long_list")
        self.must(HR, ref, "short_list")
        return ref, apps


@pytest.fixture
def hr(api) -> Recruitments:
    return Recruitments(api)
