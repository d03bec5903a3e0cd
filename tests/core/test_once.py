"""Once-only submission: a form posted twice with its one-time token, and an API POST sent
twice with the same Idempotency-Key, each create exactly one object."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from jof.core.db import db
from jof.core.once import Submission
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from tests.conftest import TEST_PASSWORD, csrf_from, race

REQUESTER = "requester@undp.jof.example"
OTHER = "requester@unfpa.jof.example"
TICKET = {"title": "Projector in room 3 does not turn on", "description": "", "kind": "incident",
          "category": "hardware", "service": "", "urgency": "medium", "impact": "low"}
ONCE_RE = re.compile(r'name="_once" value="([^"]+)"')


def _count(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(ServiceRequest.id)))
        db.session.remove()
        return n


def _ticket_form(c) -> dict:
    html = c.get("/ict/tickets/new").get_data(as_text=True)
    once = re.search(r'<form[^>]*method="post"[^>]*>\s*<input type="hidden" name="_once" value="([^"]+)"', html)
    assert once, "the ticket form carries no one-time token"
    return {**TICKET, "csrf_token": csrf_from(html), "_once": once.group(1)}


# --- forms -----------------------------------------------------------------------------------


def test_every_post_form_of_a_page_carries_its_own_one_time_token(web):
    html = web(REQUESTER).get("/ict/tickets/new").get_data(as_text=True)
    post_forms = re.findall(r"<form[^>]*method=\"post\"", html, re.IGNORECASE)
    tokens = ONCE_RE.findall(html)
    assert len(post_forms) >= 2  # the ticket form, the language switch and logout
    assert len(tokens) == len(post_forms) and len(set(tokens)) == len(tokens)
    assert 'method="get"' not in html or all(
        "_once" not in f for f in re.findall(r"<form[^>]*method=\"get\"[^>]*>[^<]*<input[^>]*>", html))


def test_the_same_form_posted_twice_creates_one_ticket_and_lands_on_it_both_times(app, web):
    c = web(REQUESTER)
    data = _ticket_form(c)
    before = _count(app)
    first = c.post("/ict/tickets/new", data=data)
    second = c.post("/ict/tickets/new", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert re.search(r"/ict/tickets/ICT-\d{4}-\d{5}$", first.headers["Location"])
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count(app) == before + 1


def test_a_new_rendering_of_the_form_creates_a_new_ticket(app, web):
    c = web(REQUESTER)
    before = _count(app)
    one = c.post("/ict/tickets/new", data=_ticket_form(c))
    two = c.post("/ict/tickets/new", data=_ticket_form(c))
    assert one.headers["Location"] != two.headers["Location"]
    assert _count(app) == before + 2


def test_a_refused_form_does_not_use_up_its_token(app, web):
    c = web(REQUESTER)
    data = _ticket_form(c)
    before = _count(app)
    refused = c.post("/ict/tickets/new", data={**data, "title": ""})
    assert refused.status_code == 422
    corrected = c.post("/ict/tickets/new", data=data)
    assert corrected.status_code == 302 and "Idempotent-Replayed" not in corrected.headers
    assert _count(app) == before + 1


def test_a_form_token_belongs_to_the_user_who_sent_it(app, web):
    mine, theirs = web(REQUESTER), web(OTHER)
    data = _ticket_form(mine)
    before = _count(app)
    mine.post("/ict/tickets/new", data=data)
    other = theirs.post("/ict/tickets/new", data={**data, "csrf_token": csrf_from(
        theirs.get("/ict/tickets/new").get_data(as_text=True))})
    assert other.status_code == 302 and "Idempotent-Replayed" not in other.headers
    assert _count(app) == before + 2


def test_an_expired_form_token_acts_again(app, web):
    c = web(REQUESTER)
    data = _ticket_form(c)
    before = _count(app)
    c.post("/ict/tickets/new", data=data)
    with app.app_context():
        db.session.execute(Submission.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    again = c.post("/ict/tickets/new", data=data)
    assert again.status_code == 302 and "Idempotent-Replayed" not in again.headers
    assert _count(app) == before + 2


# --- API ---------------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_give_the_same_answer_and_one_ticket(app, api):
    client = api(REQUESTER)
    before = _count(app)
    headers = {"Idempotency-Key": "ticket-projector-1"}
    first = client.post("/api/v1/ict/tickets", json=TICKET, headers=headers)
    second = client.post("/api/v1/ict/tickets", json=dict(reversed(list(TICKET.items()))), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers.get("Location") == first.headers.get("Location")
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count(app) == before + 1


def test_the_same_idempotency_key_with_another_body_is_refused_with_422(app, api):
    client = api(REQUESTER)
    headers = {"Idempotency-Key": "ticket-projector-2"}
    assert client.post("/api/v1/ict/tickets", json=TICKET, headers=headers).status_code == 201
    before = _count(app)
    r = client.post("/api/v1/ict/tickets", json={**TICKET, "title": "Another projector"}, headers=headers)
    assert r.status_code == 422
    body = r.get_json()
    assert set(body) >= {"status", "title", "detail", "errors"}
    assert "Idempotency-Key" in body["errors"]
    assert _count(app) == before


def test_idempotency_keys_are_per_user(app, api):
    headers = {"Idempotency-Key": "shared-key"}
    before = _count(app)
    a = api(REQUESTER).post("/api/v1/ict/tickets", json=TICKET, headers=headers)
    b = api(OTHER).post("/api/v1/ict/tickets", json=TICKET, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.get_json()["reference"] != b.get_json()["reference"]
    assert _count(app) == before + 2


def test_without_a_key_each_post_creates(app, api):
    client = api(REQUESTER)
    before = _count(app)
    client.post("/api/v1/ict/tickets", json=TICKET)
    client.post("/api/v1/ict/tickets", json=TICKET)
    assert _count(app) == before + 2


def test_a_refused_call_does_not_keep_its_key(app, api):
    client = api(REQUESTER)
    headers = {"Idempotency-Key": "retry-after-fixing"}
    assert client.post("/api/v1/ict/tickets", json={**TICKET, "title": ""}, headers=headers).status_code == 422
    assert client.post("/api/v1/ict/tickets", json=TICKET, headers=headers).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 101, "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused_with_422(api, key):
    r = api(REQUESTER).post("/api/v1/ict/tickets", json=TICKET, headers={"Idempotency-Key": key})
    assert r.status_code == 422
    assert "Idempotency-Key" in r.get_json()["errors"]


def test_the_api_documents_the_idempotency_key_on_every_post(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    posts = [(path, op) for path, item in spec["paths"].items() for method, op in item.items() if method == "post"]
    assert posts
    for path, op in posts:
        if op.get("security") == []:  # the anonymous token exchange has no user to scope keys by
            continue
        names = [p.get("name") for p in op.get("parameters", [])]
        assert "Idempotency-Key" in names, path


# --- in parallel --------------------------------------------------------------------------------


def _token(live: str, email: str) -> str:
    r = requests.post(f"{live}/api/v1/auth/token", json={"email": email, "password": TEST_PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["token"]


@pytest.mark.parametrize("n", [2, 6])
def test_parallel_posts_with_one_idempotency_key_create_one_ticket(app, demo, live_server, n):
    token = _token(live_server, REQUESTER)
    before = _count(app)

    def post(_i):
        return requests.post(f"{live_server}/api/v1/ict/tickets", json=TICKET, timeout=60,
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{n}"})

    answers = race(n, post)
    assert all(not isinstance(a, BaseException) for a in answers), answers
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    created = {a.json()["reference"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert _count(app) == before + 1


@pytest.mark.postgres_only
def test_parallel_form_posts_with_one_token_create_one_ticket_on_postgresql(app, demo, live_server):
    s = requests.Session()
    login = s.get(f"{live_server}/login").text
    s.post(f"{live_server}/login", data={"email": REQUESTER, "password": TEST_PASSWORD,
                                         "csrf_token": csrf_from(login)}, timeout=30)
    html = s.get(f"{live_server}/ict/tickets/new").text
    once = re.search(r'<form[^>]*method="post"[^>]*>\s*<input type="hidden" name="_once" value="([^"]+)"', html)
    data = {**TICKET, "csrf_token": csrf_from(html), "_once": once.group(1)}
    cookies = s.cookies.get_dict()
    before = _count(app)

    def post(_i):
        return requests.post(f"{live_server}/ict/tickets/new", data=data, cookies=cookies,
                             allow_redirects=False, timeout=60)

    answers = race(4, post)
    assert all(not isinstance(a, BaseException) for a in answers), answers
    assert {a.status_code for a in answers} <= {302, 409}
    assert len({a.headers["Location"] for a in answers if a.status_code == 302}) == 1
    assert _count(app) == before + 1


def test_expired_tokens_are_deleted_as_new_ones_are_used(app, web):
    c = web(REQUESTER)
    c.post("/ict/tickets/new", data=_ticket_form(c))
    with app.app_context():
        db.session.execute(Submission.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    c.post("/ict/tickets/new", data=_ticket_form(c))
    with app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        assert len(rows) == 1 and rows[0].expires_at > utcnow()
        db.session.remove()
