"""The list of decisions and the register of resolutions sort by each column both ways,
keep their filter across export and paging, export the page's rows and say what to do when
empty. Governance is transparent: every signed-in reader sees every decision."""

from __future__ import annotations

import re

import pytest

from jof.core.db import db
from jof.governance import lists
from jof.governance.models import Decision
from tests.governance.conftest import Board
from tests.listcheck import check_exports_match_the_page, check_filter_kept, check_sorts, csv_rows

REQUESTER = "requester@undp.jof.example"
STATUS = {"Draft": "draft", "Open": "open", "Closed": "closed"}
OUTCOME = {"Adopted": "adopted", "Rejected": "rejected", "No quorum": "no_quorum"}
KIND = {"General": "general", "Cost-sharing key": "cost_sharing_key"}


@pytest.fixture
def decided(app, demo):
    """Besides the founding key: a draft, an open decision, one adopted and one without quorum."""
    with app.app_context():
        b = Board()
        b.draft(title="charlie: a draft")
        b.open(title="delta: still open")
        adopted = b.open(title="alpha: longer hours")
        b.votes(adopted, yes=4, no=1)
        b.close(adopted)
        b.close(b.open(title="bravo: nobody voted"))
        db.session.remove()


def _titles(html: str) -> list[str]:
    return re.findall(r'href="/governance/decisions/\d+">([^<]+)</a>', html)


def _numbers(html: str) -> list[str]:
    return re.findall(r'href="/governance/decisions/\d+">(RES-[\d-]+)</a>', html)


def test_the_decision_list_sorts_by_each_column_and_exports_its_rows(web, decided):
    c = web(REQUESTER)
    check_sorts(c, "/governance/decisions", lists.DECISIONS, ident="title", shown=_titles,
                keys={"status": STATUS.get, "outcome": OUTCOME.get, "kind": KIND.get},
                empty_last=("closes", "outcome", "resolution"))
    check_exports_match_the_page(c, "/governance/decisions", ident="title", shown=_titles)
    assert len(csv_rows(c, "/governance/decisions")) == 5  # governance is open to every reader


def test_the_decision_status_filter_is_kept_and_an_emptied_list_says_so(app, web, decided, monkeypatch):
    monkeypatch.setattr("jof.governance.views.PER_PAGE", 1)
    c = web(REQUESTER)
    check_filter_kept(c, "/governance/decisions?status=closed", "status=closed")
    assert {r["status"] for r in csv_rows(c, "/governance/decisions?status=closed")} == {"Closed"}
    with app.app_context():
        db.session.query(Decision).filter(Decision.status == "draft").delete()
        db.session.commit()
    assert "No decision has this status" in c.get("/governance/decisions?status=draft").get_data(as_text=True)


def test_the_register_sorts_by_each_column_and_exports_the_votes(web, decided):
    c = web(REQUESTER)
    check_sorts(c, "/governance/resolutions", lists.RESOLUTIONS, ident="number", shown=_numbers,
                keys={"outcome": OUTCOME.get})
    check_exports_match_the_page(c, "/governance/resolutions", ident="number", shown=_numbers)
    votes = {r["title"]: r["votes"] for r in csv_rows(c, "/governance/resolutions")}
    assert votes["alpha: longer hours"].startswith("UNDP: Yes, UNEP: Yes")
    assert "UNWOMEN: Not voted" in votes["bravo: nobody voted"]


def test_the_outcome_filter_of_the_register_is_kept_and_an_emptied_register_says_so(web, decided, monkeypatch):
    monkeypatch.setattr("jof.governance.views.PER_PAGE", 1)
    c = web(REQUESTER)
    check_filter_kept(c, "/governance/resolutions?outcome=adopted", "outcome=adopted")
    assert [r["title"] for r in csv_rows(c, "/governance/resolutions?outcome=no_quorum")] == ["bravo: nobody voted"]
    assert "No resolution has this outcome" in c.get("/governance/resolutions?outcome=rejected").get_data(
        as_text=True)


def test_an_empty_register_says_where_decisions_are_voted(app, web, demo):
    with app.app_context():
        db.session.query(Decision).update({Decision.status: "open"})
        db.session.commit()
    html = web(REQUESTER).get("/governance/resolutions").get_data(as_text=True)
    assert "a decision enters the register with its number when its vote closes" in html


def test_the_decision_list_reads_in_portuguese(web, decided):
    from tests.conftest import csrf_from

    c = web(REQUESTER)
    c.post("/language", data={"locale": "pt_BR", "csrf_token": csrf_from(c.get("/").get_data(as_text=True))})
    html = c.get("/governance/decisions").get_data(as_text=True)
    assert "Aberta" in html and "Rascunho" in html and "Encerrada" in html
    assert [r["status"] for r in csv_rows(c, "/governance/decisions?status=open")] == ["Aberta"]
