"""One agency, one vote: who votes, quorum and thresholds, changes, closing (DESIGN §6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jof.core.audit import AuditEvent
from jof.core.counters import Counter
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden
from jof.core.timeutil import utcnow
from jof.governance import decisions, votes
from jof.governance.models import Decision, Vote
from tests.governance.conftest import MANAGER, MEMBERS, PARTNER, head_email


def _vote_path(decision_id: int) -> str:
    return f"/api/v1/governance/decisions/{decision_id}/vote"


# --- who votes ------------------------------------------------------------------------


def test_the_voting_members_are_the_six_member_agencies_when_the_decision_opens(board):
    decision = board.open()
    assert [v.agency.code for v in decision.voters] == MEMBERS
    assert PARTNER not in [v.agency.code for v in decision.voters]


def test_the_partners_head_is_refused_with_the_reason(board, api):
    decision = board.open()
    r = api(head_email(PARTNER)).put(_vote_path(decision.id), json={"choice": "yes"})
    assert r.status_code == 403
    detail = r.get_json()["detail"]
    assert "partner" in detail and "do not vote" in detail
    assert db.session.scalar(select(func.count(Vote.id))) == 0


@pytest.mark.parametrize("email, reason", [
    (MANAGER, "Facility staff do not vote"),
    ("procurement@jof.example", "Facility staff do not vote"),
    ("requester@undp.jof.example", "Only the head of UNDP"),
    ("auditor@jof.example", ""),
])
def test_staff_requesters_and_the_auditor_cannot_vote(board, api, email, reason):
    decision = board.open()
    r = api(email).put(_vote_path(decision.id), json={"choice": "yes"})
    assert r.status_code == 403, r.get_json()
    assert reason in r.get_json()["detail"]
    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_a_head_votes_through_the_api_and_reads_the_vote_back(board, api):
    decision = board.open()
    undp = api(head_email("UNDP"))
    r = undp.put(_vote_path(decision.id), json={"choice": "no", "statement": "Too costly."})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["agency"] == "UNDP" and r.get_json()["choice"] == "no"
    mine = undp.get(_vote_path(decision.id)).get_json()
    assert mine["choice"] == "no" and mine["statement"] == "Too costly."
    shown = undp.get(f"/api/v1/governance/decisions/{decision.id}").get_json()
    assert shown["voted"] == ["UNDP"] and shown["status"] == "open"


def test_a_vote_must_be_yes_no_or_abstain(board, api):
    decision = board.open()
    r = api(head_email("UNDP")).put(_vote_path(decision.id), json={"choice": "maybe"})
    assert r.status_code == 422


def test_the_named_alternate_casts_the_agencys_single_vote(board):
    from jof.core.people import Agency

    alternate = board.user("requester@undp.jof.example")
    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    undp.alternate_id = alternate.id
    db.session.commit()
    decision = board.open()

    votes.cast_vote(alternate, decision.id, "yes")
    db.session.commit()
    board.vote(decision, "UNDP", "no")  # the head overrides: still one vote for UNDP

    rows = db.session.scalars(select(Vote).where(Vote.decision_id == decision.id)).all()
    assert [(r.agency.code, r.choice, r.cast_by.email, r.changes) for r in rows] == [
        ("UNDP", "no", head_email("UNDP"), 1)]
    assert decisions.count(decision).votes["UNDP"] == "no"
    assert decisions.count(decision).no == 1 and decisions.count(decision).yes == 0
    # An alternate of UNDP is nobody for UNFPA.
    other = board.user("requester@unfpa.jof.example")
    with pytest.raises(Forbidden):
        votes.cast_vote(other, decision.id, "yes")


# --- quorum and thresholds --------------------------------------------------------------


def test_three_of_six_voting_is_no_quorum_under_the_default_rule(board):
    decision = board.open()
    board.votes(decision, yes=3)
    closed = board.close(decision)
    assert closed.outcome == "no_quorum"
    assert closed.tally["quorum_met"] is False
    assert closed.tally["not_voted"] == 3


def test_four_of_six_voting_is_a_quorum(board):
    decision = board.open()
    board.votes(decision, yes=3, no=1)
    closed = board.close(decision)
    assert closed.tally["quorum_met"] is True
    assert closed.outcome == "adopted"


def test_two_thirds_is_met_by_exactly_four_yes_of_six(board):
    decision = board.open(threshold="two_thirds")
    board.votes(decision, yes=4)
    assert board.close(decision).outcome == "adopted"


@pytest.mark.parametrize("fourth", ["no", "abstain"])
def test_two_thirds_is_missed_by_three_yes_of_six(board, fourth):
    decision = board.open(threshold="two_thirds")
    board.votes(decision, yes=3, **{fourth: 1})
    closed = board.close(decision)
    assert closed.tally["quorum_met"] is True and closed.tally["threshold_met"] is False
    assert closed.outcome == "rejected"


def test_two_thirds_counts_all_voting_members_not_only_those_who_voted(board):
    # 4 of 4 cast votes are yes, yet 4 yes of 6 members is exactly two thirds; 3 of 4 is not.
    decision = board.open(threshold="two_thirds")
    board.votes(decision, yes=3, abstain=1)
    assert board.close(decision).outcome == "rejected"


def test_unanimity_needs_every_member_yes(board):
    adopted = board.open(threshold="unanimity")
    board.votes(adopted, yes=6)
    db.session.refresh(adopted)
    # Everyone voted, so it closed at once, before its closing time.
    assert adopted.status == "closed" and adopted.outcome == "adopted"
    assert adopted.closed_at < adopted.closes_at

    rejected = board.open(threshold="unanimity")
    board.votes(rejected, yes=5, abstain=1)
    db.session.refresh(rejected)
    assert rejected.status == "closed" and rejected.outcome == "rejected"


def test_abstentions_count_for_the_quorum_only(board):
    carried = board.open()
    board.votes(carried, yes=1, abstain=3)
    closed = board.close(carried)
    assert (closed.tally["yes"], closed.tally["no"], closed.tally["abstain"]) == (1, 0, 3)
    assert closed.outcome == "adopted"

    silent = board.open()
    board.votes(silent, abstain=4)
    closed = board.close(silent)
    assert closed.tally["quorum_met"] is True
    assert closed.outcome == "rejected"


def test_a_tie_is_not_a_simple_majority(board):
    decision = board.open()
    board.votes(decision, yes=2, no=2)
    assert board.close(decision).outcome == "rejected"


# --- changing a vote --------------------------------------------------------------------


def test_a_vote_changed_twice_counts_once_and_both_changes_are_audited(board):
    decision = board.open()
    board.vote(decision, "UNDP", "yes")
    board.vote(decision, "UNDP", "no", "On reflection, no.")
    board.vote(decision, "UNDP", "abstain")

    rows = db.session.scalars(select(Vote).where(Vote.decision_id == decision.id)).all()
    assert len(rows) == 1 and rows[0].choice == "abstain" and rows[0].changes == 2
    tally = decisions.count(decision)
    assert (tally.yes, tally.no, tally.abstain, tally.not_voted) == (0, 0, 1, 5)

    changes = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "vote.change", AuditEvent.object_id == str(decision.id))
        .order_by(AuditEvent.seq)).all()
    assert [(e.before["choice"], e.after["choice"]) for e in changes] == [("yes", "no"), ("no", "abstain")]
    assert changes[0].after["statement"] == "On reflection, no."
    assert all(e.actor_email == head_email("UNDP") for e in changes)
    casts = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "vote.cast", AuditEvent.object_id == str(decision.id)))
    assert casts == 1


# --- open and closed decisions never change ---------------------------------------------


def test_an_open_decision_cannot_be_edited(board, api):
    decision = board.open()
    r = api(MANAGER).patch(f"/api/v1/governance/decisions/{decision.id}", json={"title": "Something else"})
    assert r.status_code == 409
    db.session.refresh(decision)
    assert decision.title == "Extend the facility's opening hours"


def test_a_draft_can_be_edited_by_its_proposer(board, api):
    decision = board.draft(by=head_email("UNFPA"))
    r = api(head_email("UNFPA")).patch(f"/api/v1/governance/decisions/{decision.id}",
                                       json={"title": "Open on Saturdays"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.get_json()["title"] == "Open on Saturdays"
    r = api(head_email("UNDP")).patch(f"/api/v1/governance/decisions/{decision.id}", json={"title": "Not my draft"})
    assert r.status_code == 403


def test_votes_after_the_closing_time_are_refused(board, api):
    decision = board.open()
    board.move_closing_time(decision, utcnow() - timedelta(minutes=1))
    r = api(head_email("UNDP")).put(_vote_path(decision.id), json={"choice": "yes"})
    assert r.status_code == 409
    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_closing_before_time_is_refused_unless_everyone_voted(board, api):
    decision = board.open()
    board.votes(decision, yes=5)
    r = api(MANAGER).post(f"/api/v1/governance/decisions/{decision.id}/close")
    assert r.status_code == 409
    db.session.refresh(decision)
    assert decision.status == "open" and decision.resolution_number is None


def test_closing_is_idempotent_and_consumes_one_number(board):
    decision = board.open()
    board.votes(decision, yes=4)
    first = board.close(decision)
    number, tally, closed_at = first.resolution_number, dict(first.tally), first.closed_at
    year = closed_at.year
    counter = db.session.get(Counter, f"resolution:{year}").value

    again = board.close(decision, now=closed_at + timedelta(days=3))
    assert again.resolution_number == number
    assert again.tally == tally and again.closed_at == closed_at
    db.session.expire_all()
    assert db.session.get(Counter, f"resolution:{year}").value == counter
    assert number == f"RES-{year}-{counter:03d}"


def test_the_closed_record_never_changes(board, api):
    decision = board.open()
    board.votes(decision, yes=2, no=1, abstain=1)
    closed = board.close(decision)
    frozen = api(MANAGER).get(f"/api/v1/governance/decisions/{decision.id}").get_json()

    assert api(head_email("UNOPS")).put(_vote_path(decision.id), json={"choice": "yes"}).status_code == 409
    assert api(head_email("UNDP")).put(_vote_path(decision.id), json={"choice": "no"}).status_code == 409
    assert api(MANAGER).patch(f"/api/v1/governance/decisions/{decision.id}",
                              json={"title": "Rewritten"}).status_code == 409
    assert api(MANAGER).post(f"/api/v1/governance/decisions/{decision.id}/open",
                             json={"closes_at": (utcnow() + timedelta(days=1)).isoformat()}).status_code == 409
    assert api(MANAGER).post(f"/api/v1/governance/decisions/{decision.id}/close").status_code == 200
    assert api(MANAGER).get(f"/api/v1/governance/decisions/{decision.id}").get_json() == frozen
    assert frozen["resolution_number"] == closed.resolution_number


def test_the_tally_lists_each_agencys_vote(board, api):
    decision = board.open()
    board.vote(decision, "UNESCO", "yes")
    board.vote(decision, "UNDP", "no")
    board.vote(decision, "UNWOMEN", "abstain")
    board.vote(decision, "UNEP", "yes")
    board.close(decision)
    body = api(head_email(PARTNER)).get("/api/v1/governance/resolutions").get_json()
    item = next(i for i in body["items"] if i["id"] == decision.id)
    assert item["tally"]["votes"] == {"UNDP": "no", "UNEP": "yes", "UNESCO": "yes", "UNFPA": "not_voted",
                                      "UNOPS": "not_voted", "UNWOMEN": "abstain"}
    assert (item["tally"]["yes"], item["tally"]["no"], item["tally"]["abstain"],
            item["tally"]["not_voted"]) == (2, 1, 1, 2)
    assert item["outcome"] == "adopted"


def test_resolution_numbers_are_gapless_whatever_the_outcome(board):
    year = utcnow().year
    decisions = [board.open(title=f"Decision {n}") for n in range(4)]
    board.votes(decisions[0], yes=4)
    board.votes(decisions[1], no=4)
    board.votes(decisions[2], yes=1)  # no quorum
    board.votes(decisions[3], yes=6)  # closes early by itself
    at = utcnow() + timedelta(days=8)
    numbers = [board.close(d, now=at).resolution_number for d in decisions[:3]]
    db.session.refresh(decisions[3])
    numbers.append(decisions[3].resolution_number)
    # The founding key of the demo is resolution 001; the last one closed first.
    assert sorted(numbers) == [f"RES-{year}-{n:03d}" for n in (2, 3, 4, 5)]
    assert decisions[3].resolution_number == f"RES-{year}-002"


def test_close_due_closes_the_decisions_whose_time_has_come_and_no_other(board, app):
    due = board.open(title="Due")
    later = board.open(title="Later")
    board.votes(due, yes=4)
    board.votes(later, yes=4)
    board.move_closing_time(due, utcnow() - timedelta(seconds=1))

    result = app.test_cli_runner().invoke(args=["governance", "close-due"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    due, later = db.session.get(Decision, due.id), db.session.get(Decision, later.id)
    assert due.status == "closed" and due.outcome == "adopted"
    assert due.resolution_number in result.output and "closed 1 decision" in result.output
    assert later.status == "open" and later.resolution_number is None

    again = app.test_cli_runner().invoke(args=["governance", "close-due"])
    assert again.exit_code == 0 and "closed 0 decision" in again.output
    db.session.expire_all()
    assert db.session.get(Decision, due.id).resolution_number == due.resolution_number


def test_close_due_takes_a_given_time(board):
    first = board.open(closes_in=timedelta(days=1))
    second = board.open(closes_in=timedelta(days=3))
    closed = decisions.close_due(now=utcnow() + timedelta(days=2))
    db.session.commit()
    db.session.expire_all()
    assert closed == [db.session.get(Decision, first.id).resolution_number]
    assert db.session.get(Decision, second.id).status == "open"


def test_heads_and_the_resident_coordinator_are_notified_when_a_decision_opens(board):
    from jof.core.notifications import Notification

    decision = board.open()  # by the manager, who is not told of their own move
    notified = db.session.scalars(select(Notification).where(
        Notification.link == f"/governance/decisions/{decision.id}")).all()
    heads = {board.head(c).id for c in MEMBERS}
    assert sorted(n.user_id for n in notified) == sorted(heads | {board.user("rc@jof.example").id})


def test_only_the_manager_or_a_member_head_proposes(board, api):
    body = {"title": "Buy a bigger printer"}
    assert api(head_email("UNDP")).post("/api/v1/governance/decisions", json=body).status_code == 201
    assert api(MANAGER).post("/api/v1/governance/decisions", json=body).status_code == 201
    for email in (head_email(PARTNER), "requester@undp.jof.example", "auditor@jof.example"):
        assert api(email).post("/api/v1/governance/decisions", json=body).status_code == 403, email


def test_a_decision_cannot_be_opened_with_a_past_closing_time(board):
    decision = board.draft()
    from jof.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        decisions.open_decision(board.user(MANAGER), decision, utcnow() - timedelta(hours=1))
    with pytest.raises(Conflict):
        votes.cast_vote(board.head("UNDP"), decision.id, "yes")


@pytest.mark.parametrize("rule, voters, quorate", [
    ("two_thirds", 4, True), ("two_thirds", 3, False), ("all", 6, True), ("all", 5, False),
    ("more_than_half", 4, True), ("more_than_half", 3, False),
])
def test_stricter_quorum_rules(board, rule, voters, quorate):
    decision = board.open(quorum_rule=rule)
    board.votes(decision, yes=voters)
    closed = board.close(decision)
    assert closed.tally["quorum_met"] is quorate
    assert closed.outcome == ("adopted" if quorate else "no_quorum")


def test_an_agency_that_was_not_a_member_when_the_decision_opened_does_not_vote_on_it(board):
    from jof.core.people import Agency

    decision = board.open()
    unaids = db.session.scalar(select(Agency).where(Agency.code == PARTNER))
    unaids.membership = "member"  # made a member after the decision opened
    db.session.commit()
    with pytest.raises(Forbidden, match="not a voting member"):
        votes.cast_vote(board.head(PARTNER), decision.id, "yes")


def test_a_member_made_partner_while_a_decision_is_open_still_casts_the_vote_it_counts_for(board, api):
    from jof.core.people import Agency

    decision = board.open()
    undp = db.session.scalar(select(Agency).where(Agency.code == "UNDP"))
    undp.membership = "partner"  # the snapshot taken at opening still counts UNDP
    db.session.commit()
    r = api(head_email("UNDP")).put(f"/api/v1/governance/decisions/{decision.id}/vote", json={"choice": "no"})
    assert r.status_code == 200, r.get_json()
    for code in MEMBERS[1:]:
        board.vote(decision, code, "yes")  # the sixth vote closes it: UNDP's counted
    db.session.refresh(decision)
    assert decision.status == "closed" and decision.tally["votes"]["UNDP"] == "no"
    assert decision.tally["no"] == 1 and decision.tally["yes"] == 5
    # A decision opened now no longer has UNDP among its voters.
    later = board.open(title="Opened after UNDP became a partner")
    r = api(head_email("UNDP")).put(f"/api/v1/governance/decisions/{later.id}/vote", json={"choice": "no"})
    assert r.status_code == 403 and "partner" in r.get_json()["detail"]


def test_close_due_logs_a_decision_that_cannot_close_and_closes_the_others(board, app, caplog):
    from sqlalchemy import update

    broken = board.open(title="Broken")
    clean = board.open(title="Clean")
    board.votes(broken, yes=4)
    board.votes(clean, yes=4)
    # Data written around the services: an effect without a date, which cannot apply.
    db.session.execute(update(Decision).where(Decision.id == broken.id).values(
        payload={"components": {"equal": "100"}}))
    db.session.commit()
    board.move_closing_time(broken, utcnow() - timedelta(minutes=2))
    board.move_closing_time(clean, utcnow() - timedelta(minutes=1))

    for _ in range(2):  # the broken one stays open and is retried, never blocking the other
        result = app.test_cli_runner().invoke(args=["governance", "close-due"])
        assert result.exit_code == 0, result.output
    assert "could not be closed" in caplog.text
    db.session.expire_all()
    assert db.session.get(Decision, clean.id).status == "closed"
    assert db.session.get(Decision, broken.id).status == "open"
    assert db.session.get(Decision, broken.id).resolution_number is None
    year = utcnow().year
    assert db.session.get(Decision, clean.id).resolution_number == f"RES-{year}-002"  # no gap left


def test_a_title_too_long_for_its_column_is_refused_by_the_service_too(board):
    from jof.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        decisions.propose(board.user(MANAGER), {"title": "T" * 201})
    assert exc.value.errors == {"title": ["At most 200 characters."]}
