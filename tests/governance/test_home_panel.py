"""An open decision waits on the home page of each voting head until their agency votes."""

from __future__ import annotations

PANEL = "decisions wait for your agency&#39;s vote"


def _home(web, email: str) -> str:
    return web(email).get("/").get_data(as_text=True)


def test_an_open_decision_waits_for_each_voting_head_until_their_agency_votes(pages, web):
    decision_id = pages(lambda b: b.open(title="Adopt the 2027 budget").id)
    undp = _home(web, "head@undp.jof.example")
    assert PANEL in undp and "Adopt the 2027 budget" in undp
    pages(lambda b: b.vote(decision_id, "UNDP", "yes"))
    assert PANEL not in _home(web, "head@undp.jof.example")
    assert PANEL in _home(web, "head@unfpa.jof.example")


def test_partners_requesters_and_the_manager_have_no_vote_to_cast(pages, web):
    pages(lambda b: b.open(title="Adopt the 2027 budget").id)
    for email in ("head@unaids.jof.example", "requester@undp.jof.example", "manager@jof.example"):
        assert PANEL not in _home(web, email), email
