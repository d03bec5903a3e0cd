"""The cumulative weighted score and the ranked list: exact arithmetic, ties broken as
documented (higher score on the heaviest method first, then the earlier application),
and properties that hold for any plan and any scores."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jof.hr.scoring import Entry, Method, rank, weights_error
from tests.hr.conftest import HR, candidate

PLAN = [Method("Desk review", 30), Method("Written test", 30), Method("Interview", 40)]


def _entry(seq: int, desk: str, test: str, interview: str) -> Entry:
    return Entry(seq, seq * 10, seq * 100, {"Desk review": Decimal(desk), "Written test": Decimal(test),
                                            "Interview": Decimal(interview)})


def test_equal_totals_go_to_the_higher_interview_score():
    first = _entry(1, "100", "60", "80")   # 30 + 18 + 32 = 80
    second = _entry(2, "60", "80", "95")   # 18 + 24 + 38 = 80
    ranking = rank(PLAN, Decimal(70), [first, second])
    assert [r.total for r in ranking.rows] == [Decimal(80), Decimal(80)]
    assert [r.seq for r in ranking.rows] == [2, 1]


def test_equal_totals_and_interviews_go_to_the_higher_next_method_in_plan_order():
    first = _entry(1, "70", "90", "80")  # 21 + 27 + 32 = 80
    second = _entry(2, "90", "70", "80")  # 27 + 21 + 32 = 80
    ranking = rank(PLAN, Decimal(70), [first, second])
    # Desk review and written test weigh the same: the one listed first decides.
    assert ranking.tie_break == ("Interview", "Desk review", "Written test")
    assert [r.seq for r in ranking.rows] == [2, 1]


def test_identical_scores_go_to_the_earlier_application():
    later, earlier = _entry(5, "75", "75", "75"), _entry(2, "75", "75", "75")
    assert [r.seq for r in rank(PLAN, Decimal(70), [later, earlier]).rows] == [2, 5]


def test_a_total_exactly_at_the_pass_mark_passes_and_a_hair_below_does_not():
    at, below = _entry(1, "70", "70", "70"), _entry(2, "70", "70", "69.99")
    rows = rank(PLAN, Decimal(70), [at, below]).rows
    assert [(r.total, r.passed) for r in rows] == [(Decimal("70"), True), (Decimal("69.996"), False)]


def test_ties_through_the_api_follow_the_documented_order(hr):
    ref, (ana, bruno, carla) = hr.short_listed(
        [candidate("Ana Souza"), candidate("Bruno Lima"), candidate("Carla Dias")])
    hr.score(ref, carla["id"], "75", "75", "75")   # 75, applied third
    hr.score(ref, ana["id"], "75", "75", "75")     # 75, applied first
    hr.score(ref, bruno["id"], "60", "65", "93")   # 18 + 19.5 + 37.2 = 74.7
    ranking = hr.as_(HR).get(f"/api/v1/hr/recruitments/{ref}/ranking").get_json()
    assert [r["application_id"] for r in ranking["rows"]] == [ana["id"], carla["id"], bruno["id"]]
    assert [r["total"] for r in ranking["rows"]] == ["75.0000", "75.0000", "74.7000"]


# --- properties ---------------------------------------------------------------------------

weights = st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6)
score = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(weights)
def test_a_plan_is_accepted_exactly_when_its_weights_sum_to_100(ws):
    assert (weights_error(ws) is None) == (sum(ws) == 100)


@st.composite
def plans(draw):
    """Weights summing to 100: cut points in 1..99."""
    n = draw(st.integers(min_value=1, max_value=5))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=99), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 100]
    return [Method(f"m{i}", bounds[i + 1] - bounds[i]) for i in range(len(bounds) - 1)]


@settings(max_examples=200, deadline=None)
@given(plans(), st.data())
def test_the_order_scores_are_entered_in_does_not_change_the_ranks(plan, data):
    assert weights_error([m.weight for m in plan]) is None
    n = data.draw(st.integers(min_value=1, max_value=8))
    entries = [Entry(i, i, i, {m.name: data.draw(score) for m in plan}) for i in range(1, n + 1)]
    shuffled = list(entries)
    random.Random(data.draw(st.integers())).shuffle(shuffled)
    first, again = rank(plan, Decimal(70), entries), rank(plan, Decimal(70), shuffled)
    assert [(r.seq, r.rank, r.total) for r in first.rows] == [(r.seq, r.rank, r.total) for r in again.rows]
    # Exact: each total is the sum of its terms, within 0..100, and the list is sorted by it.
    for r in first.rows:
        assert r.total == sum(Decimal(e) * m.weight / 100 for e, m in
                              zip((t.score for t in r.terms), plan, strict=True))
        assert 0 <= r.total <= 100
    assert [r.total for r in first.rows] == sorted((r.total for r in first.rows), reverse=True)
