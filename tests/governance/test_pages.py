"""The board pages a head and the public see: decision, ballot, register, resolution PDF."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from tests.conftest import csrf_from
from tests.governance.conftest import MANAGER, MEMBERS, PARTNER, head_email


def _text(response) -> str:
    return response.get_data(as_text=True)


def _digest_from(page: str) -> str:
    return re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)


def test_a_head_votes_on_the_decision_page_and_sees_the_ballot(pages, web):
    decision_id = pages(lambda b: b.open().id)
    client = web(head_email("UNEP"))
    page = _text(client.get(f"/governance/decisions/{decision_id}"))
    assert 'data-testid="my-vote" data-choice="">not cast yet<' in page
    r = client.post(f"/governance/decisions/{decision_id}/vote",
                    data={"choice": "abstain", "statement": "", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(f"/governance/decisions/{decision_id}"))
    assert 'data-testid="my-vote" data-choice="abstain">Abstain<' in page  # the label, not the code
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
    assert number in text and "Saturday opening" in text and "Adopted" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    label = {"yes": "Yes", "no": "No", "abstain": "Abstain", "not_voted": "Not voted"}
    for code in MEMBERS:
        assert f"{code} {label[votes[code]]}" in lines, (code, votes[code], lines)
    assert votes["UNWOMEN"] == "not_voted"


def test_an_open_decision_has_no_resolution_to_print(pages, web):
    decision_id = pages(lambda b: b.open().id)
    r = web(MANAGER).get(f"/governance/resolutions/{decision_id}.pdf")
    assert r.status_code == 409 and "Only a closed decision" in _text(r)


def test_the_register_shows_number_outcome_and_votes(pages, web):
    def decide(board):
        decision = board.open(title="Saturday opening")
        board.votes(decision, no=4)
        return board.close(decision).resolution_number

    number = pages(decide)
    page = _text(web("requester@unfpa.jof.example").get("/governance/resolutions"))
    assert number in page and "Saturday opening" in page
    assert "Rejected" in page and "UNDP: No" in page and "UNWOMEN: Not voted" in page


def test_the_manager_previews_and_records_an_allocation_on_the_costs_page(web):
    client = web(MANAGER)
    page = _text(client.get("/governance/costs"))
    r = client.post("/governance/costs", data={"action": "add", "category": "premises", "amount": "600.00",
                                               "description": "Rent", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert 'data-testid="allocation-premises"' in page and "Preview" in page
    digest = _digest_from(page)
    r = client.post("/governance/costs", data={"action": "record", "digest": digest, "csrf_token": csrf_from(page)})
    assert r.status_code == 422  # not confirmed
    r = client.post("/governance/costs", data={"action": "record", "confirm": "yes", "digest": digest,
                                               "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert "Recorded allocation" in page and 'data-testid="recorded-premises"' in page


def _propose_form(client, **fields):
    page = _text(client.get("/governance/decisions/new"))
    data = {"title": "Saturday opening", "text": "", "kind": "general", "threshold": "simple_majority",
            "quorum_rule": "more_than_half", **fields, "csrf_token": csrf_from(page)}
    return client.post("/governance/decisions/new", data=data)


@pytest.mark.parametrize("fields, field, message", [
    ({"title": ""}, "title", "Title: enter between 3 and 200 characters."),
    ({"title": "T" * 300}, "title", "Title: enter between 3 and 200 characters."),
    ({"kind": "coup"}, "kind", "Kind: choose one of the options offered."),
    ({"kind": "cost_sharing_key", "key_month": "2030-13", "key_equal": "100"}, "key_month",
     "Effective month: choose the month (YYYY-MM)."),
    ({"kind": "cost_sharing_key", "key_month": "2030-01", "key_equal": "abc"}, "key_equal",
     "Equal share: enter a percentage above 0 and at most 100"),
    ({"kind": "cost_sharing_key", "key_month": "2030-01", "key_equal": "90"}, "key_components",
     "Methods: Percentages must add up to 100"),
])
def test_the_propose_form_shows_what_is_wrong_and_keeps_the_input(web, fields, field, message):
    client = web(MANAGER)
    r = _propose_form(client, **{"text": "Kept text", **fields})
    page = _text(r)
    assert r.status_code == 422, page[:2000]
    assert message in html.unescape(page)
    assert "Kept text</textarea>" in page
    if field.startswith("key_"):
        for name in ("key_month", "key_equal"):
            assert f'name="{name}" value="{html.escape(fields[name])}"' in page
        if field != "key_components":
            assert re.search(rf'is-invalid [^"]*" type="\w+" id="{field}"', page)
    elif field == "title":
        assert 'is-invalid" id="title"' in page and html.escape(fields["title"]) in page


def test_the_propose_form_saves_a_draft(web):
    client = web(MANAGER)
    r = _propose_form(client, title="Saturday opening", kind="cost_sharing_key", key_month="2030-01",
                      key_equal="100")
    assert r.status_code == 302, _text(r)[:2000]
    page = _text(client.get(r.headers["Location"]))
    assert "Saturday opening" in page and "Open for voting" in page


def test_the_manager_edits_and_removes_a_pool_on_the_costs_page(web):
    client = web(MANAGER)
    page = _text(client.get("/governance/costs"))
    r = client.post("/governance/costs", data={"action": "add", "category": "premises", "amount": "600.00",
                                               "description": "Rent", "csrf_token": csrf_from(page)})
    page = _text(client.get(r.headers["Location"]))
    pool_id = re.search(r'name="action" value="edit"><input type="hidden" name="pool_id" value="(\d+)"', page).group(1)
    r = client.post("/governance/costs", data={"action": "edit", "pool_id": pool_id, "amount": "6.001",
                                               "description": "Rent", "csrf_token": csrf_from(page)})
    assert r.status_code == 422 and "Give the amount to the cent." in _text(r) and 'value="6.001"' in _text(r)
    r = client.post("/governance/costs", data={"action": "edit", "pool_id": pool_id, "amount": "660.00",
                                               "description": "Rent and cleaning", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert 'value="660.00"' in page and 'value="Rent and cleaning"' in page
    r = client.post("/governance/costs", data={"action": "delete", "pool_id": pool_id, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    assert "No pools entered for this month." in _text(client.get(r.headers["Location"]))


def test_a_stale_preview_is_not_recorded_from_the_costs_page(web):
    client = web(MANAGER)
    page = _text(client.get("/governance/costs"))
    r = client.post("/governance/costs", data={"action": "add", "category": "premises", "amount": "600.00",
                                               "description": "Rent", "csrf_token": csrf_from(page)})
    stale = _text(client.get(r.headers["Location"]))
    client.post("/governance/costs", data={"action": "add", "category": "staff", "amount": "10.00",
                                           "description": "", "csrf_token": csrf_from(stale)})
    r = client.post("/governance/costs", data={"action": "record", "confirm": "yes", "digest": _digest_from(stale),
                                               "csrf_token": csrf_from(stale)})
    assert r.status_code == 409 and "changed since your preview" in _text(r)
    assert "Recorded allocation" not in _text(client.get("/governance/costs"))


def test_the_board_lists_drafts_with_their_kind_as_a_label(pages, web):
    pages(lambda b: b.draft(title="Budget 2027", kind="budget").id)
    page = _text(web(MANAGER).get("/governance/"))
    assert "Budget 2027</a> (Budget)" in page
    assert "(budget)" not in page
