"""The board pages a head and the public see: decision, ballot, register, resolution PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.conftest import csrf_from
from tests.governance.conftest import MANAGER, MEMBERS, PARTNER, head_email


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_head_votes_on_the_decision_page_and_sees_the_ballot(pages, web):
    decision_id = pages(lambda b: b.open().id)
    client = web(head_email("UNEP"))
    page = _text(client.get(f"/governance/decisions/{decision_id}"))
    assert 'data-testid="my-vote">not cast yet<' in page
    r = client.post(f"/governance/decisions/{decision_id}/vote",
                    data={"choice": "abstain", "statement": "", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(f"/governance/decisions/{decision_id}"))
    assert 'data-testid="my-vote">abstain<' in page
    # The board page lists who has voted so far.
    assert "UNEP" in _text(client.get("/governance/"))


def test_the_partners_head_sees_the_decision_but_gets_no_ballot(pages, web):
    decision_id = pages(lambda b: b.open().id)
    client = web(head_email(PARTNER))
    page = _text(client.get(f"/governance/decisions/{decision_id}"))
    assert "Cast vote" not in page
    r = client.post(f"/governance/decisions/{decision_id}/vote",
                    data={"choice": "yes", "csrf_token": csrf_from(page)})
    assert r.status_code == 403
    assert "do not vote" in _text(r)


def test_the_resolution_pdf_lists_the_number_and_each_agencys_vote(pages, web):
    def decide(board):
        decision = board.open(title="Saturday opening")
        board.votes(decision, yes=3, no=1, abstain=1)
        closed = board.close(decision)
        return decision.id, closed.resolution_number, closed.tally["votes"]

    decision_id, number, votes = pages(decide)
    r = web(head_email(PARTNER)).get(f"/governance/resolutions/{decision_id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert number in text and "Saturday opening" in text and "adopted" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for code in MEMBERS:
        assert f"{code} {votes[code]}" in lines, (code, votes[code], lines)
    assert votes["UNWOMEN"] == "not_voted"


def test_an_open_decision_has_no_resolution_to_print(pages, web):
    decision_id = pages(lambda b: b.open().id)
    assert web(MANAGER).get(f"/governance/resolutions/{decision_id}.pdf").status_code == 422


def test_the_register_shows_number_outcome_and_votes(pages, web):
    def decide(board):
        decision = board.open(title="Saturday opening")
        board.votes(decision, no=4)
        return board.close(decision).resolution_number

    number = pages(decide)
    page = _text(web("requester@unfpa.jof.example").get("/governance/resolutions"))
    assert number in page and "Saturday opening" in page
    assert "rejected" in page and "UNDP: no" in page and "UNWOMEN: not_voted" in page


def test_the_manager_previews_and_records_an_allocation_on_the_costs_page(web):
    client = web(MANAGER)
    page = _text(client.get("/governance/costs"))
    r = client.post("/governance/costs", data={"action": "add", "category": "premises", "amount": "600.00",
                                               "description": "Rent", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert 'data-testid="allocation-premises"' in page and "Preview" in page
    r = client.post("/governance/costs", data={"action": "record", "csrf_token": csrf_from(page)})
    assert r.status_code == 422  # not confirmed
    r = client.post("/governance/costs", data={"action": "record", "confirm": "yes", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    assert "Recorded allocation" in _text(client.get(r.headers["Location"]))
