"""Refusals and notifications name a state by its label in the reader's language, never by
its code (issue 13, "Labels, not codes, everywhere"): a Portuguese reader reads "enviada",
not "submitted"."""

from __future__ import annotations

import re

from sqlalchemy import select

from jof.core import services
from jof.core.db import db
from jof.core.notifications import Notification
from jof.core.people import User
from tests.core.test_views import post_form, text
from tests.ict.test_tickets import file, move

REQUESTER = "requester@undp.jof.example"
MANAGER = "manager@jof.example"
ICT = "ict@jof.example"


def _speaks(app, email: str, locale: str = "pt_BR") -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        services.set_locale(user, locale, app.config["JOF_LANGUAGES"])
        db.session.commit()


def test_an_impossible_step_is_refused_with_the_state_and_the_steps_open_in_portuguese(app, web, make):
    ref = make.request(REQUESTER, status="submitted")
    _speaks(app, MANAGER)
    r = post_form(web(MANAGER), f"/requests/{ref}/transitions", {"action": "complete", "version": "2"},
                  page=f"/requests/{ref}")
    assert r.status_code == 409
    said = re.search(r'data-testid="error">([^<]*)<', text(r)).group(1)
    assert said == "“Concluir” não é possível enquanto a solicitação está enviada. Possível agora: Aprovar, Rejeitar, Cancelar."


def test_the_requester_is_told_of_a_step_in_their_own_language_whatever_the_actors(app, web, make):
    ref = make.request(REQUESTER, status="submitted")
    _speaks(app, REQUESTER)  # the manager who acts reads English
    r = post_form(web(MANAGER), f"/requests/{ref}/transitions", {"action": "approve", "version": "2"},
                  page=f"/requests/{ref}")
    assert r.status_code == 302, text(r)[:500]
    with app.app_context():
        requester = db.session.scalar(select(User).where(User.email == REQUESTER))
        told = db.session.scalars(select(Notification.message).where(Notification.user_id == requester.id)).all()
    assert any(ref in m and "Aprovada por" in m and "agora aprovada." in m for m in told), told


def test_a_closed_tickets_priority_refusal_names_its_state_in_portuguese(app, api):
    ref = file(api(REQUESTER))["reference"]
    ict = api(ICT)
    move(ict, ref, "take")
    move(ict, ref, "resolve", comment="Outbox emptied.")
    _speaks(app, ICT)
    version = ict.get(f"/api/v1/ict/tickets/{ref}").get_json()["version"]
    r = ict.patch(f"/api/v1/ict/tickets/{ref}", json={"urgency": "low", "impact": "low", "version": version})
    assert r.status_code == 409
    assert r.get_json()["detail"] == "Situação do chamado: resolvida; sua prioridade não muda mais."


def test_a_tickets_category_is_a_word_of_the_readers_language(app, api, web):
    ref = file(api(REQUESTER), category="network")["reference"]
    _speaks(app, REQUESTER)
    page = text(web(REQUESTER).get(f"/ict/tickets/{ref}"))
    assert "Incidente · rede" in page or "· rede" in page
    new = text(web(REQUESTER).get("/ict/tickets/new"))
    assert '<option value="network">Rede</option>' in new and ">Network<" not in new
