"""Gender and nationality statistics: aggregates only, never a count below 5, nor one that
can be worked out from those shown (Hypothesis), on the page and in the API."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from jof.hr.statistics import MIN_CELL, linked_table, suppress
from tests.hr.conftest import HR, MANAGER, REQUESTER, candidate

VALUES = st.sampled_from(["woman", "man", "non_binary", "other", "", "BR", "AR", "PT"])


@settings(max_examples=2000, deadline=None)
@given(st.dictionaries(VALUES, st.integers(min_value=0, max_value=40), max_size=8))
def test_no_shown_count_is_below_5_and_no_hidden_count_follows_from_the_others(counts):
    table = suppress("gender", counts)
    shown = [c.count for c in table.cells if c.count is not None]
    hidden = [counts[c.value] for c in table.cells if c.count is None]
    assert all(n >= MIN_CELL for n in shown)
    assert table.total is None or table.total >= MIN_CELL
    assert {c.value for c in table.cells} == {v for v, n in counts.items() if n > 0}
    assert all(counts[c.value] == c.count for c in table.cells if c.count is not None)
    if hidden and table.total is not None:
        # the total minus the shown counts gives only the hidden ones' sum: at least two of
        # them, together 5 or more, so none of them is known
        assert len(hidden) >= 2 and sum(hidden) >= MIN_CELL
    if not hidden and table.total is not None:
        assert sum(shown) == table.total


def _counts_shown(html: str, testid: str) -> list[int]:
    table = re.search(rf'data-testid="{testid}".*?</table>', html, re.S).group(0)
    return [int(n) for n in re.findall(r'class="text-end">(\d+)</td>', table)]


def _apply_many(hr, ref, n, gender, nationality, start=0):
    for i in range(start, start + n):
        hr.apply(ref, {**candidate(f"Person {i}"), "gender": gender, "nationality": nationality})


def test_the_statistics_page_and_api_show_aggregates_and_hide_small_groups(hr, web):
    ref = hr.advertised()
    _apply_many(hr, ref, 6, "woman", "BR")
    _apply_many(hr, ref, 5, "man", "BR", start=6)
    _apply_many(hr, ref, 2, "non_binary", "AR", start=11)
    _apply_many(hr, ref, 1, None, None, start=13)
    body = hr.as_(HR).get("/api/v1/hr/statistics").get_json()
    gender = next(t for t in body["tables"] if t["dimension"] == "gender")
    assert gender["total"] == 14
    cells = {c["value"]: c["count"] for c in gender["cells"]}
    # non_binary (2) and not declared (1) are below 5 and sum to 3: the smallest shown (man, 5) goes too
    assert cells == {"woman": 6, "man": None, "non_binary": None, "": None}
    assert {c["display"] for c in gender["cells"] if c["count"] is None} == {"fewer than 5"}
    nationality = next(t for t in body["tables"] if t["dimension"] == "nationality")
    # AR (2) and not declared (1) sum to 3: BR (11), the only other count, is hidden too
    assert {c["value"]: c["count"] for c in nationality["cells"]} == {"BR": None, "AR": None, "": None}

    html = web(HR).get("/hr/statistics").get_data(as_text=True)
    for testid in ("stats-gender", "stats-nationality"):
        assert all(n >= MIN_CELL for n in _counts_shown(html, testid))
    assert "fewer than 5" in html and "Brazil (BR)" in html and "Woman" in html


def test_agency_staff_see_their_own_agency_only(hr):
    ref = hr.advertised()
    _apply_many(hr, ref, 5, "woman", "BR")
    mine = hr.as_(REQUESTER).get("/api/v1/hr/statistics?agency=UNFPA").get_json()
    assert mine["agency"] == "UNDP" and mine["tables"][0]["total"] == 5
    theirs = hr.as_("requester@unfpa.jof.example").get("/api/v1/hr/statistics").get_json()
    assert theirs["agency"] == "UNFPA" and theirs["tables"][0]["total"] is None
    assert hr.as_(HR).get("/api/v1/hr/statistics?agency=UNFPA").get_json()["tables"][0]["cells"] == []
    assert hr.as_(HR).get("/api/v1/hr/statistics?agency=NOPE").status_code == 422


FINEST = st.dictionaries(st.tuples(st.sampled_from([2025, 2026]), st.sampled_from([1, 2, 3])),
                         st.dictionaries(VALUES, st.integers(min_value=0, max_value=12), max_size=5), max_size=6)


def _within(inner: tuple, outer: tuple) -> bool:
    return all(o is None or o == i for i, o in zip(inner, outer, strict=True))


@settings(max_examples=400, deadline=None)
@given(FINEST)
def test_no_pair_of_tables_a_reader_can_ask_for_gives_away_a_hidden_count(finest):
    keys = [(y, a) for y in (None, 2025, 2026) for a in (None, 1, 2, 3)]
    memo: dict = {}
    tables = {k: linked_table("gender", finest, *k, memo) for k in keys}
    for coarse in keys:
        for fine in keys:
            if fine == coarse or not _within(fine, coarse):
                continue
            big, small = tables[coarse], tables[fine]
            small_hidden = {c.value for c in small.cells if c.hidden}
            # a count shown in the bigger table is shown in every table within it: the
            # difference of two shown counts is a sum of shown counts, never a hidden one
            assert not small_hidden & {c.value for c in big.cells if not c.hidden}, (coarse, fine)
            if small.total is None and small.cells:
                assert big.total is None, (coarse, fine)
    for table in tables.values():
        assert all(c.count >= MIN_CELL for c in table.cells if not c.hidden)
        hidden = [c for c in table.cells if c.hidden]
        if hidden and table.total is not None:
            assert len(hidden) >= 2


def test_a_hidden_agency_count_is_not_given_away_by_the_all_agencies_table(hr):
    undp = hr.advertised()
    _apply_many(hr, undp, 6, "woman", "BR")
    _apply_many(hr, undp, 6, "man", "BR", start=6)
    unfpa = hr.file("requester@unfpa.jof.example")["reference"]
    hr.must("requester@unfpa.jof.example", unfpa, "submit")
    hr.must(MANAGER, unfpa, "approve")
    hr.must(HR, unfpa, "advertise")
    _apply_many(hr, unfpa, 2, "woman", "BR", start=20)
    _apply_many(hr, unfpa, 5, "man", "BR", start=30)

    def gender(query: str) -> dict:
        body = hr.as_(HR).get(f"/api/v1/hr/statistics{query}").get_json()
        return {c["value"]: c["count"] for c in body["tables"][0]["cells"]}

    assert gender("?agency=UNDP") == {"woman": 6, "man": 6}
    assert gender("?agency=UNFPA")["woman"] is None
    everyone = gender("")
    assert everyone["woman"] is None  # 8 − 6 would have told UNFPA's 2
